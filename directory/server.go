package directory

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"onion/onion"
)

// Server defaults, used when the matching field is zero.
const (
	DefaultRelayTTL     = 90 * time.Second
	DefaultListValidity = 10 * time.Minute
	// DefaultMaxRelays keeps a full list under onion.MaxDocumentLen: a
	// descriptor is at most ~600 bytes of JSON, so 5000 fit in 4 MiB.
	DefaultMaxRelays = 5000
)

// HTTP server limits for Serve.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 16 << 10
	shutdownGrace     = 5 * time.Second
)

// Server is the directory authority. It is an http.Handler; Serve runs it on
// a listener. Set the fields before the first request and do not change
// them afterwards. A Server is safe for concurrent use.
type Server struct {
	// Key signs the relay list. It must be set.
	Key ed25519.PrivateKey
	// RelayTTL is how long a relay stays listed after its descriptor was
	// published. Zero means DefaultRelayTTL.
	RelayTTL time.Duration
	// ListValidity is how long a served list is valid. Zero means
	// DefaultListValidity.
	ListValidity time.Duration
	// Logger receives the server's logs. Nil means discard.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// MaxRelays bounds the number of relays held; a new fingerprint beyond
	// it is refused with 503. Zero means DefaultMaxRelays.
	MaxRelays int
	// ServiceTTL is how long a hidden service stays reachable after its
	// descriptor was published. Zero means DefaultRelayTTL.
	ServiceTTL time.Duration
	// MaxServices bounds the number of hidden services held; a new address
	// beyond it is refused with 503. Zero means DefaultMaxServices.
	MaxServices int

	mu       sync.Mutex
	relays   map[string]*entry        // by fingerprint
	gen      uint64                   // bumped whenever relays changes
	cache    cachedList               // the last list served
	services map[string]*serviceEntry // by onion address, in lower case
}

// entry is one stored relay.
type entry struct {
	desc    onion.RelayDescriptor
	expires time.Time
}

// cachedList is a signed list, reused while nothing has changed within the
// same second, so a flood of GETs costs one signature per second, not one
// per request.
type cachedList struct {
	gen  uint64
	at   int64 // Unix seconds it was made
	body []byte
}

func (s *Server) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Server) relayTTL() time.Duration {
	if s.RelayTTL <= 0 {
		return DefaultRelayTTL
	}
	return s.RelayTTL
}

func (s *Server) listValidity() time.Duration {
	if s.ListValidity <= 0 {
		return DefaultListValidity
	}
	return s.ListValidity
}

func (s *Server) maxRelays() int {
	if s.MaxRelays <= 0 {
		return DefaultMaxRelays
	}
	return s.MaxRelays
}

// ServeHTTP routes the directory API. Routing is by hand, not http.ServeMux,
// so that 404 and 405 carry the same JSON error body as every other error.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/relays":
		switch r.Method {
		case http.MethodPost:
			s.handlePublish(w, r)
		case http.MethodGet:
			s.handleList(w, r)
		default:
			methodNotAllowed(w, "GET, POST")
		}
	case "/v1/key":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		s.handleKey(w)
	default:
		if s.routeService(w, r) {
			return
		}
		writeError(w, http.StatusNotFound, "no such endpoint")
	}
}

// Serve answers directory requests on ln until ctx is done, then shuts down
// gracefully, giving requests in flight a few seconds to finish. It returns
// nil after a shutdown caused by ctx, and the server's error otherwise. It
// closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if len(s.Key) != ed25519.PrivateKeySize {
		ln.Close()
		return errors.New("directory: server has no signing key")
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log().Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc: // Serve never returns nil
		return fmt.Errorf("directory: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close() // the grace period ran out: drop what is left
		err = fmt.Errorf("directory: shutdown: %w", err)
	}
	<-errc // http.ErrServerClosed, now that Shutdown or Close has run
	return err
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

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method not allowed")
}
