package directory

// GET /v1/relays and GET /v1/key: the signed relay list, PROTOCOL.md §7.2.

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"onion/onion"
)

// cachedList is a signed list, reused while nothing has changed within the
// same second, so a flood of GETs costs one signature per second, not one
// per request.
type cachedList struct {
	gen  uint64 // the relay store's generation it was made from
	at   int64  // Unix seconds it was made
	body []byte
}

func (s *server) handleList(w http.ResponseWriter) {
	if s.rounds != nil {
		s.handleRound(w, relaysPath)
		return
	}
	body, err := s.signedList()
	if err != nil {
		s.log.Error("cannot serve relay list", "err", err)
		writeError(w, http.StatusInternalServerError, "cannot serve the relay list")
		return
	}
	writeBody(w, http.StatusOK, "application/json", body)
}

// handleRound answers from the voting rounds: the list, the vote or the
// pending consensus, or 503 while there is none.
func (s *server) handleRound(w http.ResponseWriter, path string) {
	body, err := s.rounds.served(path)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeBody(w, http.StatusOK, "application/json", body)
}

func (s *server) handleKey(w http.ResponseWriter) {
	if len(s.key) != ed25519.PrivateKeySize {
		writeError(w, http.StatusInternalServerError, "directory has no key")
		return
	}
	key := onion.EncodeKey(s.key.Public().(ed25519.PublicKey))
	writeBody(w, http.StatusOK, "text/plain; charset=utf-8", []byte(key+"\n"))
}

// signedList returns the encoded SignedRelayList of the relays live now.
// It signs the copy the store returned, outside the store's lock, so
// publishers do not wait on it. Two requests racing may each store a list;
// either is right for its generation, and only a list of the current
// generation is served from the cache.
func (s *server) signedList() ([]byte, error) {
	if len(s.key) != ed25519.PrivateKeySize {
		return nil, errors.New("directory has no signing key")
	}
	now := s.now()
	relays, gen := s.relays.list()
	if c := s.cache.Load(); c != nil && c.gen == gen && c.at == now.Unix() {
		return c.body, nil
	}
	body, err := s.sign(relays, now)
	if err != nil {
		return nil, err
	}
	s.cache.Store(&cachedList{gen: gen, at: now.Unix(), body: body})
	return body, nil
}

// sign encodes relays as a list valid from now, signed.
func (s *server) sign(relays []onion.RelayDescriptor, now time.Time) ([]byte, error) {
	l := onion.RelayList{ValidAfter: now.Unix(), ValidUntil: now.Add(s.listValidity).Unix(), Relays: relays}
	doc, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("encode relay list: %w", err)
	}
	signed := onion.SignedList{Document: string(doc), Signatures: []onion.ListSignature{onion.SignList(string(doc), s.key)}}
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
	return append(body, '\n'), nil
}
