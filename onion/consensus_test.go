package onion_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"onion/onion"
)

func authKey(i int) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(200 + i)}, 32))
}

func authPubs(n int) []ed25519.PublicKey {
	pubs := make([]ed25519.PublicKey, n)
	for i := range pubs {
		pubs[i] = dirPub(authKey(i))
	}
	return pubs
}

// consensusDoc is a list of two relays, valid for ten minutes from now.
func consensusDoc(t *testing.T, now time.Time, validity time.Duration) string {
	t.Helper()
	l, _ := testList(t, 2, now)
	l.ValidAfter, l.ValidUntil = now.Unix(), now.Add(validity).Unix()
	doc, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// signedBy signs doc with the authority keys numbered by signers.
func signedBy(doc string, signers ...int) onion.SignedList {
	s := onion.SignedList{Document: doc}
	for _, i := range signers {
		s.Signatures = append(s.Signatures, onion.SignList(doc, authKey(i)))
	}
	return s
}

func TestSignedListMajority(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	doc := consensusDoc(t, now, 10*time.Minute)
	cases := []struct {
		name    string
		n       int   // authorities trusted: keys 0..n-1
		signers []int // 9 is a key nobody trusts
		ok      bool
	}{
		{"1 of 1", 1, []int{0}, true},
		{"1 of 3", 3, []int{2}, false},
		{"2 of 3", 3, []int{0, 2}, true},
		{"3 of 3", 3, []int{2, 1, 0}, true},
		{"2 of 4", 4, []int{0, 1}, false},
		{"3 of 4", 4, []int{0, 1, 3}, true},
		{"one key three times counts once", 3, []int{1, 1, 1}, false},
		{"unknown keys are ignored", 3, []int{0, 9, 9}, false},
		{"unknown key beside a majority", 3, []int{9, 0, 1}, true},
		{"no signature", 3, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := signedBy(doc, c.signers...).Open(authPubs(c.n), now, time.Hour)
			if c.ok && (err != nil || len(l.Relays) != 2) {
				t.Fatalf("Open: %v (%d relays), want the list", err, len(l.Relays))
			}
			if !c.ok && (!errors.Is(err, onion.ErrNoMajority) || !errors.Is(err, onion.ErrSignature)) {
				t.Fatalf("Open: %v, want ErrNoMajority (an ErrSignature)", err)
			}
		})
	}
}

func TestSignedListBadSignatures(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	doc := consensusDoc(t, now, 10*time.Minute)
	keys := authPubs(3)

	// A signature moved to another key, or a bit flipped in one, counts
	// for nothing.
	s := signedBy(doc, 0, 1)
	s.Signatures[1].Key = keys[2]
	if _, err := s.Open(keys, now, time.Hour); !errors.Is(err, onion.ErrNoMajority) {
		t.Errorf("signature under another key: %v, want ErrNoMajority", err)
	}
	s = signedBy(doc, 0, 1)
	s.Signatures[0].Signature[5] ^= 1
	if _, err := s.Open(keys, now, time.Hour); !errors.Is(err, onion.ErrNoMajority) {
		t.Errorf("flipped bit: %v, want ErrNoMajority", err)
	}
	// The document changed after signing: no signature holds.
	s = signedBy(doc, 0, 1, 2)
	s.Document = strings.Replace(s.Document, `"valid_until":`, `"valid_until":1`, 1)
	if _, err := s.Open(keys, now, time.Hour); !errors.Is(err, onion.ErrNoMajority) {
		t.Errorf("tampered document: %v, want ErrNoMajority", err)
	}
	// A flood of signatures is refused before any is checked.
	s = signedBy(doc, 0, 1)
	for range onion.MaxListSignatures {
		s.Signatures = append(s.Signatures, s.Signatures[0])
	}
	if _, err := s.Open(keys, now, time.Hour); err == nil {
		t.Error("a list with too many signatures opened")
	}
	if _, err := signedBy(doc, 0).Open(nil, now, time.Hour); err == nil {
		t.Error("opened with no keys")
	}
}

func TestSignedListExpiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	keys := authPubs(3)
	doc := consensusDoc(t, now, 10*time.Minute)
	s := signedBy(doc, 0, 1)
	late := now.Add(10*time.Minute + onion.MaxClockSkew + time.Second)
	if _, err := s.Open(keys, late, time.Hour); !errors.Is(err, onion.ErrListExpired) {
		t.Errorf("expired list: %v, want ErrListExpired", err)
	}
	early := now.Add(-onion.MaxClockSkew - time.Second)
	if _, err := s.Open(keys, early, time.Hour); !errors.Is(err, onion.ErrListExpired) {
		t.Errorf("list not yet valid: %v, want ErrListExpired", err)
	}
	if _, err := s.Open(keys, now.Add(10*time.Minute), time.Hour); err != nil {
		t.Errorf("list at its last second: %v", err)
	}
	// A majority cannot sign a list that stays valid for longer than the
	// reader's window.
	long := signedBy(consensusDoc(t, now, 48*time.Hour), 0, 1, 2)
	if _, err := long.Open(keys, now, time.Hour); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("list valid for two days: %v, want a refusal", err)
	}
}
