package directory

// The rules relays (PROTOCOL.md §7.3) and hidden services (§11.2) share:
// how long a descriptor lives, which one wins, and how many are held.

import (
	"bytes"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"onion/onion"
)

// store keeps signed descriptors by key (a relay's fingerprint, a service's
// onion address), each until ttl after its published time, and at most max
// of them:
//
//   - a descriptor published more than onion.MaxClockSkew ahead of the
//     clock, or already dead on arrival, is refused (400);
//   - a key's descriptor is replaced only by a newer one: an older one is a
//     replay and a different one with the same time a publisher
//     contradicting itself (409), while the same one again is a harmless
//     retry that changes nothing, not even the expiry;
//   - a new key beyond max is refused (503); held keys may still refresh;
//   - with size and maxBytes set, a value that would take the live values'
//     sizes over maxBytes is refused (503), a held key's too (its old
//     value stays), so that a list of them stays within a document's bound
//     however large each value a peer sends.
//
// Expired entries are dropped before every put and list, and on get. Set
// the fields before the first call; a store is then safe for concurrent use.
type store[V any] struct {
	noun string // what it holds, in the plural, for the "full" refusal
	ttl  time.Duration
	max  int
	now  func() time.Time
	// expired, if set, is told of each entry dropped on expiry, once. It
	// runs with the store locked and must not call back into it.
	expired func(key string, v V)
	// admit, if set, may refuse v under key given the live entries. It
	// runs with the store locked and must not call back into it.
	admit func(key string, v V, live map[string]*stored[V]) error
	// size, if set, is v's share of a list of the values, in bytes;
	// maxBytes bounds their sum.
	size     func(v V) int
	maxBytes int

	mu      sync.Mutex
	entries map[string]*stored[V]
	bytes   int    // the sum of the entries' sizes
	gen     uint64 // bumped on every change, so readers may cache what they derive
}

// stored is one entry, with what the replacement rule judges by.
type stored[V any] struct {
	val       V
	published int64 // Unix seconds, as the publisher signed it
	sig       []byte
	expires   time.Time
	size      int
	since     time.Time // when the key was first stored, kept across replacements: its uptime
}

// put stores v under key, as published at published and signed sig. It
// returns when the key's entry expires and whether the key is new.
func (s *store[V]) put(key string, v V, published int64, sig []byte) (time.Time, bool, error) {
	now := s.now()
	if err := checkPublished(published, now, s.ttl); err != nil {
		return time.Time{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	old, held := s.entries[key]
	if s.admit != nil && (!held || published > old.published) {
		if err := s.admit(key, v, s.entries); err != nil {
			return time.Time{}, false, err
		}
	}
	if held {
		newer, err := replaces(published, sig, old.published, old.sig)
		if err != nil {
			return time.Time{}, false, err
		}
		if !newer {
			return old.expires, false, nil
		}
	} else if len(s.entries) >= s.max {
		return time.Time{}, false, refused(http.StatusServiceUnavailable,
			"directory is full (%d %s); it never drops a listed one to make room: try again once one has left", len(s.entries), s.noun)
	}
	size := 0
	if s.size != nil {
		size = s.size(v)
	}
	if grown := s.bytes + size; s.maxBytes > 0 && (!held || size > old.size) && grown-oldSize(old) > s.maxBytes {
		return time.Time{}, false, refused(http.StatusServiceUnavailable,
			"directory is full (%d %s in %d of %d bytes); it never drops a listed one to make room: try again once one has left, or publish a smaller descriptor",
			len(s.entries), s.noun, s.bytes, s.maxBytes)
	}
	// Life counts from the published time, not the arrival, so that
	// re-sending an old descriptor cannot keep a dead entry alive; a
	// published time ahead of our clock buys nothing.
	expires := time.Unix(min(published, now.Unix()), 0).Add(s.ttl)
	if s.entries == nil {
		s.entries = make(map[string]*stored[V])
	}
	since := now
	if held {
		since = old.since
	}
	s.entries[key] = &stored[V]{val: v, published: published, sig: sig, expires: expires, size: size, since: since}
	s.bytes += size - oldSize(old)
	s.gen++
	return expires, !held, nil
}

// get returns the value stored under key, if it is live.
func (s *store[V]) get(key string) (V, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if ok && !now.Before(e.expires) {
		s.dropLocked(key, e)
		ok = false
	}
	if !ok {
		var zero V
		return zero, false
	}
	return e.val, true
}

// list returns the live values in key order, never nil, and the
// generation they belong to.
func (s *store[V]) list() ([]V, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(s.now())
	keys := slices.Sorted(maps.Keys(s.entries))
	vals := make([]V, len(keys))
	for i, k := range keys {
		vals[i] = s.entries[k].val
	}
	return vals, s.gen
}

// listSince is list with the time each value's key was first stored.
func (s *store[V]) listSince() ([]V, []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(s.now())
	keys := slices.Sorted(maps.Keys(s.entries))
	vals, since := make([]V, len(keys)), make([]time.Time, len(keys))
	for i, k := range keys {
		vals[i], since[i] = s.entries[k].val, s.entries[k].since
	}
	return vals, since
}

func (s *store[V]) pruneLocked(now time.Time) {
	for key, e := range s.entries {
		if !now.Before(e.expires) {
			s.dropLocked(key, e)
		}
	}
}

// oldSize is the size of the entry a put replaces, if any.
func oldSize[V any](e *stored[V]) int {
	if e == nil {
		return 0
	}
	return e.size
}

func (s *store[V]) dropLocked(key string, e *stored[V]) {
	delete(s.entries, key)
	s.bytes -= e.size
	s.gen++
	if s.expired != nil {
		s.expired(key, e.val)
	}
}

// checkPublished refuses a published time too far ahead of our clock, or so
// old that a descriptor would already be dead on arrival
// (published+ttl <= now). Whole seconds, in integers: published comes from
// a peer and may be any int64, which time.Unix would not represent faithfully.
func checkPublished(published int64, now time.Time, ttl time.Duration) error {
	t := now.Unix()
	if published > t+int64(onion.MaxClockSkew/time.Second) {
		return refused(http.StatusBadRequest, "descriptor published %d is more than %s ahead of the directory's clock (%d)",
			published, onion.MaxClockSkew, t)
	}
	if published <= t-int64(ttl/time.Second) {
		return refused(http.StatusBadRequest, "descriptor published %d is older than %s (directory clock %d)",
			published, ttl, t)
	}
	return nil
}

// replaces says whether a descriptor published at published, signed sig,
// replaces a stored one (oldPublished, oldSig): an older one is a replay
// (409), the same one again is a harmless retry (false, nil: nothing
// changes), and a different one at the same time is a publisher
// contradicting itself (409).
func replaces(published int64, sig []byte, oldPublished int64, oldSig []byte) (bool, error) {
	switch {
	case published < oldPublished:
		return false, refused(http.StatusConflict,
			"descriptor published %d is older than the stored one (%d)", published, oldPublished)
	case published == oldPublished && !bytes.Equal(sig, oldSig):
		return false, refused(http.StatusConflict,
			"a different descriptor published at %d is already stored", published)
	}
	return published > oldPublished, nil
}
