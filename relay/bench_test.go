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
	keys, nextKeys := oniontest.RelayKeys("middle"), oniontest.RelayKeys("next")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	r, err := relay.New(relay.Config{Identity: keys.Identity, OnionKey: keys.Onion, Nickname: "middle", Address: ln.Addr().String()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { r.Serve(ctx, ln); close(served) }()
	b.Cleanup(func() { cancel(); <-served })

	next, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { next.Close() })
	p := oniontest.Dial(b, ln.Addr().String())
	c := p.Create(1, keys.ID(), keys.OnionPub())
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, _ := next.Accept()
		accepted <- conn
	}()
	hs, create, err := onion.NewClientHandshake(nil, nextKeys.ID(), nextKeys.OnionPub())
	if err != nil {
		b.Fatal(err)
	}
	body, _ := onion.Extend{Create: create, Address: next.Addr().String()}.MarshalBinary()
	p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayExtend, Body: body}))
	conn := <-accepted
	if conn == nil {
		b.Fatal("the relay did not connect to the next hop")
	}
	np := oniontest.NewPeer(b, conn)
	np.Preface()
	created, _, err := oniontest.AnswerCreate(nextKeys.RelayKeys(), np.Recv())
	if err != nil {
		b.Fatal(err)
	}
	np.Send(created)
	if m := p.Msg(c); m.Cmd != onion.RelayExtended {
		b.Fatalf("EXTEND answered %v", m.Cmd)
	}
	k, err := hs.Finish(created.Payload)
	if err != nil {
		b.Fatal(err)
	}
	c.AddHop(k)

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
