package relay_test

import (
	"context"
	"net"
	"testing"

	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// BenchmarkForwardCell: full DATA cells through a real relay in this
// process, as the middle of a circuit: the benchmark is the client before
// it (over a link on loopback) and the next relay after it. Per cell the
// relay reads it, checks and removes its layer, and writes the rest on.
// The client's sealing is done with the timer stopped.
func BenchmarkForwardCell(b *testing.B) {
	keys := oniontest.RelayKeys("middle")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	list := &relayList{}
	hop := listenTestHop(b, list, oniontest.RelayKeys("next"))
	r, err := relay.New(relay.Config{Identity: keys.Identity, OnionKey: keys.Onion, Nickname: "middle",
		Address: ln.Addr().String(), Relays: list, PlainLinks: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { r.Serve(ctx, ln); close(served) }()
	b.Cleanup(func() { cancel(); <-served })

	p := oniontest.Dial(b, ln.Addr().String())
	c := p.Create(1, keys.ID(), keys.OnionPub())
	np, _ := hop.extendTo(b, p, c)

	// The next hop counts what arrives; its Recv has a timeout, so a relay
	// that stops forwarding fails the benchmark instead of hanging it.
	got := make(chan struct{}, 64)
	go func() {
		for {
			if _, err := np.RecvErr(); err != nil {
				close(got)
				return
			}
			got <- struct{}{}
		}
	}()
	data := onion.RelayMsg{Cmd: onion.RelayData, Stream: 1, Body: make([]byte, onion.MaxData)}
	const batch = 64
	b.SetBytes(int64(len(data.Body)))
	b.ReportAllocs()
	b.ResetTimer()
	var wire []byte
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		b.StopTimer()
		wire = wire[:0]
		for range n {
			wire = onion.AppendCell(wire, c.Cell(data))
		}
		b.StartTimer()
		p.Write(wire)
		for range n {
			if _, ok := <-got; !ok {
				b.Fatal("the next hop's link ended")
			}
		}
		done += n
	}
}
