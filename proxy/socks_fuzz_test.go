package proxy

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	socks5 "github.com/armon/go-socks5"

	"onion/onion"
)

// FuzzSOCKSHandshake sends arbitrary bytes as a client's whole input to a
// SOCKSServer (greeting, username/password, request, data: go-socks5's
// parsing with socksConn around it). Whatever comes, the server ends the
// conn without a panic; it chooses username/password when offered, else
// no-auth if offered; and a CONNECT that reaches DialStream carries the
// credentials sent, an Early that is the start of what followed the request
// (none for onion hosts, at most optimisticMax), and everything that followed
// comes back through the echo stream exactly once.
func FuzzSOCKSHandshake(f *testing.F) {
	f.Add([]byte{5, 2, 0, 2, 1, 5, 'a', 'l', 'i', 'c', 'e', 2, 'p', 'w'})
	f.Add(append([]byte{5, 2, 0, 2, 1, 1, 'u', 2, 'p', 'w'}, append(socksRequest(1, "site.test", 80), "early"...)...))
	f.Add(append([]byte{5, 1, 0}, append(socksRequest(1, "2001:db8::1", 443), "x"...)...))
	f.Add(append([]byte{5, 1, 0}, socksRequest(2, "192.0.2.1", 1)...))
	f.Add([]byte{4, 1, 0, 80})
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{5, 255})
	f.Add([]byte{5, 3, 2, 2, 0, 1, 0, 0})

	d := socksEchoDialer(f)
	errs := &socksLogBuffer{}
	srv := &SOCKSServer{Dialer: d, HandshakeTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(errs, &slog.HandlerOptions{Level: slog.LevelError}))}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	go srv.Serve(ln)
	f.Cleanup(func() { srv.Close() })

	f.Fuzz(func(t *testing.T, in []byte) {
		dials := len(d.requests())
		c := socksDialRaw(t, ln.Addr().String())
		go func() {
			c.Write(in) // fails if the server has closed already: fine
			c.CloseWrite()
		}()
		out, err := io.ReadAll(c)
		if err != nil && !socksIsReset(err) {
			t.Fatalf("server did not end the conn: %v", err)
		}
		if errs.String() != "" {
			t.Fatalf("logged an error:\n%s", errs)
		}
		got := socksHandshakeOf(in)
		if got.method >= 0 && len(out) >= 2 && out[1] != byte(got.method) {
			t.Fatalf("method 0x%02x, want 0x%02x", out[1], got.method)
		}
		if len(d.requests()) == dials {
			return
		}
		req := d.last(t)
		if got.end < 0 || req.Username != got.user || req.Password != got.pass {
			t.Fatalf("client.DialRequest %+v for a handshake that ends at %d with %q:%q", req, got.end, got.user, got.pass)
		}
		rest := in[got.end:]
		if len(req.Early) > optimisticMax || !bytes.HasPrefix(rest, req.Early) ||
			onion.IsOnionHost(req.Host) && req.Early != nil {
			t.Fatalf("Early %q for %q, with %q behind the request", req.Early, req.Host, rest)
		}
		if !bytes.HasSuffix(out, rest) || len(out) != got.replies+len(rest) {
			t.Fatalf("got %q back, want the replies then %q once", out, rest)
		}
	})
}

// socksHandshake is what a SOCKS5 server must make of a client's input: the
// method it chooses (-1 if it cannot tell), the credentials, the length of
// the handshake through the request (-1 if incomplete) and of the replies
// to it.
type socksHandshake struct {
	method     int
	user, pass string
	end        int
	replies    int
}

func socksHandshakeOf(in []byte) socksHandshake {
	h := socksHandshake{method: -1, end: -1}
	if len(in) < 2 || in[0] != 5 || len(in) < 2+int(in[1]) {
		return h
	}
	methods := in[2 : 2+int(in[1])]
	switch {
	case bytes.IndexByte(methods, socks5.UserPassAuth) >= 0:
		h.method = int(socks5.UserPassAuth)
	case bytes.IndexByte(methods, socks5.NoAuth) >= 0:
		h.method = int(socks5.NoAuth)
	default:
		h.method = 0xff
		return h
	}
	i := len(methods) + 2
	h.replies = 2 + 10 // method, request
	if h.method == int(socks5.UserPassAuth) {
		u, okU := socksField(in, i+1)
		p, okP := socksField(in, i+2+len(u))
		if !okU || !okP {
			return h
		}
		i += 3 + len(u) + len(p)
		h.user, h.pass, h.replies = string(u), string(p), h.replies+2
	}
	if len(in) < i+5 {
		return h
	}
	switch in[i+3] {
	case 1:
		i += 4 + 4 + 2
	case 4:
		i += 4 + 16 + 2
	case 3:
		i += 4 + 1 + int(in[i+4]) + 2
	default:
		return h
	}
	if len(in) >= i {
		h.end = i
	}
	return h
}

// socksField returns the length-prefixed field at in[i], if all there.
func socksField(in []byte, i int) ([]byte, bool) {
	if i >= len(in) || i+1+int(in[i]) > len(in) {
		return nil, false
	}
	return in[i+1 : i+1+int(in[i])], true
}
