package directory

// Votes: what one authority lists in a round, PROTOCOL.md §7.4.

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"

	"onion/onion"
)

const voteTag = "onion-vote-v1"

// Vote is one authority's view of the live relays at the start of the
// round beginning at ValidAfter.
type Vote struct {
	ValidAfter int64                   `json:"valid_after"` // Unix seconds: the round's start
	Relays     []onion.RelayDescriptor `json:"relays"`
}

// SignedVote is a Vote as served on GET /v1/vote: Document is the vote's
// JSON, and Signature is ed25519 by Key over voteTag | Document.
type SignedVote struct {
	Document  string `json:"document"`
	Key       []byte `json:"key"`
	Signature []byte `json:"signature"`
}

// SignVote encodes and signs v with an authority's key.
func SignVote(v Vote, key ed25519.PrivateKey) (SignedVote, error) {
	doc, err := json.Marshal(v)
	if err != nil {
		return SignedVote{}, err
	}
	return SignedVote{
		Document:  string(doc),
		Key:       append([]byte(nil), key.Public().(ed25519.PublicKey)...),
		Signature: ed25519.Sign(key, append([]byte(voteTag), doc...)),
	}, nil
}

// open checks that key signed sv for the round starting at validAfter and
// that every descriptor in it is well formed, signed and listed once.
func (sv SignedVote) open(key ed25519.PublicKey, validAfter int64) (Vote, error) {
	if !key.Equal(ed25519.PublicKey(sv.Key)) || len(sv.Signature) != ed25519.SignatureSize ||
		!ed25519.Verify(key, append([]byte(voteTag), sv.Document...), sv.Signature) {
		return Vote{}, onion.ErrSignature
	}
	if len(sv.Document) > onion.MaxDocumentLen {
		return Vote{}, fmt.Errorf("vote of %d bytes", len(sv.Document))
	}
	var v Vote
	if err := json.Unmarshal([]byte(sv.Document), &v); err != nil {
		return Vote{}, fmt.Errorf("vote: %w", err)
	}
	if v.ValidAfter != validAfter {
		return Vote{}, fmt.Errorf("%w: vote for the round at %d, want %d", errOtherRound, v.ValidAfter, validAfter)
	}
	seen := make(map[string]bool, len(v.Relays))
	for i := range v.Relays {
		if err := v.Relays[i].Check(); err != nil {
			return Vote{}, fmt.Errorf("relay %d in vote: %w", i, err)
		}
		fp := v.Relays[i].Fingerprint()
		if seen[fp] {
			return Vote{}, fmt.Errorf("relay %s voted twice", fp)
		}
		seen[fp] = true
	}
	return v, nil
}

// errOtherRound is a vote or consensus for another round than the one
// being made: a peer not there yet, or with a clock off by a round.
var errOtherRound = errors.New("another round")
