package directory

// GET /v1/relays and GET /v1/key: the signed relay list, PROTOCOL.md §7.2.

import (
	"cmp"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"onion/onion"
)

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	body, err := s.signedList(s.now())
	if err != nil {
		s.log().Error("cannot serve relay list", "err", err)
		writeError(w, http.StatusInternalServerError, "cannot serve the relay list")
		return
	}
	writeBody(w, http.StatusOK, "application/json", body)
}

func (s *Server) handleKey(w http.ResponseWriter) {
	if len(s.Key) != ed25519.PrivateKeySize {
		writeError(w, http.StatusInternalServerError, "directory has no key")
		return
	}
	key := onion.EncodeKey(s.Key.Public().(ed25519.PublicKey))
	writeBody(w, http.StatusOK, "text/plain; charset=utf-8", []byte(key+"\n"))
}

// signedList returns the encoded SignedRelayList of the relays live at now.
// Signing happens outside the lock so publishers do not wait on it.
func (s *Server) signedList(now time.Time) ([]byte, error) {
	if len(s.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("directory has no signing key")
	}
	s.mu.Lock()
	s.pruneLocked(now)
	if c := s.cache; c.body != nil && c.gen == s.gen && c.at == now.Unix() {
		s.mu.Unlock()
		return c.body, nil
	}
	gen, relays := s.gen, s.sortedLocked()
	s.mu.Unlock()

	l := onion.RelayList{ValidAfter: now.Unix(), ValidUntil: now.Add(s.listValidity()).Unix(), Relays: relays}
	signed, err := onion.SignRelayList(l, s.Key)
	if err != nil {
		return nil, fmt.Errorf("sign relay list: %w", err)
	}
	// Clients refuse a longer document; serving it would only hide the
	// problem from the directory's operator.
	if len(signed.Document) > onion.MaxDocumentLen {
		return nil, fmt.Errorf("relay list of %d relays is %d bytes, over the limit of %d",
			len(relays), len(signed.Document), onion.MaxDocumentLen)
	}
	body, err := json.Marshal(signed)
	if err != nil {
		return nil, fmt.Errorf("encode relay list: %w", err)
	}
	body = append(body, '\n')

	s.mu.Lock()
	if s.gen == gen {
		s.cache = cachedList{gen: gen, at: now.Unix(), body: body}
	}
	s.mu.Unlock()
	return body, nil
}

// sortedLocked returns the stored descriptors ordered by fingerprint; never
// nil, so the list encodes "relays":[] rather than null.
func (s *Server) sortedLocked() []onion.RelayDescriptor {
	type fd struct {
		fp string
		d  onion.RelayDescriptor
	}
	all := make([]fd, 0, len(s.relays))
	for fp, e := range s.relays {
		all = append(all, fd{fp, e.desc})
	}
	slices.SortFunc(all, func(a, b fd) int { return cmp.Compare(a.fp, b.fp) })
	out := make([]onion.RelayDescriptor, len(all))
	for i := range all {
		out[i] = all[i].d
	}
	return out
}

// pruneLocked drops the relays that expired by now, logging each once.
func (s *Server) pruneLocked(now time.Time) {
	for fp, e := range s.relays {
		if now.Before(e.expires) {
			continue
		}
		delete(s.relays, fp)
		s.gen++
		s.log().Info("relay expired", "nickname", e.desc.Nickname, "peer", fp)
	}
}
