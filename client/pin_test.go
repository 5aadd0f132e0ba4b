package client

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"

	"onion/linktls"
	"onion/onion"
	"onion/onion/oniontest"
)

// TestFirstHopPinned: the client dials a first hop expecting the identity
// key its list holds for it. A listed relay whose address another relay
// answers (another key) is refused in the TLS handshake, before a cell:
// the build fails at hop 1 with an error naming the relay expected, and
// the relay that answered never gets a link. Its own descriptor, at the
// same address, gets a link of its own: links are keyed by address and
// identity, not by address alone.
func TestFirstHopPinned(t *testing.T) {
	oniontest.CheckLeaks(t)
	synctest.Test(t, func(t *testing.T) {
		tn := startNet(t, 4, 2)
		real := *tn.relay("relay4")
		ghostKeys := oniontest.RelayKeys("ghost")
		ghost := onion.RelayDescriptor{Nickname: "ghost", Address: real.Address, OnionKey: ghostKeys.OnionPub()}
		ghost.Sign(ghostKeys.Identity)
		m := tn.manager(t, newFakeClock(), nil)
		ctx := stepContext(t)

		_, hop, err := m.buildPath(ctx, []onion.RelayDescriptor{ghost, *tn.relay("relay3"), *tn.relay("relay1")})
		if err == nil {
			t.Fatal("a circuit was built through a relay that does not hold the listed key")
		}
		if hop != 0 || !errors.Is(err, linktls.ErrWrongPeer) {
			t.Fatalf("build failed at hop %d with %v, want hop 0 and ErrWrongPeer", hop, err)
		}
		want := "link to " + real.Address + ": peer is not relay " + ghost.Fingerprint()
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
		synctest.Wait()
		if n := len(tn.logs.Find("link opened", map[string]string{"role": "relay4"})); n != 0 {
			t.Errorf("relay4 got %d links from a client that wanted another relay", n)
		}

		c, _, err := m.buildPath(ctx, []onion.RelayDescriptor{real, *tn.relay("relay3"), *tn.relay("relay1")})
		if err != nil {
			t.Fatalf("build through the real relay at the same address: %v", err)
		}
		c.Close()
		synctest.Wait()
		if n := len(tn.logs.Find("link opened", map[string]string{"role": "relay4"})); n != 1 {
			t.Errorf("relay4 got %d links once the client wanted it, want 1", n)
		}
	})
}
