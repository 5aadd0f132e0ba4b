package testnet

import (
	"io"
	"net"
	"testing"
	"time"

	"onion/client"
)

// BenchmarkDownload pushes b.N bytes... rather: one 64 MiB download per
// iteration from a local sink through three in-process hops, for CPU
// profiles of the data path (go test -bench Download -cpuprofile).
func BenchmarkDownload(b *testing.B) {
	b.Run("cc", func(b *testing.B) { benchDownload(b, false) })
	b.Run("nocc", func(b *testing.B) { benchDownload(b, true) })
}

// benchDownload is BenchmarkDownload with congestion control on or off.
func benchDownload(b *testing.B, noCC bool) {
	n := Start(b, Options{Proxy: func(cfg *client.Config) { cfg.NoCongestionControl = noCC }})
	const size = 64 << 20
	ln := listen(b)
	b.Cleanup(func() { ln.Close() })
	buf := make([]byte, 256<<10)
	go serveEach(ln, func(c net.Conn) {
		for sent := 0; sent < size; sent += len(buf) {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	p := mustPort(nil, port)
	b.SetBytes(size)
	for b.Loop() {
		ctx := Deadline(b, time.Minute)
		conn, err := n.Manager.DialStream(ctx, client.DialRequest{Host: "127.0.0.1", Port: p})
		if err != nil {
			b.Fatal(err)
		}
		got, err := io.Copy(io.Discard, conn)
		conn.Close()
		if err != nil || got != size {
			b.Fatalf("read %d bytes, %v", got, err)
		}
	}
}
