package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onion/directory"
	"onion/linktls"
	"onion/onion"
	"onion/onion/oniontest"
)

// TestRelayRefusesUnlistedExtend: a real relay process extends circuits
// only to relays of its verified list at their listed address. The test
// plays a client: it builds a one-hop circuit to relay1 and asks it to
// EXTEND to a port on 127.0.0.1 that the test listens on, first naming a
// made-up relay, then relay2's keys. Both are answered EXTEND_FAILED(not
// listed), nothing connects to the port, and relay1's log says why without
// the address. The same circuit then extends to relay2 at its listed
// address (relay2 started after relay1's first list: relay1 fetches the
// list again to find it).
func TestRelayRefusesUnlistedExtend(t *testing.T) {
	dir := t.TempDir()
	_, url, key := startLabDirectory(t, filepath.Join(dir, "directory"))
	var relays []*proc
	for _, name := range []string{"relay1", "relay2"} {
		relays = append(relays, startProc(t, name, "relay", "--listen", "127.0.0.1:0",
			"--directory", url, "--directory-key", key, "--nickname", name, "--data-dir", filepath.Join(dir, name)))
	}
	listed := listedRelays(t, url, key)
	guard, next := listed[relays[0].ready["fingerprint"]], listed[relays[1].ready["fingerprint"]]

	var probed atomic.Int64
	probe := fmt.Sprintf("127.0.0.1:%d", startTCPServer(t, func(net.Conn) { probed.Add(1) }))
	// The test's link comes from 127.0.0.2, so the probe on 127.0.0.1 is
	// a third party's address: a link may have a relay connect back to its
	// own IP only (PROTOCOL.md §3.3, the connect-back).
	conn, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).Dial("tcp", guard.Address)
	if err != nil {
		t.Fatal(err)
	}
	p := oniontest.NewPeer(t, tlsTo(t, conn, guard.IdentityKey))
	p.Preface()
	c := p.Create(1, guard.IdentityKey, guard.OnionKey)
	madeUp := oniontest.RelayKeys("made-up")
	for _, tc := range []struct {
		name     string
		id, onio []byte
	}{
		{"a made-up relay", madeUp.ID(), madeUp.OnionPub()},
		{"relay2 at another address", next.IdentityKey, next.OnionKey},
	} {
		_, create, err := onion.NewClientHandshake(nil, tc.id, tc.onio)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := onion.Extend{Create: create, Address: probe}.MarshalBinary()
		p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayExtend, Body: body}))
		m := p.Msg(c)
		if m.Cmd != onion.RelayExtendFailed || len(m.Body) != 1 || onion.DestroyReason(m.Body[0]) != onion.DestroyNotListed {
			t.Errorf("EXTEND to %s at %s answered %v %x, want EXTEND_FAILED(%v)", tc.name, probe, m.Cmd, m.Body, onion.DestroyNotListed)
		}
	}
	p.Extend(c, next.IdentityKey, next.OnionKey, next.Address)
	if n := probed.Load(); n != 0 {
		t.Errorf("%d connections reached %s", n, probe)
	}
	out := relays[0].out
	if !out.contains("level=INFO", `msg="extend failed"`, `reason="next relay not listed"`) {
		t.Error(`relay1 did not log "extend failed" with its reason at info`)
	}
	if out.contains(probe) {
		t.Errorf("relay1 logged the address %s at info", probe)
	}
}

// TestDirectoryRefusesPrivateRelay: a directory run without
// --allow-private-addresses refuses a relay that would have every relay
// dial 127.0.0.1:25, with a message that says what to do.
func TestDirectoryRefusesPrivateRelay(t *testing.T) {
	d := startProc(t, "directory", "directory", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	k := oniontest.RelayKeys("loopback")
	desc := onion.RelayDescriptor{Nickname: "loopback", Address: "127.0.0.1:25", OnionKey: k.OnionPub(), Published: time.Now().Unix()}
	desc.Sign(k.Identity)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := (&directory.Client{URL: d.ready["url"]}).Publish(ctx, desc)
	var se *directory.StatusError
	if !errors.As(err, &se) || se.StatusCode != 400 || !strings.Contains(se.Message, "--allow-private-addresses") {
		t.Fatalf("publish at 127.0.0.1:25: %v, want 400 naming --allow-private-addresses", err)
	}
}

// startLabDirectory starts a directory on 127.0.0.1:0 with its data in
// dataDir, and returns it with its URL and key. Like every part of these
// tests, its relays are on 127.0.0.1, which a directory lists only when
// told to (--allow-private-addresses).
func startLabDirectory(t *testing.T, dataDir string) (*proc, string, string) {
	t.Helper()
	d := startProc(t, "directory", "directory", "--allow-private-addresses", "--max-relays-per-address", "64",
		"--listen", "127.0.0.1:0", "--data-dir", dataDir)
	url, key := d.ready["url"], d.ready["key"]
	if url == "" || key == "" {
		t.Fatalf("directory ready line without url or key: %v", d.ready)
	}
	return d, url, key
}

// introduceRelays has every relay extend a circuit to every other relay,
// as a client would, so that each holds a list with them all: a relay
// that does not know the next relay fetches the list again. A test that
// kills the directory needs this first, since a relay learns of relays
// listed after its last fetch from the directory alone (PROTOCOL.md §10).
func introduceRelays(t *testing.T, url, key string) {
	t.Helper()
	listed := listedRelays(t, url, key)
	for _, from := range listed {
		conn, err := net.Dial("tcp", from.Address)
		if err != nil {
			t.Fatal(err)
		}
		p := oniontest.NewPeer(t, tlsTo(t, conn, from.IdentityKey))
		p.Preface()
		id := uint32(1)
		for _, to := range listed {
			if to.Address == from.Address {
				continue
			}
			p.Extend(p.Create(id, from.IdentityKey, from.OnionKey), to.IdentityKey, to.OnionKey, to.Address)
			id++
		}
		p.Conn.Close()
	}
}

// listedRelays fetches the directory's verified list, by fingerprint.
func listedRelays(t *testing.T, url, key string) map[string]onion.RelayDescriptor {
	t.Helper()
	k, err := onion.DecodeDirectoryKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	l, err := (&directory.Client{URL: url, Key: k}).Relays(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]onion.RelayDescriptor{}
	for _, d := range l.Relays {
		out[d.Fingerprint()] = d
	}
	return out
}

// tlsTo runs TLS on conn as a client of the relay with identity key id
// does (PROTOCOL.md §2.1).
func tlsTo(t *testing.T, conn net.Conn, id []byte) net.Conn {
	t.Helper()
	tc, err := linktls.Client(t.Context(), conn, id)
	if err != nil {
		t.Fatal(err)
	}
	return tc
}
