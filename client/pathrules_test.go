package client

// Path rules through the manager (PROTOCOL.md §8.5): lab mode, exits
// chosen by port, a key's circuit per port its exit refuses.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"onion/onion"
	"onion/onion/oniontest"
)

// sameHostDescriptors are n relays on one address, as on a lab machine.
func sameHostDescriptors(n int) []onion.RelayDescriptor {
	out := descriptors(n, n)
	for i := range out {
		k := oniontest.RelayKeys(out[i].Nickname)
		out[i].Address = fmt.Sprintf("127.0.0.1:%d", 9001+i)
		out[i].Sign(k.Identity)
	}
	return out
}

func TestPathLabMode(t *testing.T) {
	relays := sameHostDescriptors(4)
	m := pathManager(t, relays, newFakeClock(), 1)
	if path, err := m.pickPathTo(nil); !errors.Is(err, ErrNotEnoughRelays) {
		t.Fatalf("four relays on 127.0.0.1 without lab mode: path %v, err %v; want ErrNotEnoughRelays", nicknames(path), err)
	}
	lab := NewManager(Config{Directory: fixedDir{relays}, Rand: oniontest.Rand(1), Now: newFakeClock().Now, Lab: true})
	t.Cleanup(lab.Close)
	if err := lab.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		path, err := lab.pickPathTo(nil)
		if err != nil {
			t.Fatalf("lab mode: %v", err)
		}
		checkPath(t, path)
	}
}

// policyDescriptors: relay1 accepts 80 and 443 only, relay2 refuses 25
// and 80, relays 3-5 are no exits.
func policyDescriptors() []onion.RelayDescriptor {
	relays := descriptors(5, 2)
	for i, p := range []string{"accept 80,443", "reject 25,80"} {
		relays[i].ExitPolicy = p
		relays[i].Sign(oniontest.RelayKeys(relays[i].Nickname).Identity)
	}
	return relays
}

func TestPathExitByPort(t *testing.T) {
	m := pathManager(t, policyDescriptors(), newFakeClock(), 2)
	for _, c := range []struct {
		port uint16
		exit string
	}{{80, "relay1"}, {22, "relay2"}} {
		for range 30 {
			path, err := m.pickPath(nil, c.port)
			if err != nil {
				t.Fatalf("port %d: %v", c.port, err)
			}
			if got := path[pathLen-1].Nickname; got != c.exit {
				t.Fatalf("port %d: exit %s, want %s", c.port, got, c.exit)
			}
		}
	}
	_, err := m.pickPath(nil, 25)
	var oe *OpenError
	if !errors.As(err, &oe) || oe.Reason != onion.EndExitPolicy {
		t.Fatalf("port 25, which no exit allows: err %v, want an OpenError %v", err, onion.EndExitPolicy)
	}
	t.Log(err)
}

// TestExitKeyPerPort: streams of one key share its circuit while its exit
// allows their port, and get a circuit of their own otherwise.
func TestExitKeyPerPort(t *testing.T) {
	relays := policyDescriptors()
	m := pathManager(t, relays, newFakeClock(), 3)
	ce := &circEntry{key: "k", path: []onion.RelayDescriptor{relays[2], relays[3], relays[0]}}
	m.mu.Lock()
	m.current["k"] = ce
	m.mu.Unlock()
	if got := m.exitKey("k", 443); got != "k" {
		t.Errorf("port 443, allowed by the circuit's exit: key %q, want k", got)
	}
	if got := m.exitKey("k", 22); got == "k" || got[:1] != "k" {
		t.Errorf("port 22, refused by the circuit's exit: key %q, want one of its own starting with k", got)
	}
	if got := m.exitKey("other", 22); got != "other" {
		t.Errorf("a key without a circuit: %q", got)
	}
}

// TestPathFamilies: two relays that name each other are never on one
// path; a one-sided declaration changes nothing.
func TestPathFamilies(t *testing.T) {
	relays := descriptors(6, 3)
	sign := func(i int) { relays[i].Sign(oniontest.RelayKeys(relays[i].Nickname).Identity) }
	relays[0].Family = []string{relays[3].Fingerprint()} // mutual: relay1 and relay4
	relays[3].Family = []string{relays[0].Fingerprint()}
	relays[1].Family = []string{relays[4].Fingerprint()} // one-sided: relay2 names relay5
	for _, i := range []int{0, 1, 3} {
		sign(i)
	}
	m := pathManager(t, relays, newFakeClock(), 4)
	oneSided := false
	for range draws {
		path, err := m.pickPathTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		names := nicknames(path)
		if slices.Contains(names, "relay1") && slices.Contains(names, "relay4") {
			t.Fatalf("path %v holds a family", names)
		}
		oneSided = oneSided || slices.Contains(names, "relay2") && slices.Contains(names, "relay5")
	}
	if !oneSided {
		t.Errorf("relay2 and relay5 (one-sided family) never shared a path in %d", draws)
	}
}
