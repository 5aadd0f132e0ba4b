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

// dataCellLen is the payload of a full DATA cell between the client and
// its guard: MaxData sealed in three layers, the largest cell a download
// sends (and the size onion's buffer pool is made for).
var dataCellLen = onion.SealedLen(onion.SealedLen(onion.SealedLen(onion.RelayHeaderLen + onion.MaxData)))

// forEachLinkKind runs f as sub-benchmarks "plain" and "tls".
func forEachLinkKind(b *testing.B, f func(b *testing.B, a, z *circuit.Link)) {
	for _, withTLS := range []bool{false, true} {
		name := "plain"
		if withTLS {
			name = "tls"
		}
		b.Run(name, func(b *testing.B) {
			a, z := benchLinks(b, withTLS)
			defer a.Close()
			defer z.Close()
			f(b, a, z)
		})
	}
}

// BenchmarkLinkThroughput: full DATA cells through one link over loopback,
// TLS against plain. Besides the rate (which on a busy machine says more
// about the other processes) it reports cpu-ns/op, the CPU both ends spent
// per cell (user + system, the whole process): the difference is what TLS
// costs a hop per cell (PERFORMANCE.md). Payloads go round from the reader
// back to the sender, as a relay's do through onion's buffer pool, so
// neither side allocates per cell, and the sender fills each before it
// sends it, as a relay writes a cell's payload (peeling a layer) just
// before it forwards it.
func BenchmarkLinkThroughput(b *testing.B) {
	forEachLinkKind(b, func(b *testing.B, a, z *circuit.Link) {
		b.SetBytes(int64(dataCellLen))
		back := make(chan []byte, 2*circuit.DefaultQueueLen)
		done := make(chan struct{})
		b.ResetTimer()
		cpu0 := cpuTime()
		go func() {
			defer close(done)
			for range b.N {
				c, err := z.ReadCell()
				if err != nil {
					return
				}
				select {
				case back <- c.Payload:
				default:
					onion.Recycle(c.Payload)
				}
			}
		}()
		fill := make([]byte, dataCellLen)
		for range b.N {
			var p []byte
			select {
			case p = <-back:
			default:
				p = make([]byte, dataCellLen, onion.PoolBufCap)
			}
			copy(p[:dataCellLen], fill)
			if err := a.Send(onion.Cell{CircID: 1, Cmd: onion.CmdRelay, Payload: p[:dataCellLen]}); err != nil {
				b.Fatal(err)
			}
		}
		<-done
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	})
}

// BenchmarkLinkRoundTrip: a small cell to the far end and back, one at a
// time (what a warm tiny GET's cells meet at each link), TLS against plain.
func BenchmarkLinkRoundTrip(b *testing.B) {
	forEachLinkKind(b, func(b *testing.B, a, z *circuit.Link) {
		go func() {
			for {
				c, err := z.ReadCell()
				if err != nil || z.Send(c) != nil {
					return
				}
			}
		}()
		payload := make([]byte, 100)
		b.ResetTimer()
		cpu0 := cpuTime()
		for range b.N {
			if err := a.Send(onion.Cell{CircID: 1, Cmd: onion.CmdRelay, Payload: append([]byte(nil), payload...)}); err != nil {
				b.Fatal(err)
			}
			if _, err := a.ReadCell(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	})
}
