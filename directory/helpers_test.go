package directory

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
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
		Address:   fmt.Sprintf("127.0.0.1:%d", 9000+n),
		OnionKey:  ok.PublicKey().Bytes(),
		Exit:      n%2 == 0,
		Published: pub.Unix(),
	}
	d.Sign(relayKey(n))
	return d
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// harness is a Server behind httptest with a settable clock and captured logs.
type harness struct {
	srv    *Server
	ts     *httptest.Server
	clock  *clock
	logs   *syncBuffer
	client *Client
}

func newHarness(t *testing.T, configure ...func(*Server)) *harness {
	t.Helper()
	h := &harness{clock: &clock{t: t0}, logs: &syncBuffer{}}
	h.srv = &Server{
		Key:    dirKey(1),
		Now:    h.clock.Now,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, f := range configure {
		f(h.srv)
	}
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
	return h.do(t, http.MethodPost, "/v1/relays", body)
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

// listed returns the nicknames the directory lists now, checked with the
// client.
func (h *harness) listed(t testing.TB) []string {
	t.Helper()
	l, err := h.client.Relays(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range l.Relays {
		names = append(names, d.Nickname)
	}
	return names
}
