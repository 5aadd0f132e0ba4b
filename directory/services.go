package directory

// Hidden-service descriptors, PROTOCOL.md §11 (hidden services):
//
//	POST /v1/services            body: one onion.ServiceDescriptor (at most 16 KiB)
//	                             200 {"address":"....onion","expires":<unix seconds>}
//	                             400, 409, 413, 503 as for POST /v1/relays
//	GET  /v1/services/{address}  200 the descriptor as published
//	                             400 malformed address; 404 unknown or expired
//
// There is deliberately no way to list the services: an onion address is
// known only to whom its owner gives it. The directory checks each
// descriptor's own signature but clients must check it again against the
// address they asked for (onion.ServiceDescriptor.CheckFor): the directory
// is not trusted to serve the right one.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"onion/onion"
)

// Service limits.
const (
	// MaxServiceBody bounds a POST /v1/services body and the descriptor
	// served back. One with eight meeting points is about 2 KiB.
	MaxServiceBody = 16 << 10
	// DefaultMaxServices is the default for Server.MaxServices.
	DefaultMaxServices = 10000
	servicesPath       = "/v1/services"
)

// ServiceResult is the answer to a service descriptor the directory
// accepted.
type ServiceResult struct {
	Address string `json:"address"`
	Expires int64  `json:"expires"` // Unix seconds; publish again well before
}

// serviceEntry is one stored service.
type serviceEntry struct {
	desc    onion.ServiceDescriptor
	body    []byte // desc as served, encoded once
	expires time.Time
}

func (s *Server) serviceTTL() time.Duration {
	if s.ServiceTTL <= 0 {
		return DefaultRelayTTL
	}
	return s.ServiceTTL
}

func (s *Server) maxServices() int {
	if s.MaxServices <= 0 {
		return DefaultMaxServices
	}
	return s.MaxServices
}

// serviceTag names a service in logs above debug level: the start of its
// key's fingerprint, enough to follow one service through the logs without
// writing down the address that reaches it.
func serviceTag(key []byte) string { return onion.Fingerprint(key)[:8] }

// routeService serves the service endpoints and reports whether the path
// was one of them.
func (s *Server) routeService(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path == servicesPath {
		if r.Method != http.MethodPost {
			methodNotAllowed(w, "POST")
			return true
		}
		s.handlePublishService(w, r)
		return true
	}
	addr, ok := strings.CutPrefix(r.URL.Path, servicesPath+"/")
	if !ok {
		return false
	}
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return true
	}
	s.handleService(w, addr)
	return true
}

func (s *Server) handlePublishService(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	var d onion.ServiceDescriptor
	err := decodeBody(w, r, &d, MaxServiceBody)
	if err == nil {
		err = s.admitService(&d, now)
	}
	var res ServiceResult
	var isNew bool
	if err == nil {
		res, isNew, err = s.storeService(d, now)
	}
	if err != nil {
		s.refuseService(w, &d, err)
		return
	}
	tag := serviceTag(d.ServiceKey)
	if isNew {
		s.log().Info("service published", "service", tag, "meeting_points", len(d.MeetingPoints))
	}
	s.log().Debug("service descriptor stored", "service", tag, "address", res.Address, "published", d.Published)
	writeJSON(w, http.StatusOK, res)
}

// decodeBody reads exactly one JSON value from the body into v: no unknown
// fields, nothing after it, at most limit bytes.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return refused(http.StatusRequestEntityTooLarge, "descriptor larger than %d bytes", limit)
	}
	if err != nil {
		return refused(http.StatusBadRequest, "read descriptor: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return refused(http.StatusBadRequest, "malformed descriptor: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return refused(http.StatusBadRequest, "malformed descriptor: data after the descriptor")
	}
	return nil
}

// admitService checks the descriptor's fields, signature and published time.
func (s *Server) admitService(d *onion.ServiceDescriptor, now time.Time) error {
	if err := d.Check(); err != nil {
		return refused(http.StatusBadRequest, "bad descriptor: %v", err)
	}
	return checkPublished(d.Published, now, s.serviceTTL())
}

// storeService keeps d under its address, replacing an older descriptor for
// the same service. It reports whether the service was not held before.
func (s *Server) storeService(d onion.ServiceDescriptor, now time.Time) (ServiceResult, bool, error) {
	body, err := encodeService(d)
	if err != nil {
		return ServiceResult{}, false, err
	}
	addr := d.Address()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneServicesLocked(now)
	old, held := s.services[addr]
	if held {
		newer, err := replaces(d.Published, d.Signature, old.desc.Published, old.desc.Signature)
		if err != nil {
			return ServiceResult{}, false, err
		}
		if !newer {
			return ServiceResult{Address: addr, Expires: old.expires.Unix()}, false, nil
		}
	}
	if !held && len(s.services) >= s.maxServices() {
		return ServiceResult{}, false, refused(http.StatusServiceUnavailable,
			"directory is full (%d services)", len(s.services))
	}
	// Life counts from the published time, as for relays, so that a
	// replayed descriptor cannot keep a dead service reachable.
	e := &serviceEntry{desc: d, body: body, expires: time.Unix(min(d.Published, now.Unix()), 0).Add(s.serviceTTL())}
	if s.services == nil {
		s.services = make(map[string]*serviceEntry)
	}
	s.services[addr] = e
	return ServiceResult{Address: addr, Expires: e.expires.Unix()}, !held, nil
}

// encodeService is the descriptor as served. HTML escaping is off so the
// encoding is never longer than the body it came from, which keeps it
// within MaxServiceBody for clients; checked all the same.
func encodeService(d onion.ServiceDescriptor) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, refused(http.StatusBadRequest, "encode descriptor: %v", err)
	}
	if buf.Len() > MaxServiceBody {
		return nil, refused(http.StatusRequestEntityTooLarge, "descriptor larger than %d bytes", MaxServiceBody)
	}
	return buf.Bytes(), nil
}

// refuseService answers a refused descriptor and logs why, naming the
// service by its tag only.
func (s *Server) refuseService(w http.ResponseWriter, d *onion.ServiceDescriptor, err error) {
	status := http.StatusBadRequest
	if rf, ok := errors.AsType[*refusal](err); ok {
		status = rf.status
	}
	attrs := []any{"reason", err.Error(), "status", status}
	if len(d.ServiceKey) == onion.KeyLen {
		attrs = append(attrs, "service", serviceTag(d.ServiceKey))
	}
	s.log().Warn("service descriptor refused", attrs...)
	writeError(w, status, err.Error())
}

func (s *Server) handleService(w http.ResponseWriter, addr string) {
	pub, err := onion.ParseAddress(addr)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	addr = onion.EncodeAddress(pub) // the stored spelling: lower case
	body, ok := s.lookupService(addr, s.now())
	if !ok {
		s.log().Debug("service not found", "service", serviceTag(pub), "address", addr)
		writeError(w, http.StatusNotFound, "unknown onion address")
		return
	}
	writeBody(w, http.StatusOK, "application/json", body)
}

// lookupService returns the stored descriptor for addr if it is live at now.
func (s *Server) lookupService(addr string, now time.Time) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.services[addr]
	if !ok {
		return nil, false
	}
	if !now.Before(e.expires) {
		s.expireServiceLocked(addr, e)
		return nil, false
	}
	return e.body, true
}

// pruneServicesLocked drops the services that expired by now.
func (s *Server) pruneServicesLocked(now time.Time) {
	for addr, e := range s.services {
		if !now.Before(e.expires) {
			s.expireServiceLocked(addr, e)
		}
	}
}

func (s *Server) expireServiceLocked(addr string, e *serviceEntry) {
	delete(s.services, addr)
	s.log().Info("service expired", "service", serviceTag(e.desc.ServiceKey))
}
