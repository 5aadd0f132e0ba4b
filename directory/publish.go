package directory

// POST /v1/relays: a relay publishes its descriptor, PROTOCOL.md §7.1.

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"time"

	"onion/onion"
)

// MaxDescriptorBody bounds a POST /v1/relays body. A real descriptor is well
// under 1 KiB.
const MaxDescriptorBody = 64 << 10

// PublishResult is the answer to a descriptor the directory accepted.
type PublishResult struct {
	Fingerprint string `json:"fingerprint"`
	Expires     int64  `json:"expires"` // Unix seconds; publish again well before
}

// refusal is why a descriptor was refused, with the status that says so.
type refusal struct {
	status int
	msg    string
}

func (r *refusal) Error() string { return r.msg }

func refused(status int, format string, args ...any) error {
	return &refusal{status: status, msg: fmt.Sprintf(format, args...)}
}

func (s *Server) handlePublish(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	var d onion.RelayDescriptor
	err := decodeDescriptor(w, r, &d)
	if err == nil {
		err = s.admit(&d, now)
	}
	var res PublishResult
	var isNew bool
	if err == nil {
		res, isNew, err = s.store(d, now)
	}
	if err != nil {
		s.refuse(w, &d, err)
		return
	}
	log := s.log().Debug
	if isNew {
		log = s.log().Info
	}
	log("relay published", "nickname", d.Nickname, "peer", res.Fingerprint, "exit", d.Exit)
	writeJSON(w, http.StatusOK, res)
}

// decodeDescriptor reads exactly one JSON descriptor from the body: no
// unknown fields, nothing after it, at most MaxDescriptorBody bytes.
func decodeDescriptor(w http.ResponseWriter, r *http.Request, d *onion.RelayDescriptor) error {
	return decodeBody(w, r, d, MaxDescriptorBody)
}

// admit checks the descriptor's fields, signature and published time.
func (s *Server) admit(d *onion.RelayDescriptor, now time.Time) error {
	if err := d.Check(); err != nil {
		return refused(http.StatusBadRequest, "bad descriptor: %v", err)
	}
	return checkPublished(d.Published, now, s.relayTTL())
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

// store keeps d, replacing an older descriptor for the same relay. It
// reports whether the relay was not listed before.
func (s *Server) store(d onion.RelayDescriptor, now time.Time) (PublishResult, bool, error) {
	fp := d.Fingerprint()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	old, listed := s.relays[fp]
	if listed {
		newer, err := replaces(d.Published, d.Signature, old.desc.Published, old.desc.Signature)
		if err != nil {
			return PublishResult{}, false, err
		}
		if !newer {
			return PublishResult{Fingerprint: fp, Expires: old.expires.Unix()}, false, nil
		}
	}
	if !listed && len(s.relays) >= s.maxRelays() {
		return PublishResult{}, false, refused(http.StatusServiceUnavailable,
			"directory is full (%d relays)", len(s.relays))
	}
	// Life counts from the published time, not the arrival, so that
	// re-sending an old descriptor cannot keep a dead relay listed; a
	// published time ahead of our clock buys nothing.
	e := &entry{desc: d, expires: time.Unix(min(d.Published, now.Unix()), 0).Add(s.relayTTL())}
	if s.relays == nil {
		s.relays = make(map[string]*entry)
	}
	s.relays[fp] = e
	s.gen++
	return PublishResult{Fingerprint: fp, Expires: e.expires.Unix()}, !listed, nil
}

// refuse answers a refused descriptor and logs why. It names the relay only
// by its claimed fingerprint, which is public; never its keys.
func (s *Server) refuse(w http.ResponseWriter, d *onion.RelayDescriptor, err error) {
	status := http.StatusBadRequest
	if rf, ok := errors.AsType[*refusal](err); ok {
		status = rf.status
	}
	attrs := []any{"reason", err.Error(), "status", status}
	if len(d.IdentityKey) == onion.KeyLen {
		attrs = append(attrs, "peer", d.Fingerprint())
	}
	s.log().Warn("descriptor refused", attrs...)
	writeError(w, status, err.Error())
}
