package directory

// The voting round of an authority among several, PROTOCOL.md §7.4.

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"onion/onion"
)

// Vote paths: an authority's vote of the current round, and the consensus
// it is gathering signatures for.
const (
	votePath    = "/v1/vote"
	pendingPath = "/v1/consensus/pending"
)

// DefaultVoteInterval is how often authorities agree on a new list.
const DefaultVoteInterval = time.Minute

// rounds runs an authority's rounds: at each multiple of interval it signs
// a vote of the relays it lists, fetches its peers' votes for the same
// round (until a third of the interval has passed), makes the consensus,
// signs it, and gathers the peers' signatures on the same document (until
// two thirds have passed). A consensus signed by a majority becomes the
// list it serves.
type rounds struct {
	key      ed25519.PrivateKey
	peers    []Authority // the other authorities
	n        int         // all authorities, this one included
	interval time.Duration
	validity time.Duration
	relays   func() []onion.RelayDescriptor
	http     *http.Client
	log      *slog.Logger
	now      func() time.Time

	lastRelays int // relays in the last consensus, to log changes only (run's goroutine)

	mu      sync.Mutex
	vote    []byte            // encoded SignedVote of the current round
	pending *onion.SignedList // the current round's consensus, signatures so far
	current []byte            // encoded newest consensus signed by a majority
}

func (r *rounds) run(ctx context.Context) {
	for {
		start := r.now().Truncate(r.interval)
		r.round(ctx, start)
		if !sleepUntil(ctx, r.now, start.Add(r.interval)) {
			return
		}
	}
}

func (r *rounds) round(ctx context.Context, start time.Time) {
	at := start.Unix()
	if err := r.makeVote(at); err != nil {
		r.log.Error("cannot sign vote", "err", err)
		return
	}
	votes := r.collectVotes(ctx, at, start.Add(r.interval/3))
	list := makeConsensus(votes, r.n, at, r.validity)
	doc, err := json.Marshal(list)
	if err != nil || len(doc) > onion.MaxDocumentLen {
		r.log.Error("cannot make consensus", "err", err, "bytes", len(doc))
		return
	}
	signed := onion.SignedList{Document: string(doc), Signatures: []onion.ListSignature{onion.SignList(string(doc), r.key)}}
	r.setPending(&signed)
	signers := r.collectSignatures(ctx, &signed, start.Add(2*r.interval/3))
	if signers < onion.Majority(r.n) {
		r.log.Warn("no consensus this round: too few authorities signed the same list",
			"valid_after", at, "votes", len(votes), "signatures", signers, "need", onion.Majority(r.n))
		return
	}
	log := r.log.Debug
	if len(list.Relays) != r.lastRelays {
		log, r.lastRelays = r.log.Info, len(list.Relays)
	}
	log("consensus signed", "valid_after", at, "relays", len(list.Relays), "votes", len(votes), "signatures", signers)
}

func (r *rounds) makeVote(at int64) error {
	sv, err := SignVote(Vote{ValidAfter: at, Relays: r.relays()}, r.key)
	if err != nil {
		return err
	}
	b, err := json.Marshal(sv)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.vote, r.pending = append(b, '\n'), nil
	r.mu.Unlock()
	return nil
}

// collectVotes returns this authority's vote and those of its peers for
// the round at at, polling the missing ones until all are in or deadline.
func (r *rounds) collectVotes(ctx context.Context, at int64, deadline time.Time) []Vote {
	got := make([]*Vote, len(r.peers))
	errs := make([]error, len(r.peers))
	r.poll(ctx, deadline, func() bool {
		all := true
		for i, p := range r.peers {
			if got[i] != nil {
				continue
			}
			v, err := r.fetchVote(ctx, p, at)
			if err != nil {
				errs[i], all = err, false
				continue
			}
			got[i] = &v
		}
		return all
	})
	var own Vote
	r.mu.Lock()
	var sv SignedVote
	err := json.Unmarshal(r.vote, &sv)
	r.mu.Unlock()
	if err == nil {
		own, err = sv.open(r.key.Public().(ed25519.PublicKey), at)
	}
	votes := []Vote{}
	if err == nil {
		votes = append(votes, own)
	}
	for i, v := range got {
		if v != nil {
			votes = append(votes, *v)
		} else {
			r.log.Warn("no vote from authority this round", "authority", r.peers[i].URL, "err", errs[i])
		}
	}
	return votes
}

func (r *rounds) fetchVote(ctx context.Context, p Authority, at int64) (Vote, error) {
	b, err := (&Client{URL: p.URL, HTTP: r.http}).get(ctx, votePath, maxListBody)
	if err != nil {
		return Vote{}, err
	}
	var sv SignedVote
	if err := json.Unmarshal(b, &sv); err != nil {
		return Vote{}, fmt.Errorf("vote: %w", err)
	}
	return sv.open(p.Key, at)
}

// collectSignatures adds to signed the peers' valid signatures on the same
// document until every authority signed or deadline, publishing it as the
// current list once a majority has. It returns how many signed.
func (r *rounds) collectSignatures(ctx context.Context, signed *onion.SignedList, deadline time.Time) int {
	keys := append([]ed25519.PublicKey{r.key.Public().(ed25519.PublicKey)}, peerKeys(r.peers)...)
	signers := 1
	r.poll(ctx, deadline, func() bool {
		for _, p := range r.peers {
			theirs, err := r.fetchPending(ctx, p)
			if err != nil || theirs.Document != signed.Document {
				continue // not there yet, or another document: its signature would not count
			}
			r.merge(signed, theirs.Signatures, keys)
		}
		r.mu.Lock()
		signers = len(signed.Signers(keys))
		r.mu.Unlock()
		if signers >= onion.Majority(r.n) {
			r.publish(signed)
		}
		return signers == r.n
	})
	return signers
}

// merge adds the signatures in sigs by keys not yet on signed.
func (r *rounds) merge(signed *onion.SignedList, sigs []onion.ListSignature, keys []ed25519.PublicKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sig := range sigs[:min(len(sigs), onion.MaxListSignatures)] {
		already := onion.SignedList{Document: signed.Document, Signatures: signed.Signatures}
		known := false
		for _, k := range keys {
			known = known || k.Equal(ed25519.PublicKey(sig.Key))
		}
		if !known || !sig.Verify(signed.Document) || len(already.Signers([]ed25519.PublicKey{sig.Key})) > 0 {
			continue
		}
		signed.Signatures = append(signed.Signatures, sig)
	}
}

func (r *rounds) fetchPending(ctx context.Context, p Authority) (onion.SignedList, error) {
	b, err := (&Client{URL: p.URL, HTTP: r.http}).get(ctx, pendingPath, maxListBody)
	if err != nil {
		return onion.SignedList{}, err
	}
	var s onion.SignedList
	err = json.Unmarshal(b, &s)
	return s, err
}

func (r *rounds) setPending(s *onion.SignedList) {
	r.mu.Lock()
	r.pending = s
	r.mu.Unlock()
}

func (r *rounds) publish(s *onion.SignedList) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := json.Marshal(s)
	if err == nil {
		r.current = append(b, '\n')
	}
}

// served returns what GET path answers: the current vote, the pending
// consensus or the current list, or an error when there is none yet.
func (r *rounds) served(path string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch path {
	case votePath:
		if r.vote != nil {
			return r.vote, nil
		}
	case pendingPath:
		if r.pending != nil {
			b, err := json.Marshal(r.pending)
			return append(b, '\n'), err
		}
	default:
		if r.current != nil {
			return r.current, nil
		}
		return nil, errors.New("no relay list signed by a majority of the authorities yet")
	}
	return nil, errors.New("not yet made this round")
}

// poll calls f now and then every pollEvery until it returns true, ctx
// ends or deadline passes.
func (r *rounds) poll(ctx context.Context, deadline time.Time, f func() bool) {
	every := min(r.interval/20, 500*time.Millisecond)
	for !f() {
		next := r.now().Add(every)
		if !next.Before(deadline) || !sleepUntil(ctx, r.now, next) {
			return
		}
	}
}

func peerKeys(peers []Authority) []ed25519.PublicKey {
	keys := make([]ed25519.PublicKey, len(peers))
	for i, p := range peers {
		keys[i] = p.Key
	}
	return keys
}

// sleepUntil waits until t by the clock now; false if ctx ended first.
func sleepUntil(ctx context.Context, now func() time.Time, t time.Time) bool {
	timer := time.NewTimer(t.Sub(now()))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
