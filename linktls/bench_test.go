package linktls

import (
	"context"
	"crypto/ed25519"
	"net"
	"testing"

	"onion/onion"
	"onion/onion/circuit"
)

// benchLinks returns the two ends of a link over loopback TCP, with TLS
// under it or not.
func benchLinks(b *testing.B, withTLS bool) (*circuit.Link, *circuit.Link) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	id := ed25519.NewKeyFromSeed(make([]byte, 32))
	cfg, _ := ServerConfig(id, nil)
	type res struct {
		l   *circuit.Link
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil && withTLS {
			c, err = Server(context.Background(), c, cfg)
		}
		if err != nil {
			ch <- res{err: err}
			return
		}
		l, err := circuit.Handshake(c)
		ch <- res{l, err}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err == nil && withTLS {
		c, err = Client(context.Background(), c, id.Public().(ed25519.PublicKey))
	}
	if err != nil {
		b.Fatal(err)
	}
	l, err := circuit.Handshake(c)
	if err != nil {
		b.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		b.Fatal(r.err)
	}
	return l, r.l
}

// BenchmarkLinkThroughput: full cells through one link, TLS against
// plain; the difference is what TLS costs a hop (PERFORMANCE.md).
func BenchmarkLinkThroughput(b *testing.B) {
	for _, withTLS := range []bool{false, true} {
		name := "plain"
		if withTLS {
			name = "tls"
		}
		b.Run(name, func(b *testing.B) {
			a, z := benchLinks(b, withTLS)
			defer a.Close()
			defer z.Close()
			const payload = onion.MaxCellPayload
			b.SetBytes(payload)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range b.N {
					c, err := z.ReadCell()
					if err != nil {
						return
					}
					onion.Recycle(c.Payload)
				}
			}()
			buf := make([]byte, payload)
			for range b.N {
				if err := a.Send(onion.Cell{CircID: 1, Cmd: onion.CmdRelay, Payload: append([]byte(nil), buf...)}); err != nil {
					b.Fatal(err)
				}
			}
			<-done
		})
	}
}
