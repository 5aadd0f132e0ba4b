package onion_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"

	"onion/onion"
)

func authFixture(t testing.TB) (ed25519.PublicKey, []byte, onion.AuthChallenge, onion.AuthProof) {
	t.Helper()
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey)
	v, err := onion.DeriveVerifier(pub, "alice", "correct horse", onion.MinAuthLogN)
	if err != nil {
		t.Fatal(err)
	}
	ch := onion.AuthChallenge{LogN: onion.MinAuthLogN}
	ch.Nonce[0] = 1
	p := onion.AuthProof{User: "alice"}
	p.Nonce[0] = 2
	p.Proof = onion.ClientProof(v, pub, ch, p)
	return pub, v, ch, p
}

// TestAuthProofs: the right password verifies both ways; a wrong password,
// another challenge (a replay), another user or another service does not.
func TestAuthProofs(t *testing.T) {
	pub, v, ch, p := authFixture(t)
	if !onion.ProofEqual(p.Proof, onion.ClientProof(v, pub, ch, p)) {
		t.Fatal("client proof does not verify with the right verifier")
	}
	if onion.ProofEqual(onion.ServerProof(v, pub, ch, p), p.Proof) {
		t.Fatal("server proof equals client proof: a service could echo the client's")
	}
	wrong, _ := onion.DeriveVerifier(pub, "alice", "wrong", onion.MinAuthLogN)
	if onion.ProofEqual(p.Proof, onion.ClientProof(wrong, pub, ch, p)) {
		t.Fatal("wrong password verifies")
	}
	replay := ch
	replay.Nonce[0] = 9
	if onion.ProofEqual(p.Proof, onion.ClientProof(v, pub, replay, p)) {
		t.Fatal("proof for one challenge verifies for another (replay)")
	}
	bob := p
	bob.User = "bob"
	if onion.ProofEqual(p.Proof, onion.ClientProof(v, pub, ch, bob)) {
		t.Fatal("proof verifies for another user")
	}
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32)).Public().(ed25519.PublicKey)
	if bytes.Equal(onion.AuthSalt(pub, "alice"), onion.AuthSalt(other, "alice")) ||
		bytes.Equal(onion.AuthSalt(pub, "alice"), onion.AuthSalt(pub, "bob")) {
		t.Fatal("salt does not depend on service and user")
	}
}

func TestAuthMessagesRoundTrip(t *testing.T) {
	_, _, ch, p := authFixture(t)
	b, _ := ch.MarshalBinary()
	var ch2 onion.AuthChallenge
	if err := ch2.UnmarshalBinary(b); err != nil || ch2 != ch {
		t.Fatalf("challenge round trip: %v", err)
	}
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var p2 onion.AuthProof
	if err := p2.UnmarshalBinary(b); err != nil || p2 != p {
		t.Fatalf("proof round trip: %v", err)
	}
	for _, r := range []onion.AuthResult{{}, {OK: true, Proof: p.Proof}} {
		b, _ := r.MarshalBinary()
		var r2 onion.AuthResult
		if err := r2.UnmarshalBinary(b); err != nil || r2 != r {
			t.Fatalf("result round trip %+v: %v", r, err)
		}
	}
	for i := 0; i < len(b); i++ {
		var r2 onion.AuthResult
		if err := r2.UnmarshalBinary(b[:i]); i > 1 && err == nil {
			t.Fatalf("result prefix of %d bytes parsed", i)
		}
	}
}

func TestAuthRejects(t *testing.T) {
	var ch onion.AuthChallenge
	for _, logN := range []byte{0, onion.MinAuthLogN - 1, onion.MaxAuthLogN + 1, 255} {
		b := append([]byte{logN}, make([]byte, onion.AuthNonceLen)...)
		if err := ch.UnmarshalBinary(b); !errors.Is(err, onion.ErrAuthCost) {
			t.Errorf("challenge with logN %d: %v", logN, err)
		}
	}
	if err := ch.UnmarshalBinary([]byte{onion.DefaultAuthLogN}); !errors.Is(err, onion.ErrBadAuth) {
		t.Errorf("short challenge: %v", err)
	}
	if _, err := onion.DeriveVerifier(nil, "a", "b", onion.MaxAuthLogN+1); err == nil {
		t.Error("DeriveVerifier accepted a cost above the bound")
	}
	for _, u := range []string{"", "has space", "tab\t", string(make([]byte, onion.MaxUserLen+1)), "ünï"} {
		if _, err := (onion.AuthProof{User: u}).MarshalBinary(); err == nil {
			t.Errorf("user %q accepted", u)
		}
	}
}

// TestAuthCostFloor: a service cannot make a client answer with a cheap
// verifier. Every cost from the old floor (10) to just below the new one
// is refused, each with an error that names the cost asked for; the floor
// itself is answered.
func TestAuthCostFloor(t *testing.T) {
	if onion.MinAuthLogN < 14 {
		t.Fatalf("MinAuthLogN = %d: a service could ask for a verifier cheap to guess offline", onion.MinAuthLogN)
	}
	for logN := byte(10); logN < onion.MinAuthLogN; logN++ {
		var ch onion.AuthChallenge
		err := ch.UnmarshalBinary(append([]byte{logN}, make([]byte, onion.AuthNonceLen)...))
		if !errors.Is(err, onion.ErrAuthCost) || !strings.Contains(err.Error(), fmt.Sprintf("2^%d", logN)) {
			t.Errorf("challenge with logN %d: %v, want ErrAuthCost naming 2^%d", logN, err, logN)
		}
		if _, err := onion.DeriveVerifier(nil, "a", "b", logN); err == nil {
			t.Errorf("DeriveVerifier accepted cost 2^%d", logN)
		}
	}
	var ch onion.AuthChallenge
	if err := ch.UnmarshalBinary(append([]byte{onion.MinAuthLogN}, make([]byte, onion.AuthNonceLen)...)); err != nil || ch.LogN != onion.MinAuthLogN {
		t.Errorf("challenge at the floor: %v", err)
	}
}

func TestCheckURL(t *testing.T) {
	good := []string{"http://example.com/", "https://a.b/c?d=e#f", "http://93.184.215.14:8080/"}
	bad := []string{"file:///etc/passwd", "javascript:alert(1)", "ftp://x/", "http://", "https://user:pw@x/",
		"http://a b/", "http://x/\n", "//x/", "http://127.0.0.1:8080/", "http://x.com/" + string(make([]byte, onion.MaxURLLen))}
	for _, u := range good {
		if err := onion.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v", u, err)
		}
	}
	for _, u := range bad {
		if err := onion.CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) accepted", u)
		}
	}
}

func FuzzAuthMessages(f *testing.F) {
	_, _, ch, p := authFixture(f)
	b1, _ := ch.MarshalBinary()
	b2, _ := p.MarshalBinary()
	b3, _ := onion.AuthResult{OK: true}.MarshalBinary()
	for _, b := range [][]byte{b1, b2, b3, {0}, {}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c onion.AuthChallenge
		if c.UnmarshalBinary(b) == nil {
			if out, _ := c.MarshalBinary(); !bytes.Equal(out, b) {
				t.Fatalf("challenge re-encodes differently")
			}
		}
		var p onion.AuthProof
		if p.UnmarshalBinary(b) == nil {
			if out, err := p.MarshalBinary(); err != nil || !bytes.Equal(out, b) {
				t.Fatalf("proof re-encodes differently: %v", err)
			}
		}
		var r onion.AuthResult
		if r.UnmarshalBinary(b) == nil {
			if out, _ := r.MarshalBinary(); !bytes.Equal(out, b) {
				t.Fatalf("result re-encodes differently")
			}
		}
		onion.CheckURL(string(b))
	})
}
