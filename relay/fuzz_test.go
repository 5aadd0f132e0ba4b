package relay_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// FuzzInboundLink writes arbitrary bytes after a valid preface to a real
// relay (an exit, so BEGIN paths are reachable too) and checks that it
// never panics or hangs: each link ends within the deadline, and the relay
// still completes a CREATE on a fresh link afterwards.
func FuzzInboundLink(f *testing.F) {
	keys := oniontest.RelayKeys("fuzz")
	_, create, err := onion.NewClientHandshake(nil, keys.ID(), keys.OnionPub())
	if err != nil {
		f.Fatal(err)
	}
	valid := onion.AppendCell(nil, onion.Cell{CircID: 1, Cmd: onion.CmdCreate, Payload: create})
	f.Add(valid)
	f.Add(append(append([]byte{}, valid...), onion.AppendCell(nil, onion.Cell{CircID: 1, Cmd: onion.CmdRelay, Payload: make([]byte, 80)})...))
	f.Add(onion.AppendCell(nil, onion.Cell{CircID: 0, Cmd: onion.CmdDestroy, Payload: []byte{1}}))
	f.Add([]byte{0, 0, 0, 1, 9, 0xff, 0xff})
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	r, err := relay.New(relay.Config{
		Identity: keys.Identity, OnionKey: keys.Onion, Nickname: "fuzz",
		Address: ln.Addr().String(), Exit: true, Policy: relay.RejectPrivate,
		PlainLinks: true, // the fuzzer writes a link's plaintext
	})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- r.Serve(ctx, ln) }()
	f.Cleanup(func() { cancel(); <-served })

	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		go io.Copy(io.Discard, c)
		c.Write([]byte(onion.LinkPreface))
		c.Write(b)
		c.(*net.TCPConn).CloseWrite()
	})
	// After all of that, the relay still answers CREATE.
	p := oniontest.Dial(f, ln.Addr().String())
	p.Create(7, keys.ID(), keys.OnionPub())
}
