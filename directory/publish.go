package directory

// POST /v1/relays, PROTOCOL.md §7.1, and what it shares with POST
// /v1/services: reading a descriptor and answering a refusal.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

func (s *server) handlePublish(w http.ResponseWriter, r *http.Request) {
	var d onion.RelayDescriptor
	res, isNew, err := s.publishRelay(w, r, &d)
	if err != nil {
		var attrs []any
		if len(d.IdentityKey) == onion.KeyLen {
			attrs = append(attrs, "peer", d.Fingerprint())
		}
		s.refuse(w, "descriptor refused", err, attrs...)
		return
	}
	log := s.log.Debug
	if isNew {
		log = s.log.Info
	}
	log("relay published", "nickname", d.Nickname, "peer", res.Fingerprint, "exit", d.Exit)
	writeJSON(w, http.StatusOK, res)
}

// publishRelay reads the descriptor in the body into d, checks it and
// stores it. It reports whether the relay was not listed before.
func (s *server) publishRelay(w http.ResponseWriter, r *http.Request, d *onion.RelayDescriptor) (PublishResult, bool, error) {
	if !s.limit.allow(r) {
		return PublishResult{}, false, refused(http.StatusTooManyRequests,
			"too many publications from this address; a relay needs about two a minute")
	}
	if err := readDescriptor(w, r, d, MaxDescriptorBody); err != nil {
		return PublishResult{}, false, err
	}
	fp := d.Fingerprint()
	expires, isNew, err := s.storeRelay(d)
	return PublishResult{Fingerprint: fp, Expires: expires.Unix()}, isNew, err
}

// storeRelay lists a descriptor whose signature is checked, if the
// listing rules let it in: a public address, then the store's admission
// rules (admission.go) and bound. It sets the weight the list gives d.
func (s *server) storeRelay(d *onion.RelayDescriptor) (time.Time, bool, error) {
	if !s.allowPrivate {
		if err := checkPublicAddress(d.Address); err != nil {
			return time.Time{}, false, refused(http.StatusBadRequest,
				"descriptor address: %v; this directory lists relays at public IP addresses only "+
					"(a network on one machine or a LAN runs it with --allow-private-addresses)", err)
		}
	}
	// The list carries the authority's weight, not the relay's word
	// (PROTOCOL.md §7.4); what the relay sent there is not signed.
	d.Weight = onion.CappedWeight(d.Bandwidth, s.weightCap)
	return s.relays.put(d.Fingerprint(), *d, d.Published, d.Signature)
}

func (s *server) relayExpired(fp string, d onion.RelayDescriptor) {
	s.log.Info("relay expired", "nickname", d.Nickname, "peer", fp)
}

// readDescriptor reads exactly one JSON descriptor from the body into d (no
// unknown fields, nothing after it, at most limit bytes) and checks its
// fields and signature.
func readDescriptor(w http.ResponseWriter, r *http.Request, d interface{ Check() error }, limit int64) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return refused(http.StatusRequestEntityTooLarge, "descriptor larger than %d bytes", limit)
	}
	if err != nil {
		return refused(http.StatusBadRequest, "read descriptor: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(d); err != nil {
		return refused(http.StatusBadRequest, "malformed descriptor: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return refused(http.StatusBadRequest, "malformed descriptor: data after the descriptor")
	}
	if err := d.Check(); err != nil {
		return refused(http.StatusBadRequest, "bad descriptor: %v", err)
	}
	return nil
}

// refuse answers a refused descriptor and logs msg at warn, with why and
// attrs, which name the publisher only by what is public about it: never
// its keys.
func (s *server) refuse(w http.ResponseWriter, msg string, err error, attrs ...any) {
	status := http.StatusBadRequest
	if rf, ok := errors.AsType[*refusal](err); ok {
		status = rf.status
	}
	s.log.Warn(msg, append([]any{"reason", err.Error(), "status", status}, attrs...)...)
	writeError(w, status, err.Error())
}
