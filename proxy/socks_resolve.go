package proxy

// Tor's SOCKS5 extensions RESOLVE (0xF0) and RESOLVE_PTR (0xF1)
// (PROTOCOL.md §8.4), which torsocks uses for every name an application
// looks up: the exit resolves (client.Manager.Resolve); nothing is
// resolved here. go-socks5 knows neither command, so socksConn answers
// them as its AddressRewriter, which go-socks5 calls for every request
// after authentication and before it picks a handler by command: the
// reply is written here and the conn closed, so go-socks5's own "command
// not supported" fails on it, as after fail.
//
//	reply to RESOLVE:     VER 0 RSV ATYP(1|4) ADDR PORT(0)
//	reply to RESOLVE_PTR: VER 0 RSV ATYP(3) LEN NAME PORT(0)

import (
	"context"
	"errors"
	"time"

	socks5 "github.com/armon/go-socks5"

	"onion/client"
	"onion/onion"
)

const (
	socksCmdResolve    = 0xF0
	socksCmdResolvePTR = 0xF1
)

// NameResolver resolves names at an exit. A StreamDialer that implements
// it (client.Manager does) enables RESOLVE and RESOLVE_PTR; without it
// they are "command not supported".
type NameResolver interface {
	Resolve(ctx context.Context, req client.DialRequest, reverse bool) ([]onion.ResolvedAnswer, error)
}

// Rewrite is go-socks5's AddressRewriter: it answers RESOLVE and
// RESOLVE_PTR, and passes every other request on unchanged.
func (c *socksConn) Rewrite(ctx context.Context, r *socks5.Request) (context.Context, *socks5.AddrSpec) {
	nr, ok := c.srv.Dialer.(NameResolver)
	if !ok || r.Command != socksCmdResolve && r.Command != socksCmdResolvePTR {
		return ctx, r.DestAddr
	}
	c.SetDeadline(time.Time{}) // the handshake is over; the lookup has its own timeout
	req := c.dialRequest(r.DestAddr)
	reply, err := c.resolve(nr, req, r.Command == socksCmdResolvePTR)
	if err != nil {
		code := replyCode(err, c.srv.GenericErrors)
		var re *client.ResolveError
		if errors.As(err, &re) || errors.Is(err, client.ErrResolveOnion) {
			code = replyHostUnreachable
		}
		c.srv.log.Info("SOCKS RESOLVE failed", "reply", code)
		c.srv.log.Debug("SOCKS RESOLVE failed", "err", err)
		writeReply(c.Conn, code)
	} else {
		c.Conn.Write(reply)
	}
	c.Close()
	return ctx, r.DestAddr
}

// resolve asks the exit and encodes the first usable answer (an IPv4
// address first, as Tor does) as a SOCKS5 reply.
func (c *socksConn) resolve(nr NameResolver, req client.DialRequest, reverse bool) ([]byte, error) {
	if req.Host == "" {
		return nil, errors.New("RESOLVE without a name")
	}
	ctx, cancel := context.WithTimeout(c.srv.ctx, c.srv.connect)
	defer cancel()
	answers, err := nr.Resolve(ctx, req, reverse)
	if err != nil {
		return nil, err
	}
	var best *onion.ResolvedAnswer
	for i, a := range answers {
		switch {
		case reverse && a.Type == onion.ResolvedHostname && len(a.Name) <= 255:
			return append(append([]byte{socks5Version, 0, 0, 3, byte(len(a.Name))}, a.Name...), 0, 0), nil
		case !reverse && a.Type == onion.ResolvedIPv4:
			best = &answers[i]
		case !reverse && a.Type == onion.ResolvedIPv6 && best == nil:
			best = &answers[i]
		}
		if best != nil && best.Type == onion.ResolvedIPv4 {
			break
		}
	}
	if best == nil {
		return nil, &client.ResolveError{}
	}
	atyp := byte(1)
	if best.Type == onion.ResolvedIPv6 {
		atyp = 4
	}
	return append(append([]byte{socks5Version, 0, 0, atyp}, best.Addr.AsSlice()...), 0, 0), nil
}

// dialRequest is the request for d with the conn's identity: credentials,
// or the account, as Allow sets for a CONNECT.
func (c *socksConn) dialRequest(d *socks5.AddrSpec) client.DialRequest {
	req := client.DialRequest{Host: d.FQDN, Port: uint16(d.Port), Username: c.user, Password: c.pass}
	if c.account != "" {
		req.Isolation = "socks account\x00" + c.account
	}
	if d.FQDN == "" && d.IP != nil {
		req.Host = d.IP.String() // IPv6 without brackets
	}
	return req
}
