package onion

// The relay list signed by several directory authorities, PROTOCOL.md §7.4.

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"
)

// Bounds on a multi-signed list.
const (
	// MaxListSignatures bounds the signatures a list may carry: one per
	// authority, and no network has this many.
	MaxListSignatures = 32
)

// ErrNoMajority means a relay list lacks valid signatures from a majority
// of the authorities the reader trusts.
var ErrNoMajority = fmt.Errorf("onion: relay list not signed by a majority of the authorities: %w", ErrSignature)

// ListSignature is one authority's signature on a list document: ed25519 by
// Key over relayListTag | Document, the same message SignRelayList signs.
type ListSignature struct {
	Key       []byte `json:"key"` // the authority's ed25519 public key (JSON: base64)
	Signature []byte `json:"signature"`
}

// SignedList is the relay list as authorities serve it: one canonical
// document and the signatures of every authority that agreed on it.
type SignedList struct {
	Document   string          `json:"document"`
	Signatures []ListSignature `json:"signatures"`
}

// SignList signs doc with key: the ListSignature to add to a SignedList.
func SignList(doc string, key ed25519.PrivateKey) ListSignature {
	return ListSignature{
		Key:       append([]byte(nil), key.Public().(ed25519.PublicKey)...),
		Signature: ed25519.Sign(key, listMessage(doc)),
	}
}

func listMessage(doc string) []byte { return append([]byte(relayListTag), doc...) }

// Verify reports whether sig is a valid signature of doc by sig.Key.
func (sig ListSignature) Verify(doc string) bool {
	return len(sig.Key) == ed25519.PublicKeySize && len(sig.Signature) == ed25519.SignatureSize &&
		ed25519.Verify(sig.Key, listMessage(doc), sig.Signature)
}

// Signers returns which of keys signed s.Document: signatures by keys not
// in keys are ignored, and a key that signed twice counts once.
func (s SignedList) Signers(keys []ed25519.PublicKey) []ed25519.PublicKey {
	var signers []ed25519.PublicKey
	counted := make([]bool, len(keys))
	for _, sig := range s.Signatures {
		for i, k := range keys {
			if !counted[i] && k.Equal(ed25519.PublicKey(sig.Key)) && sig.Verify(s.Document) {
				counted[i] = true
				signers = append(signers, k)
			}
		}
	}
	return signers
}

// Majority is how many of n authorities make a majority.
func Majority(n int) int { return n/2 + 1 }

// Open verifies that a majority of keys signed s, then decodes and checks
// the document as SignedRelayList.Open does (validity window against now,
// every descriptor's signature), and refuses a list whose validity window
// is longer than maxValidity: an authority majority cannot hand out a list
// that never expires.
func (s SignedList) Open(keys []ed25519.PublicKey, now time.Time, maxValidity time.Duration) (RelayList, error) {
	if len(keys) == 0 {
		return RelayList{}, errors.New("onion: no authority keys to verify the relay list with")
	}
	if len(s.Signatures) > MaxListSignatures {
		return RelayList{}, fmt.Errorf("onion: relay list carries %d signatures, more than %d", len(s.Signatures), MaxListSignatures)
	}
	if len(s.Document) > MaxDocumentLen {
		return RelayList{}, fmt.Errorf("onion: relay list of %d bytes", len(s.Document))
	}
	signers := s.Signers(keys)
	if need := Majority(len(keys)); len(signers) < need {
		return RelayList{}, fmt.Errorf("%w: signed by %d of %d, need %d", ErrNoMajority, len(signers), len(keys), need)
	}
	var one SignedRelayList
	for _, sig := range s.Signatures {
		if ed25519.PublicKey(sig.Key).Equal(signers[0]) && sig.Verify(s.Document) {
			one = SignedRelayList{Document: s.Document, Signature: sig.Signature}
			break
		}
	}
	l, err := one.Open(signers[0], now)
	if err != nil {
		return RelayList{}, err
	}
	// Open checked ValidAfter <= ValidUntil, so the difference fits in a
	// uint64 whatever int64s a peer sent.
	if window := uint64(l.ValidUntil) - uint64(l.ValidAfter); window > uint64(maxValidity/time.Second) {
		return RelayList{}, fmt.Errorf("onion: relay list valid for %ds, longer than the %s a reader accepts", window, maxValidity)
	}
	return l, nil
}
