package testnet

// Exit choice by port over a real network in one process (PROTOCOL.md
// §8.5): two exits whose policies allow one echo port each.

import (
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"onion/client"
	"onion/onion"
	"onion/relay"
)

// TestExitChosenByPort: a stream goes to the exit whose summary allows its
// port, streams of one key to two ports use two circuits, and a port no
// exit allows fails at once as "not allowed by exit policy", with no build.
// Budget: ~5 s.
func TestExitChosenByPort(t *testing.T) {
	a, b := echoServer(t), echoServer(t)
	_, portA, _ := net.SplitHostPort(a)
	_, portB, _ := net.SplitHostPort(b)
	n := Start(t, Options{Relays: 5, Exits: 2, Relay: func(i int, cfg *relay.Config) {
		port := []string{portA, portB}
		if i < 2 {
			// The summary counts rules for every address; the test
			// destinations are on loopback, which "private" names.
			p, err := relay.ParsePolicy(fmt.Sprintf("accept private:%[1]s,accept *:%[1]s,reject *:*", port[i]))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Policy = p
		}
	}})
	exitOf := func(port string) string {
		for _, c := range n.Manager.Circuits() {
			for _, d := range n.Manager.Relays() {
				if d.Fingerprint() == c.Path[2].Fingerprint && d.Summary().Allows(mustPort(t, port)) {
					return d.Nickname
				}
			}
		}
		return ""
	}
	for range 3 { // the same key: its circuit, or one of its own per port
		dialEcho(t, n, echoRequest(t, a))
		dialEcho(t, n, echoRequest(t, b))
	}
	if circs := n.Manager.Circuits(); len(circs) != 2 {
		t.Errorf("%d circuits for two ports with exits of one port each, want 2: %+v", len(circs), circs)
	}
	if exitOf(portA) == "" || exitOf(portB) == "" {
		t.Errorf("no circuit ends at the exit of each port: %+v", n.Manager.Circuits())
	}

	free := listen(t) // a port no exit allows
	free.Close()
	start := time.Now()
	_, err := n.Manager.DialStream(Deadline(t, 30*time.Second), echoRequest(t, free.Addr().String()))
	var oe *client.OpenError
	if !errors.As(err, &oe) || oe.Reason != onion.EndExitPolicy {
		t.Fatalf("a port no exit allows: %v, want an OpenError %v", err, onion.EndExitPolicy)
	}
	t.Logf("refused in %v: %v", time.Since(start).Round(time.Millisecond), err)
	if circs := n.Manager.Circuits(); len(circs) != 2 {
		t.Errorf("%d circuits after the refused port, want still 2", len(circs))
	}
}
