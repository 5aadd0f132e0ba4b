package directory

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"onion/onion"
)

// t0 is the fixed time every test starts at.
var t0 = time.Unix(1_700_000_000, 0)

// clock is a settable clock for Server.Now and Client.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func seed32(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// dirKey is a directory key from a fixed seed.
func dirKey(b byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(seed32(b)) }

// relayKey is a relay identity key from a fixed seed.
func relayKey(n int) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(seed32(byte(100 + n))) }

// descriptor is relay n's descriptor published at pub, signed.
func descriptor(t testing.TB, n int, pub time.Time) onion.RelayDescriptor {
	t.Helper()
	ok, err := onion.GenerateOnionKey(bytes.NewReader(seed32(byte(200 + n))))
	if err != nil {
		t.Fatal(err)
	}
	d := onion.RelayDescriptor{
		Nickname:  fmt.Sprintf("relay%d", n),
		Address:   fmt.Sprintf("203.0.113.%d:9001", 1+n), // a public (documentation) address
		OnionKey:  ok.PublicKey().Bytes(),
		Exit:      n%2 == 0,
		Published: pub.Unix(),
	}
	d.Sign(relayKey(n))
	return d
}

// serviceKey is hidden service n's key from a fixed seed.
func serviceKey(n int) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(seed32(byte(50 + n))) }

// serviceDescriptor is hidden service n's descriptor published at pub, with
// relays 0 and 1 as meeting points, signed.
func serviceDescriptor(t testing.TB, n int, pub time.Time) onion.ServiceDescriptor {
	t.Helper()
	d := onion.ServiceDescriptor{E2EKey: seed32(byte(80 + n)), Published: pub.Unix()}
	for i := range 2 {
		r := descriptor(t, i, pub)
		d.MeetingPoints = append(d.MeetingPoints, onion.MeetingPoint{
			Nickname: r.Nickname, Address: r.Address, IdentityKey: r.IdentityKey, OnionKey: r.OnionKey})
	}
	d.Sign(serviceKey(n))
	return d
}

// serviceAddress is hidden service n's onion address.
func serviceAddress(n int) string {
	return onion.EncodeAddress(serviceKey(n).Public().(ed25519.PublicKey))
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// harness is a directory's handler behind httptest with a settable clock
// and captured logs.
type harness struct {
	srv    *server
	ts     *httptest.Server
	clock  *clock
	logs   *syncBuffer
	client *Client
}

func newHarness(t *testing.T, configure ...func(*Config)) *harness {
	t.Helper()
	h := &harness{clock: &clock{t: t0}, logs: &syncBuffer{}}
	cfg := Config{
		Key:    dirKey(1),
		Now:    h.clock.Now,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, f := range configure {
		f(&cfg)
	}
	h.srv, _ = newServer(cfg)
	h.ts = httptest.NewServer(h.srv)
	t.Cleanup(h.ts.Close)
	h.client = &Client{
		URL:  h.ts.URL,
		Key:  dirKey(1).Public().(ed25519.PublicKey),
		HTTP: h.ts.Client(),
		Now:  h.clock.Now,
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server logs:\n%s", h.logs)
		}
	})
	return h
}

// answer is a decoded HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (h *harness) do(t testing.TB, method, path string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

func (h *harness) post(t testing.TB, body []byte) answer {
	t.Helper()
	return h.do(t, http.MethodPost, relaysPath, body)
}

func (h *harness) postService(t testing.TB, body []byte) answer {
	t.Helper()
	return h.do(t, http.MethodPost, servicesPath, body)
}

func (h *harness) getService(t testing.TB, addr string) answer {
	t.Helper()
	return h.do(t, http.MethodGet, servicesPath+"/"+addr, nil)
}

// wantError checks a is a JSON error answer with the given status whose
// text contains substr.
func wantError(t testing.TB, a answer, status int, substr string) {
	t.Helper()
	if a.status != status {
		t.Errorf("status %d, want %d (body %s)", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var eb struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(a.body, &eb); err != nil || eb.Error == "" {
		t.Fatalf("body %q is not a JSON error (%v)", a.body, err)
	}
	if !strings.Contains(eb.Error, substr) {
		t.Errorf("error %q does not mention %q", eb.Error, substr)
	}
}

// kind is one of the two sorts of descriptor the directory stores, for the
// tests whose cases are the same for both.
type kind struct {
	name    string // what the directory calls them, in the plural
	path    string // where they are published
	limit   int    // the largest body accepted
	keyName string // the field of the publish answer that names the key
	// desc is descriptor n published at pub, signed, in JSON; variant is
	// another one for the same n and time, also signed.
	desc, variant func(t testing.TB, n int, pub time.Time) []byte
	key           func(n int) string // what n is stored under
	// stored is n's descriptor in JSON as the directory gives it out to
	// clients, or nil if it gives out none.
	stored     func(h *harness, t testing.TB, n int) []byte
	refusedLog string             // the warning a refusal logs
	expiredLog func(n int) string // what the line saying n expired holds
	limits     func(c *Config, ttl time.Duration, max int)
}

var relayKind = kind{
	name: "relays", path: relaysPath, limit: MaxDescriptorBody, keyName: "fingerprint",
	desc: func(t testing.TB, n int, pub time.Time) []byte { return mustJSON(t, descriptor(t, n, pub)) },
	variant: func(t testing.TB, n int, pub time.Time) []byte {
		d := descriptor(t, n, pub)
		d.Address = "198.51.100.1:9999"
		d.Sign(relayKey(n))
		return mustJSON(t, d)
	},
	key: relayFingerprint,
	stored: func(h *harness, t testing.TB, n int) []byte {
		l, err := h.client.Relays(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range l.Relays {
			if d.Fingerprint() == relayFingerprint(n) {
				d.Weight = 0 // the authority's, not the relay's (weight_test.go)
				return mustJSON(t, d)
			}
		}
		return nil
	},
	refusedLog: `level=WARN msg="descriptor refused"`,
	expiredLog: func(n int) string { return fmt.Sprintf(`msg="relay expired" nickname=relay%d`, n) },
	limits:     func(c *Config, ttl time.Duration, max int) { c.RelayTTL, c.MaxRelays = ttl, max },
}

var serviceKind = kind{
	name: "services", path: servicesPath, limit: MaxServiceBody, keyName: "address",
	desc: func(t testing.TB, n int, pub time.Time) []byte { return mustJSON(t, serviceDescriptor(t, n, pub)) },
	variant: func(t testing.TB, n int, pub time.Time) []byte {
		d := serviceDescriptor(t, n, pub)
		d.MeetingPoints = d.MeetingPoints[:1]
		d.Sign(serviceKey(n))
		return mustJSON(t, d)
	},
	key: serviceAddress,
	stored: func(h *harness, t testing.TB, n int) []byte {
		d, err := h.client.Service(t.Context(), serviceAddress(n))
		if errors.Is(err, ErrUnknownService) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return mustJSON(t, d)
	},
	refusedLog: `level=WARN msg="service descriptor refused"`,
	expiredLog: func(n int) string {
		return `msg="service expired" service=` + serviceTag(serviceKey(n).Public().(ed25519.PublicKey))
	},
	limits: func(c *Config, ttl time.Duration, max int) { c.ServiceTTL, c.MaxServices = ttl, max },
}

var kinds = []kind{relayKind, serviceKind}

// forKinds runs test once for each kind.
func forKinds(t *testing.T, test func(t *testing.T, k kind)) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) { test(t, k) })
	}
}

func relayFingerprint(n int) string {
	return onion.Fingerprint(relayKey(n).Public().(ed25519.PublicKey))
}

// refusedCase is a body the directory must refuse, with the status and a
// piece of the reason it must answer.
type refusedCase struct {
	name   string
	body   func(t *testing.T) []byte
	status int
	substr string
}

// changedBody is a refusal case's body: good's descriptor, changed by
// change, in JSON.
func changedBody[D any](good func(testing.TB) D, change func(*D)) func(*testing.T) []byte {
	return func(t *testing.T) []byte {
		d := good(t)
		change(&d)
		return mustJSON(t, d)
	}
}

// testRefused posts each case's body to a fresh directory and checks that
// it is refused as the case says, stores nothing and logs a warning.
func testRefused(t *testing.T, k kind, cases []refusedCase) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			wantError(t, h.do(t, http.MethodPost, k.path, tt.body(t)), tt.status, tt.substr)
			if got := k.stored(h, t, 1); got != nil {
				t.Errorf("refused descriptor was stored: %s", got)
			}
			if !strings.Contains(h.logs.String(), k.refusedLog) {
				t.Errorf("refusal not logged at warn:\n%s", h.logs)
			}
		})
	}
}

// wantNoKeys fails if logs hold the start of any of keys, in any of the
// encodings a careless log line would use. Public keys are not secrets, but
// the logs have no use for them either, and the habit is what keeps secret
// ones out.
func wantNoKeys(t *testing.T, logs string, keys map[string][]byte) {
	t.Helper()
	for name, b := range keys {
		for _, enc := range []string{base64.StdEncoding.EncodeToString(b), onion.EncodeKey(b), hex.EncodeToString(b), fmt.Sprintf("%X", b)} {
			if strings.Contains(logs, enc[:20]) {
				t.Errorf("logs contain the %s", name)
			}
		}
	}
}
