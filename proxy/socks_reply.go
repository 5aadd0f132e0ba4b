package proxy

// SOCKS5 reply codes (RFC 1928 §6) and the reply to a failed CONNECT: replyFor
// is the one place that picks its code, fail writes it. go-socks5 writes the
// replies it decides itself (succeeded, command or address type not
// supported, not allowed by Allow).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"onion/client"
	"onion/onion"
)

// socksReply is the REP field of a SOCKS5 reply.
type socksReply uint8

const (
	replyGeneralFailure     socksReply = 0x01
	replyNotAllowed         socksReply = 0x02
	replyNetworkUnreachable socksReply = 0x03
	replyHostUnreachable    socksReply = 0x04
	replyConnectionRefused  socksReply = 0x05
	replyTTLExpired         socksReply = 0x06
)

var socksReplyNames = [...]string{
	"succeeded", "general failure", "not allowed by ruleset", "network unreachable",
	"host unreachable", "connection refused", "TTL expired", "command not supported",
	"address type not supported",
}

func (r socksReply) String() string {
	if int(r) < len(socksReplyNames) {
		return socksReplyNames[r]
	}
	for _, o := range onionReplies {
		if o.code == r {
			return o.name
		}
	}
	return fmt.Sprintf("socksReply(0x%02x)", uint8(r))
}

// fail logs a failed CONNECT once at info, without the destination, then
// answers it with the reply code for err and closes the conn (go-socks5's
// own reply then fails on it). Logged first: once the client has its
// reply it may close the server, and the line must not depend on who wins.
func (c *socksConn) fail(err error) {
	code := replyCode(err, c.srv.GenericErrors)
	c.srv.log.Debug("SOCKS request failed", "reply", code, "err", err)
	if c.srv.ctx.Err() == nil { // shutting down: not worth an info line per client
		attrs := []any{"reply", code}
		if oe, ok := errors.AsType[*client.OpenError](err); ok {
			attrs = append(attrs, "reason", oe.Reason)
		}
		c.srv.log.Info("SOCKS request failed", attrs...)
	}
	writeReply(c.Conn, code)
	c.Close()
}

// replyFor maps a DialStream error to the reply the client gets: the exit's
// END reason where there is one, TTL expired for a timeout, else general
// failure (no circuit, and the like).
func replyFor(err error) socksReply {
	if oe, ok := errors.AsType[*client.OpenError](err); ok {
		switch oe.Reason {
		case onion.EndRefused:
			return replyConnectionRefused
		case onion.EndResolve:
			return replyHostUnreachable
		case onion.EndUnreachable:
			return replyNetworkUnreachable
		case onion.EndTimeout:
			return replyTTLExpired
		case onion.EndExitPolicy:
			return replyNotAllowed
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return replyTTLExpired
	}
	return replyGeneralFailure
}

// writeReply writes a reply with code and BND.ADDR 0.0.0.0:0, as go-socks5
// does for its failures: VER REP RSV ATYP(IPv4) ADDR PORT.
func writeReply(w io.Writer, code socksReply) error {
	_, err := w.Write([]byte{socks5Version, byte(code), 0, 1, 0, 0, 0, 0, 0, 0})
	return err
}
