package directory

import (
	"cmp"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"onion/onion"
)

// API paths, PROTOCOL.md §7.1 and §11.2.
const (
	relaysPath   = "/v1/relays"
	keyPath      = "/v1/key"
	servicesPath = "/v1/services"
)

// server is the directory's HTTP handler: the relay and service stores and
// the signed list made from the first. It is safe for concurrent use.
type server struct {
	key          ed25519.PrivateKey
	listValidity time.Duration
	allowPrivate bool  // Config.AllowPrivateAddresses
	weightCap    int64 // Config.MaxRelayWeight
	log          *slog.Logger
	now          func() time.Time

	relays   *store[onion.RelayDescriptor] // by fingerprint
	services *store[service]               // by onion address, in lower case
	cache    atomic.Pointer[cachedList]    // the last list served
	rounds   *rounds                       // nil: a lone authority, signing its own view
	limit    *rateLimiter                  // relay publications per source
}

// newServer makes the handler Run serves, with cfg's zero fields at their
// defaults. Listen, Listener and Ready are not its business.
func newServer(cfg Config) (*server, error) {
	s := &server{key: cfg.Key, listValidity: orDefault(cfg.ListValidity, DefaultListValidity),
		allowPrivate: cfg.AllowPrivateAddresses, log: cfg.Logger, now: cfg.Now,
		weightCap: cmp.Or(cfg.MaxRelayWeight, onion.DefaultWeightCap)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.relays = &store[onion.RelayDescriptor]{
		noun: "relays", ttl: orDefault(cfg.RelayTTL, DefaultRelayTTL), max: orDefault(cfg.MaxRelays, DefaultMaxRelays),
		now: s.now, expired: s.relayExpired, admit: newAdmission(cfg).admitLocked,
		size: relayJSONSize, maxBytes: maxRelayBytes,
	}
	s.limit = newRateLimiter(orDefault(cfg.PublishRate, DefaultPublishRate), s.now)
	s.services = &store[service]{
		noun: "services", ttl: orDefault(cfg.ServiceTTL, DefaultRelayTTL), max: orDefault(cfg.MaxServices, DefaultMaxServices),
		now: s.now, expired: s.serviceExpired,
	}
	if len(cfg.Authorities) > 1 {
		r, err := s.newRounds(cfg)
		if err != nil {
			return nil, err
		}
		s.rounds = r
	}
	return s, nil
}

// newRounds sets up voting among cfg.Authorities, which must name this
// authority's key once.
func (s *server) newRounds(cfg Config) (*rounds, error) {
	own := cfg.Key.Public().(ed25519.PublicKey)
	var peers []Authority
	for _, a := range cfg.Authorities {
		if len(a.Key) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("directory: authority %s has no key", a.URL)
		}
		if !own.Equal(a.Key) {
			peers = append(peers, a)
		}
	}
	if len(peers) != len(cfg.Authorities)-1 {
		return nil, errors.New("directory: the authorities must include this one's own key, once")
	}
	return &rounds{
		key: cfg.Key, peers: peers, n: len(cfg.Authorities), lastRelays: -1,
		interval: orDefault(cfg.VoteInterval, DefaultVoteInterval), validity: s.listValidity,
		relays: func() []onion.RelayDescriptor { l, _ := s.relays.list(); return l },
		http:   &http.Client{Timeout: defaultClientTimeout}, log: s.log, now: s.now,
	}, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// ServeHTTP routes the directory API. Routing is by hand, not http.ServeMux,
// so that 404 and 405 carry the same JSON error body as every other error.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.Path; {
	case path == relaysPath:
		switch r.Method {
		case http.MethodPost:
			s.handlePublish(w, r)
		case http.MethodGet:
			s.handleList(w)
		default:
			methodNotAllowed(w, "GET, POST")
		}
	case path == votePath || path == pendingPath:
		if method(w, r, http.MethodGet) {
			s.handleRound(w, path)
		}
	case path == keyPath:
		if method(w, r, http.MethodGet) {
			s.handleKey(w)
		}
	case path == servicesPath:
		if method(w, r, http.MethodPost) {
			s.handlePublishService(w, r)
		}
	case strings.HasPrefix(path, servicesPath+"/"):
		if method(w, r, http.MethodGet) {
			s.handleService(w, strings.TrimPrefix(path, servicesPath+"/"))
		}
	case isNetworkPath(path):
		s.serveNetwork(w, r)
	default:
		writeError(w, http.StatusNotFound, "no such endpoint")
	}
}

// method reports whether r uses the one method its path allows, and
// answers 405 if not.
func method(w http.ResponseWriter, r *http.Request, allowed string) bool {
	if r.Method == allowed {
		return true
	}
	methodNotAllowed(w, allowed)
	return false
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method not allowed")
}

// errorBody is the body of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only our own types reach here
		panic(fmt.Sprintf("directory: encode answer: %v", err))
	}
	writeBody(w, status, "application/json", append(b, '\n'))
}

func writeBody(w http.ResponseWriter, status int, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// relayJSONSize is d's share of a relay list's document: its JSON and a
// comma, with room for the weight an authority adds.
func relayJSONSize(d onion.RelayDescriptor) int {
	b, err := json.Marshal(d)
	if err != nil {
		return onion.MaxDocumentLen // refused: cannot be listed anyway
	}
	return len(b) + len(`,"weight":1099511627776`) + 1
}
