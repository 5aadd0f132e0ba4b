package testnet

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"onion/client"
	"onion/onion/oniontest"
	"onion/relay"
)

// TestIPv6Relays: relays that listen on [::1] publish bracketed addresses,
// test their reachability through each other over IPv6 (the connect-back),
// and carry a three-hop circuit: descriptors, EXTENDs and link dials all
// take the bracketed form.
func TestIPv6Relays(t *testing.T) {
	probe, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	logs := oniontest.NewLogs(t)
	n := Start(t, Options{Logger: logs.Logger(), Relay: func(i int, cfg *relay.Config) {
		cfg.Listener.Close()
		ln, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Listener = ln
	}})
	for _, r := range n.Relays {
		if !strings.HasPrefix(r.Addr, "[::1]:") {
			t.Fatalf("relay published %q, want [::1]:PORT", r.Addr)
		}
	}
	// Every relay but the first had another listed when it started.
	if got := len(logs.Find("reachability self-test passed: a listed relay reached this one at its address", nil)); got < len(n.Relays)-1 {
		t.Errorf("%d relays passed the self-test over IPv6, want at least %d", got, len(n.Relays)-1)
	}

	_, port, _ := net.SplitHostPort(echoServer(t))
	conn, err := n.Manager.DialStream(Deadline(t, 30*time.Second), client.DialRequest{Host: "127.0.0.1", Port: mustPort(t, port)})
	if err != nil {
		t.Fatalf("DialStream: %v", err)
	}
	defer conn.Close()
	conn.Write([]byte("over six"))
	conn.(interface{ CloseWrite() error }).CloseWrite()
	if got, err := io.ReadAll(conn); err != nil || string(got) != "over six" {
		t.Fatalf("echo through [::1] relays: %q, %v", got, err)
	}
	for _, h := range n.Manager.Circuits()[0].Path {
		if !strings.HasPrefix(h.Address, "[::1]:") {
			t.Errorf("circuit hop at %q, want [::1]:PORT", h.Address)
		}
	}
}
