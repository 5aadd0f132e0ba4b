package bench

// The plain SOCKS5 baseline: github.com/armon/go-socks5 alone, in this
// process, with no onion routing. It shows what any SOCKS5 hop costs, so
// that the onion figures can be read as "what three hops and their
// cryptography add".

import (
	"context"
	"io"
	"log"
	"net"

	socks5 "github.com/armon/go-socks5"
)

// noResolve keeps go-socks5 from DNS: a nil IP makes it dial the name as
// given (the benchmark only ever asks for 127.0.0.1).
type noResolve struct{}

func (noResolve) Resolve(ctx context.Context, _ string) (context.Context, net.IP, error) {
	return ctx, nil, nil
}

// plainProxy is a running go-socks5 server.
type plainProxy struct {
	ln   net.Listener
	done chan struct{}
}

func startPlainProxy() (*plainProxy, error) {
	srv, err := socks5.New(&socks5.Config{
		Resolver: noResolve{},
		Logger:   log.New(io.Discard, "", 0),
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &plainProxy{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		srv.Serve(ln) // returns when ln is closed
	}()
	return p, nil
}

func (p *plainProxy) addr() string { return p.ln.Addr().String() }

// Close stops accepting. go-socks5 does not track its conns; each ends when
// the benchmark's client closes it, which every measurement does.
func (p *plainProxy) Close() error {
	err := p.ln.Close()
	<-p.done
	return err
}
