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
	"net/http"

	"onion/onion"
)

// MaxServiceBody bounds a POST /v1/services body and the descriptor served
// back. One with eight meeting points is about 2 KiB.
const MaxServiceBody = 16 << 10

// ServiceResult is the answer to a service descriptor the directory
// accepted.
type ServiceResult struct {
	Address string `json:"address"`
	Expires int64  `json:"expires"` // Unix seconds; publish again well before
}

// service is one stored hidden service.
type service struct {
	tag  string // serviceTag of its key
	body []byte // its descriptor as served, encoded once
}

// serviceTag names a service in logs above debug level: the start of its
// key's fingerprint, enough to follow one service through the logs without
// writing down the address that reaches it.
func serviceTag(key []byte) string { return onion.Fingerprint(key)[:8] }

func (s *server) handlePublishService(w http.ResponseWriter, r *http.Request) {
	var d onion.ServiceDescriptor
	res, isNew, err := s.publishService(w, r, &d)
	if err != nil {
		var attrs []any
		if len(d.ServiceKey) == onion.KeyLen {
			attrs = append(attrs, "service", serviceTag(d.ServiceKey))
		}
		s.refuse(w, "service descriptor refused", err, attrs...)
		return
	}
	tag := serviceTag(d.ServiceKey)
	if isNew {
		s.log.Info("service published", "service", tag, "meeting_points", len(d.MeetingPoints))
	}
	s.log.Debug("service descriptor stored", "service", tag, "address", res.Address, "published", d.Published)
	writeJSON(w, http.StatusOK, res)
}

// publishService reads the descriptor in the body into d, checks it and
// stores it under its address. It reports whether the service was not held
// before.
func (s *server) publishService(w http.ResponseWriter, r *http.Request, d *onion.ServiceDescriptor) (ServiceResult, bool, error) {
	if err := readDescriptor(w, r, d, MaxServiceBody); err != nil {
		return ServiceResult{}, false, err
	}
	body, err := encodeService(d)
	if err != nil {
		return ServiceResult{}, false, err
	}
	addr := d.Address()
	expires, isNew, err := s.services.put(addr, service{serviceTag(d.ServiceKey), body}, d.Published, d.Signature)
	return ServiceResult{Address: addr, Expires: expires.Unix()}, isNew, err
}

// encodeService is the descriptor as served. HTML escaping is off so the
// encoding is never longer than the body it came from, which keeps it
// within MaxServiceBody for clients; checked all the same.
func encodeService(d *onion.ServiceDescriptor) ([]byte, error) {
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

func (s *server) handleService(w http.ResponseWriter, addr string) {
	pub, err := onion.ParseAddress(addr)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	addr = onion.EncodeAddress(pub) // the stored spelling: lower case
	svc, ok := s.services.get(addr)
	if !ok {
		s.log.Debug("service not found", "service", serviceTag(pub), "address", addr)
		writeError(w, http.StatusNotFound, "unknown onion address")
		return
	}
	writeBody(w, http.StatusOK, "application/json", svc.body)
}

func (s *server) serviceExpired(_ string, svc service) {
	s.log.Info("service expired", "service", svc.tag)
}
