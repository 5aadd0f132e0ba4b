package directory

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"onion/onion"
)

// getSigned fetches the list without the client's checks.
func (h *harness) getSigned(t *testing.T) (onion.SignedList, []byte) {
	t.Helper()
	a := h.do(t, http.MethodGet, "/v1/relays", nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET /v1/relays: %d %s", a.status, a.body)
	}
	var s onion.SignedList
	if err := json.Unmarshal(a.body, &s); err != nil {
		t.Fatal(err)
	}
	return s, a.body
}

func TestListSignature(t *testing.T) {
	h := newHarness(t)
	if err := h.client.Publish(t.Context(), descriptor(t, 1, t0)); err != nil {
		t.Fatal(err)
	}
	s, _ := h.getSigned(t)
	pub := dirKey(1).Public().(ed25519.PublicKey)

	if _, err := s.Open([]ed25519.PublicKey{pub}, t0, time.Hour); err != nil {
		t.Fatalf("open with the directory key: %v", err)
	}
	other := dirKey(2).Public().(ed25519.PublicKey)
	if _, err := s.Open([]ed25519.PublicKey{other}, t0, time.Hour); !errors.Is(err, onion.ErrSignature) {
		t.Errorf("open with another key: %v, want ErrSignature", err)
	}
	tampered := s
	tampered.Document = strings.Replace(s.Document, "203.0.113.2:9001", "203.0.113.3:9001", 1)
	if tampered.Document == s.Document {
		t.Fatal("test did not tamper")
	}
	if _, err := tampered.Open([]ed25519.PublicKey{pub}, t0, time.Hour); !errors.Is(err, onion.ErrSignature) {
		t.Errorf("open a tampered list: %v, want ErrSignature", err)
	}
}

func TestListEmpty(t *testing.T) {
	h := newHarness(t)
	s, _ := h.getSigned(t)
	if !strings.Contains(s.Document, `"relays":[]`) {
		t.Errorf("empty list document %s, want \"relays\":[]", s.Document)
	}
}

func TestListCache(t *testing.T) {
	h := newHarness(t)
	_, first := h.getSigned(t)
	_, same := h.getSigned(t)
	if string(first) != string(same) {
		t.Error("two lists in the same second with no change differ")
	}
	if err := h.client.Publish(t.Context(), descriptor(t, 1, t0)); err != nil {
		t.Fatal(err)
	}
	if _, after := h.getSigned(t); string(after) == string(first) {
		t.Error("list served from cache after a publication")
	}
	h.clock.Set(t0.Add(time.Second))
	l, err := h.client.Relays(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if l.ValidAfter != t0.Unix()+1 || len(l.Relays) != 1 {
		t.Errorf("a second later: valid after %d with %d relays, want %d with 1", l.ValidAfter, len(l.Relays), t0.Unix()+1)
	}
}

func TestListValidity(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ListValidity = time.Minute })
	l, err := h.client.Relays(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if l.ValidAfter != t0.Unix() || l.ValidUntil != t0.Add(time.Minute).Unix() {
		t.Errorf("valid %d..%d, want %d..%d", l.ValidAfter, l.ValidUntil, t0.Unix(), t0.Add(time.Minute).Unix())
	}
}

func TestKeyEndpoint(t *testing.T) {
	h := newHarness(t)
	a := h.do(t, http.MethodGet, "/v1/key", nil)
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	want := onion.EncodeKey(dirKey(1).Public().(ed25519.PublicKey)) + "\n"
	if string(a.body) != want {
		t.Errorf("key %q, want %q", a.body, want)
	}
	k, err := onion.DecodeDirectoryKey(string(a.body))
	if err != nil || !k.Equal(dirKey(1).Public()) {
		t.Errorf("DecodeDirectoryKey(%q) = %x, %v", a.body, k, err)
	}
}

func TestRouting(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/", 404, ""},
		{"GET", "/v1/relay", 404, ""},
		{"GET", "/v1/relays/", 404, ""},
		{"GET", "/v1/relays/ABCDEF", 404, ""},
		{"POST", "/v2/relays", 404, ""},
		{"PUT", "/v1/relays", 405, "GET, POST"},
		{"DELETE", "/v1/relays", 405, "GET, POST"},
		{"POST", "/v1/key", 405, "GET"},
		{"GET", "/v1/services", 405, "POST"},
		{"POST", "/v1/services/x.onion", 405, "GET"},
		{"GET", "/v1/servicesx", 404, ""},
	}
	for _, tt := range tests {
		a := h.do(t, tt.method, tt.path, nil)
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			wantError(t, a, tt.status, "")
			if got := a.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
}

func TestServerWithoutKey(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Key = nil })
	wantError(t, h.do(t, http.MethodGet, "/v1/relays", nil), http.StatusInternalServerError, "relay list")
	wantError(t, h.do(t, http.MethodGet, "/v1/key", nil), http.StatusInternalServerError, "no key")
}
