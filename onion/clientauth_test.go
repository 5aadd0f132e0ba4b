package onion_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"onion/onion"
)

func x25519(b byte) *ecdh.PrivateKey {
	k, _ := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{b}, 32))
	return k
}

func authDescriptor(t testing.TB, clients ...*ecdh.PrivateKey) (onion.ServiceDescriptor, ed25519.PrivateKey, *ecdh.PrivateKey) {
	t.Helper()
	sk := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	e2e := x25519(2)
	d := onion.ServiceDescriptor{E2EKey: e2e.PublicKey().Bytes(), Published: 1700000000}
	for i, n := range []string{"relay1", "relay2"} {
		d.MeetingPoints = append(d.MeetingPoints, onion.MeetingPoint{Nickname: n, Address: "127.0.0.1:900" + string(rune('1'+i)),
			IdentityKey: bytes.Repeat([]byte{byte(10 + i)}, 32), OnionKey: bytes.Repeat([]byte{byte(20 + i)}, 32)})
	}
	var pubs [][]byte
	for _, c := range clients {
		pubs = append(pubs, c.PublicKey().Bytes())
	}
	if err := d.SealForClients(nil, e2e, sk.Public().(ed25519.PublicKey), pubs); err != nil {
		t.Fatal(err)
	}
	d.Sign(sk)
	return d, sk, e2e
}

// TestClientAuthRoundTrip: a revision-2 descriptor shows neither meeting
// points nor e2e key; each listed client opens it to the meeting points and
// an e2e key of its own; no key and an unlisted key get their errors.
func TestClientAuthRoundTrip(t *testing.T) {
	alice, bob, eve := x25519(3), x25519(4), x25519(5)
	d, sk, e2e := authDescriptor(t, alice, bob)
	raw, _ := json.Marshal(d)
	var got onion.ServiceDescriptor
	if err := json.Unmarshal(raw, &got); err != nil || got.Check() != nil {
		t.Fatalf("round trip: %v, Check %v", err, got.Check())
	}
	if len(got.MeetingPoints) != 0 || len(got.E2EKey) != 0 || bytes.Contains(raw, []byte("relay1")) || len(got.ClientAuth.Clients) != 16 {
		t.Fatalf("the clear part shows too much: %s", raw)
	}
	pub := sk.Public().(ed25519.PublicKey)
	for _, c := range []*ecdh.PrivateKey{alice, bob} {
		open, err := got.OpenForClient(c)
		if err != nil || len(open.MeetingPoints) != 2 || open.MeetingPoints[1].Nickname != "relay2" {
			t.Fatalf("open: %+v, %v", open, err)
		}
		want := onion.ClientE2EKey(e2e, pub, c.PublicKey().Bytes()).PublicKey().Bytes()
		if !bytes.Equal(open.E2EKey, want) || open.Check() == nil {
			// the opened form is for the client's use; its signature covers the sealed form
			t.Fatalf("open: e2e key %x, want %x", open.E2EKey, want)
		}
	}
	if _, err := got.OpenForClient(nil); !errors.Is(err, onion.ErrClientAuthRequired) {
		t.Fatalf("no key: %v", err)
	}
	if _, err := got.OpenForClient(eve); !errors.Is(err, onion.ErrClientAuthDenied) {
		t.Fatalf("unlisted key: %v", err)
	}
}

// TestClientAuthTamper: every field of the sealed part is signed, and
// bounds hold before the signature is judged.
func TestClientAuthTamper(t *testing.T) {
	for name, f := range map[string]func(d *onion.ServiceDescriptor){
		"sealed":       func(d *onion.ServiceDescriptor) { d.ClientAuth.Sealed[0] ^= 1 },
		"entry":        func(d *onion.ServiceDescriptor) { d.ClientAuth.Clients[3].Sealed[0] ^= 1 },
		"ephemeral":    func(d *onion.ServiceDescriptor) { d.ClientAuth.Ephemeral[0] ^= 1 },
		"short entry":  func(d *onion.ServiceDescriptor) { d.ClientAuth.Clients[0].ID = d.ClientAuth.Clients[0].ID[:7] },
		"fewer":        func(d *onion.ServiceDescriptor) { d.ClientAuth.Clients = d.ClientAuth.Clients[:15] },
		"clear e2e":    func(d *onion.ServiceDescriptor) { d.E2EKey = make([]byte, 32) },
		"as version 1": func(d *onion.ServiceDescriptor) { d.ClientAuth = nil },
	} {
		d, _, _ := authDescriptor(t, x25519(3))
		f(&d)
		if d.Check() == nil {
			t.Errorf("%s: tampered descriptor passes Check", name)
		}
	}
}

// TestClientAuthFitsTheDirectory: the largest revision-2 descriptor (64
// clients, 8 meeting points with the longest nicknames and host names) stays under the directory's
// 16 KiB bound.
func TestClientAuthFitsTheDirectory(t *testing.T) {
	sk := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	d := onion.ServiceDescriptor{E2EKey: x25519(2).PublicKey().Bytes(), Published: 1700000000}
	for i := range onion.MaxMeetingPoints {
		d.MeetingPoints = append(d.MeetingPoints, onion.MeetingPoint{Nickname: strings.Repeat("n", 31) + string(rune('a'+i)),
			Address: strings.Repeat("abcdefgh.", 27) + "example:65535", IdentityKey: bytes.Repeat([]byte{byte(10 + i)}, 32), OnionKey: bytes.Repeat([]byte{byte(20 + i)}, 32)})
	}
	var pubs [][]byte
	for i := range onion.MaxAuthClients {
		pubs = append(pubs, x25519(byte(100+i)).PublicKey().Bytes())
	}
	if err := d.SealForClients(nil, x25519(2), sk.Public().(ed25519.PublicKey), pubs); err != nil {
		t.Fatal(err)
	}
	d.Sign(sk)
	raw, _ := json.Marshal(d)
	if d.Check() != nil || len(raw) > 16<<10 {
		t.Fatalf("largest descriptor: %d bytes, Check %v", len(raw), d.Check())
	}
	t.Logf("largest revision-2 descriptor: %d bytes of JSON", len(raw))
}

// FuzzOpenForClient: any JSON a directory could serve, checked or not,
// opens or fails without a panic, and what opens passes the meeting-point
// rules.
func FuzzOpenForClient(f *testing.F) {
	d, _, _ := authDescriptor(f, x25519(3))
	raw, _ := json.Marshal(d)
	f.Add(raw)
	f.Add([]byte(`{"client_auth":{"ephemeral":"","clients":[{"id":"","sealed":""}],"sealed":""}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d onion.ServiceDescriptor
		if json.Unmarshal(b, &d) != nil {
			return
		}
		d.Check()
		open, err := d.OpenForClient(x25519(3))
		if err == nil && d.ClientAuth != nil && (len(open.E2EKey) != 32 || len(open.MeetingPoints) == 0) {
			t.Fatalf("opened to %+v", open)
		}
	})
}
