package bench

// Helper processes for baselines that must not share the benchmark's own
// process: the plain SOCKS5 proxy (github.com/armon/go-socks5 alone, with
// no onion routing, in another process as the onion proxy is: it shows
// what any SOCKS5 hop costs, so that the onion figures read as "what three
// hops and their cryptography add"), and a chain of plain TCP forwarders that has as many
// processes between the client and the destination as the onion path
// (proxy, three relays) but no cryptography and no protocol. On a machine
// where waking a sleeping process costs tens of microseconds, that "hop
// floor" is what any four-process path pays, and the onion figures are
// best read against it. `onion bench-hop` runs one of them; ServeHop is its
// body.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	socks5 "github.com/armon/go-socks5"

	"onion/internal/launch"
)

// noResolve keeps go-socks5 from DNS: a nil IP makes it dial the name as
// given (the benchmark only ever asks for 127.0.0.1).
type noResolve struct{}

func (noResolve) Resolve(ctx context.Context, _ string) (context.Context, net.IP, error) {
	return ctx, nil, nil
}

// Hop modes.
const (
	HopSOCKS   = "socks"   // go-socks5; with a target, every CONNECT goes to it
	HopForward = "forward" // every connection is spliced to the target
)

// ServeHop listens on a free loopback port, writes a ready line with the
// address to out ("bench-hop ready addr=HOST:PORT", see launch.ParseReady),
// and serves mode until ctx ends.
func ServeHop(ctx context.Context, mode, target string, out io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	switch mode {
	case HopSOCKS:
		cfg := &socks5.Config{Resolver: noResolve{}, Logger: log.New(io.Discard, "", 0)}
		if target != "" {
			cfg.Dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "tcp", target)
			}
		}
		srv, err := socks5.New(cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "bench-hop ready addr=%s\n", ln.Addr())
		srv.Serve(ln)
	case HopForward:
		if target == "" {
			return errors.New("forward: no target")
		}
		fmt.Fprintf(out, "bench-hop ready addr=%s\n", ln.Addr())
		for {
			c, err := ln.Accept()
			if err != nil {
				break
			}
			go forward(c, target)
		}
	default:
		return fmt.Errorf("unknown hop mode %q", mode)
	}
	return ctx.Err()
}

func forward(c net.Conn, target string) {
	defer c.Close()
	t, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer t.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(t, c)
		t.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(c, t)
	c.(*net.TCPConn).CloseWrite()
	<-done
}

// hopProc is a running `onion bench-hop`.
type hopProc struct {
	child *launch.Child
	addr  string
}

// hopStopTimeout bounds how long a helper gets to exit on SIGTERM.
const hopStopTimeout = 5 * time.Second

// startHop runs exe bench-hop and waits for its ready line.
func startHop(ctx context.Context, exe, mode, target string) (*hopProc, error) {
	c := launch.New("bench-hop "+mode, exe, "bench-hop", "--mode", mode, "--to", target)
	c.ReadyTimeout = 10 * time.Second
	fields, err := c.Start(ctx)
	if err != nil {
		return nil, err
	}
	return &hopProc{child: c, addr: fields["addr"]}, nil
}

func (h *hopProc) Close() error {
	if h == nil {
		return nil
	}
	return h.child.Stop(hopStopTimeout)
}
