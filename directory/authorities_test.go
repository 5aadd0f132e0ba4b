package directory

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onion/onion"
)

// listServer serves whatever body holds at GET /v1/relays and accepts
// or refuses (with 503) every publication.
type listServer struct {
	ts     *httptest.Server
	body   atomic.Pointer[[]byte]
	refuse atomic.Bool
}

func newListServer(t *testing.T) *listServer {
	ls := &listServer{}
	ls.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			var d onion.RelayDescriptor
			json.NewDecoder(r.Body).Decode(&d)
			if ls.refuse.Load() {
				writeError(w, http.StatusServiceUnavailable, "directory is full")
				return
			}
			writeJSON(w, http.StatusOK, PublishResult{Fingerprint: d.Fingerprint()})
			return
		}
		b := ls.body.Load()
		if b == nil {
			writeError(w, http.StatusServiceUnavailable, "nothing yet")
			return
		}
		writeBody(w, http.StatusOK, "application/json", *b)
	}))
	t.Cleanup(ls.ts.Close)
	return ls
}

// serve makes ls serve the list of relays valid from at for validity,
// signed by the authority keys numbered by signers.
func (ls *listServer) serve(t *testing.T, at time.Time, validity time.Duration, relays []onion.RelayDescriptor, signers ...int) {
	t.Helper()
	doc, err := json.Marshal(onion.RelayList{ValidAfter: at.Unix(), ValidUntil: at.Add(validity).Unix(), Relays: relays})
	if err != nil {
		t.Fatal(err)
	}
	s := onion.SignedList{Document: string(doc)}
	for _, i := range signers {
		s.Signatures = append(s.Signatures, onion.SignList(string(doc), dirKey(byte(10+i))))
	}
	b := mustJSON(t, s)
	ls.body.Store(&b)
}

// threeAuthorities are three list servers and the client that trusts them,
// whose clock is c and whose logs go to logs.
func threeAuthorities(t *testing.T, c *clock, logs *syncBuffer) ([]*listServer, *Authorities) {
	var servers []*listServer
	var list []Authority
	for i := range 3 {
		ls := newListServer(t)
		servers = append(servers, ls)
		list = append(list, Authority{URL: ls.ts.URL, Key: dirKey(byte(10 + i)).Public().(ed25519.PublicKey)})
	}
	a := NewAuthorities(list)
	a.Now = c.Now
	a.Logger = slog.New(slog.NewTextHandler(logs, nil))
	return servers, a
}

func TestAuthoritiesRefuseRollback(t *testing.T) {
	c, logs := &clock{t: t0}, &syncBuffer{}
	servers, a := threeAuthorities(t, c, logs)
	one := []onion.RelayDescriptor{descriptor(t, 1, t0)}
	for _, ls := range servers {
		ls.serve(t, t0, 10*time.Minute, one, 0, 1, 2)
	}
	if _, err := a.Relays(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Every authority now serves a list older than the one held, signed
	// by all: each is refused as a rollback.
	for _, ls := range servers {
		ls.serve(t, t0.Add(-time.Minute), 10*time.Minute, nil, 0, 1, 2)
	}
	if _, err := a.Relays(t.Context()); !errors.Is(err, ErrRollback) {
		t.Fatalf("Relays with only older lists: %v, want ErrRollback", err)
	}
	if !strings.Contains(logs.String(), "older than the list held") {
		t.Errorf("no rollback logged:\n%s", logs)
	}
	// The same list again is fine, and so is a newer one.
	servers[1].serve(t, t0, 10*time.Minute, one, 0, 1)
	if _, err := a.Relays(t.Context()); err != nil {
		t.Errorf("the same round's list again: %v", err)
	}
	servers[2].serve(t, t0.Add(time.Minute), 10*time.Minute, nil, 1, 2)
	c.Set(t0.Add(time.Minute))
	for range 3 { // whichever authority is asked first, it gets there
		if l, err := a.Relays(t.Context()); err == nil && l.ValidAfter == t0.Add(time.Minute).Unix() {
			return
		}
	}
	t.Error("a newer list signed by a majority was never accepted")
}

func TestAuthoritiesRefuseExpired(t *testing.T) {
	c, logs := &clock{t: t0}, &syncBuffer{}
	servers, a := threeAuthorities(t, c, logs)
	for _, ls := range servers {
		ls.serve(t, t0, 10*time.Minute, nil, 0, 1, 2)
	}
	c.Set(t0.Add(time.Hour))
	_, err := a.Relays(t.Context())
	if !errors.Is(err, onion.ErrListExpired) {
		t.Fatalf("Relays with only expired lists: %v, want ErrListExpired", err)
	}
	if !strings.Contains(logs.String(), "relay list is not valid now") {
		t.Errorf("expiry not logged:\n%s", logs)
	}
}

// TestAuthoritiesRouteAroundLiar: one authority serves a list only it
// signed (three times); the others a list the majority signed. Relays
// always ends with the majority's, and logs the refusal.
func TestAuthoritiesRouteAroundLiar(t *testing.T) {
	c, logs := &clock{t: t0}, &syncBuffer{}
	servers, a := threeAuthorities(t, c, logs)
	servers[0].serve(t, t0, 10*time.Minute, []onion.RelayDescriptor{descriptor(t, 9, t0)}, 0, 0, 0)
	servers[1].serve(t, t0, 10*time.Minute, []onion.RelayDescriptor{descriptor(t, 1, t0)}, 1, 2)
	servers[2].ts.Close()
	for range 6 {
		l, err := a.Relays(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if fps := fingerprints(l); len(fps) != 1 || fps[0] != relayFingerprint(1) {
			t.Fatalf("listed %v, want relay 1 only", fps)
		}
	}
	if !strings.Contains(logs.String(), "signed by 1 of 3, need 2") {
		t.Errorf("forged list not logged:\n%s", logs)
	}
}

func TestAuthoritiesPublishMajority(t *testing.T) {
	c, logs := &clock{t: t0}, &syncBuffer{}
	servers, a := threeAuthorities(t, c, logs)
	d := descriptor(t, 1, t0)
	servers[0].refuse.Store(true)
	if err := a.Publish(t.Context(), d); err != nil {
		t.Errorf("Publish accepted by two of three: %v", err)
	}
	servers[1].ts.Close()
	err := a.Publish(t.Context(), d)
	if err == nil || !strings.Contains(err.Error(), "accepted by 1 of 3 authorities, need 2") ||
		!strings.Contains(err.Error(), "directory is full") {
		t.Errorf("Publish accepted by one of three: %v", err)
	}
}

// TestAuthoritiesService: a service descriptor is published to every
// authority and fetched from all, the newest winning, so one authority
// that is down, withholds the descriptor or serves a stale one is routed
// around.
func TestAuthoritiesService(t *testing.T) {
	c := &clock{t: t0}
	var hs []*harness
	var list []Authority
	for range 3 {
		h := newHarness(t, func(cfg *Config) { cfg.Now = c.Now })
		hs = append(hs, h)
		list = append(list, Authority{URL: h.ts.URL, Key: dirKey(1).Public().(ed25519.PublicKey)})
	}
	a := NewAuthorities(list)
	a.Now = c.Now
	old := serviceDescriptor(t, 1, t0)
	if err := a.PublishService(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	c.Set(t0.Add(30 * time.Second))
	fresh := serviceDescriptor(t, 1, t0.Add(30*time.Second))
	if err := (&Client{URL: list[1].URL, Now: c.Now}).PublishService(t.Context(), fresh); err != nil {
		t.Fatal(err)
	}
	hs[2].ts.Close() // down
	got, err := a.Service(t.Context(), serviceAddress(1))
	if err != nil {
		t.Fatal(err)
	}
	if got.Published != fresh.Published {
		t.Errorf("got the descriptor published at %d, want the newest (%d)", got.Published, fresh.Published)
	}
	if _, err := a.Service(t.Context(), serviceAddress(2)); !errors.Is(err, ErrUnknownService) {
		t.Errorf("an address nobody published, one authority down: %v, want ErrUnknownService", err)
	}
	hs[1].ts.Close()
	if err := a.PublishService(t.Context(), fresh); err != nil {
		t.Errorf("PublishService with one authority of three up: %v", err)
	}
	hs[0].ts.Close()
	if err := a.PublishService(t.Context(), fresh); err == nil {
		t.Error("PublishService succeeded with every authority down")
	}
}

// TestAuthoritiesServiceUnknown: every authority answering 404 is
// ErrUnknownService, as from one directory.
func TestAuthoritiesServiceUnknown(t *testing.T) {
	var list []Authority
	for range 3 {
		h := newHarness(t)
		list = append(list, Authority{URL: h.ts.URL, Key: dirKey(1).Public().(ed25519.PublicKey)})
	}
	if _, err := NewAuthorities(list).Service(t.Context(), serviceAddress(3)); !errors.Is(err, ErrUnknownService) {
		t.Errorf("Service of an unknown address: %v, want ErrUnknownService", err)
	}
}

// TestAuthoritiesWrongKeySaysSo: lists that no trusted key signed (the
// client was given another directory's key) are refused with a log line
// naming --directory-key; other refusals do not blame the key.
func TestAuthoritiesWrongKeySaysSo(t *testing.T) {
	c, logs := &clock{t: t0}, &syncBuffer{}
	servers, a := threeAuthorities(t, c, logs)
	for _, ls := range servers {
		ls.serve(t, t0, 10*time.Minute, nil, 7) // signed by a key nobody trusts
	}
	if _, err := a.Relays(t.Context()); !errors.Is(err, onion.ErrSignature) {
		t.Fatalf("Relays: %v, want ErrSignature", err)
	}
	if !strings.Contains(logs.String(), "check --directory-key") {
		t.Errorf("the refusal does not name --directory-key:\n%s", logs)
	}
	c2, logs2 := &clock{t: t0.Add(time.Hour)}, &syncBuffer{}
	servers, a = threeAuthorities(t, c2, logs2)
	for _, ls := range servers {
		ls.serve(t, t0, 10*time.Minute, nil, 0, 1, 2)
	}
	a.Relays(t.Context())
	if strings.Contains(logs2.String(), "--directory-key") {
		t.Errorf("an expired list blamed the key:\n%s", logs2)
	}
}
