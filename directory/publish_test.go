package directory

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"onion/onion"
)

func TestPublishAndList(t *testing.T) {
	h := newHarness(t)
	var want []onion.RelayDescriptor
	for n := range 3 {
		d := descriptor(t, n, t0)
		if err := h.client.Publish(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		want = append(want, d)
	}
	slices.SortFunc(want, func(a, b onion.RelayDescriptor) int {
		return strings.Compare(a.Fingerprint(), b.Fingerprint())
	})

	l, err := h.client.Relays(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l.Relays, want) {
		t.Errorf("listed relays differ from the published ones, in fingerprint order:\n got %+v\nwant %+v", l.Relays, want)
	}
	if l.ValidAfter != t0.Unix() || l.ValidUntil != t0.Add(DefaultListValidity).Unix() {
		t.Errorf("valid %d..%d, want %d..%d", l.ValidAfter, l.ValidUntil, t0.Unix(), t0.Add(DefaultListValidity).Unix())
	}
}

func TestPublishAnswer(t *testing.T) {
	h := newHarness(t)
	d := descriptor(t, 1, t0.Add(-30*time.Second))
	a := h.post(t, mustJSON(t, d))
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var res PublishResult
	if err := json.Unmarshal(a.body, &res); err != nil {
		t.Fatal(err)
	}
	// Life counts from the published time, not from arrival.
	want := PublishResult{Fingerprint: d.Fingerprint(), Expires: t0.Add(60 * time.Second).Unix()}
	if res != want {
		t.Errorf("answer %+v, want %+v", res, want)
	}
}

func TestPublishRefused(t *testing.T) {
	good := func(t *testing.T) onion.RelayDescriptor { return descriptor(t, 1, t0) }
	// resign re-signs after a change, so only the change itself is judged.
	resign := func(d onion.RelayDescriptor) onion.RelayDescriptor { d.Sign(relayKey(1)); return d }
	tests := []struct {
		name   string
		body   func(t *testing.T) []byte
		status int
		substr string
	}{
		{"bad signature", func(t *testing.T) []byte {
			d := good(t)
			d.Signature[5] ^= 0x01
			return mustJSON(t, d)
		}, 400, "bad signature"},
		{"signed by another key", func(t *testing.T) []byte {
			d := good(t)
			other := descriptor(t, 2, t0)
			d.Signature = other.Signature
			return mustJSON(t, d)
		}, 400, "bad signature"},
		{"tampered address", func(t *testing.T) []byte {
			d := good(t)
			d.Address = "203.0.113.9:9001"
			return mustJSON(t, d)
		}, 400, "bad signature"},
		{"tampered exit flag", func(t *testing.T) []byte {
			d := good(t)
			d.Exit = !d.Exit
			return mustJSON(t, d)
		}, 400, "bad signature"},
		{"tampered onion key", func(t *testing.T) []byte {
			d := good(t)
			d.OnionKey[0] ^= 0x80
			return mustJSON(t, d)
		}, 400, "bad signature"},
		{"tampered published", func(t *testing.T) []byte {
			d := good(t)
			d.Published++
			return mustJSON(t, d)
		}, 400, "bad signature"},
		{"unsigned", func(t *testing.T) []byte {
			d := good(t)
			d.Signature = nil
			return mustJSON(t, d)
		}, 400, "bad signature"},
		{"short identity key", func(t *testing.T) []byte {
			d := good(t)
			d.IdentityKey = d.IdentityKey[:31]
			return mustJSON(t, d)
		}, 400, "32 bytes"},
		{"bad nickname", func(t *testing.T) []byte {
			d := good(t)
			d.Nickname = "no spaces"
			return mustJSON(t, resign(d))
		}, 400, "nickname"},
		{"bad address", func(t *testing.T) []byte {
			d := good(t)
			d.Address = "127.0.0.1"
			return mustJSON(t, resign(d))
		}, 400, "address"},
		{"stale", func(t *testing.T) []byte {
			return mustJSON(t, descriptor(t, 1, t0.Add(-DefaultRelayTTL)))
		}, 400, "older than"},
		{"far in the future", func(t *testing.T) []byte {
			return mustJSON(t, descriptor(t, 1, t0.Add(onion.MaxClockSkew+time.Second)))
		}, 400, "ahead"},
		{"unknown field", func(t *testing.T) []byte {
			b := mustJSON(t, good(t))
			return append([]byte(`{"extra":1,`), b[1:]...)
		}, 400, "unknown field"},
		{"trailing data", func(t *testing.T) []byte {
			return append(mustJSON(t, good(t)), []byte(` {}`)...)
		}, 400, "after the descriptor"},
		{"two descriptors", func(t *testing.T) []byte {
			b := mustJSON(t, good(t))
			return append(b, b...)
		}, 400, "after the descriptor"},
		{"not JSON", func(*testing.T) []byte { return []byte("nickname=x") }, 400, "malformed"},
		{"empty body", func(*testing.T) []byte { return nil }, 400, "malformed"},
		{"JSON null", func(*testing.T) []byte { return []byte("null") }, 400, "nickname"},
		{"oversize", func(t *testing.T) []byte {
			// A valid descriptor followed by whitespace past the bound:
			// the bound applies before anything is parsed.
			b := mustJSON(t, good(t))
			return append(b, bytes.Repeat([]byte{' '}, MaxDescriptorBody)...)
		}, 413, "larger than"},
		{"oversize inside a field", func(t *testing.T) []byte {
			d := good(t)
			d.Nickname = strings.Repeat("a", MaxDescriptorBody)
			return mustJSON(t, d)
		}, 413, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			wantError(t, h.post(t, tt.body(t)), tt.status, tt.substr)
			if got := h.listed(t); len(got) != 0 {
				t.Errorf("refused descriptor was stored: %v", got)
			}
			if !strings.Contains(h.logs.String(), "level=WARN msg=\"descriptor refused\"") {
				t.Errorf("refusal not logged at warn:\n%s", h.logs)
			}
		})
	}
}

func TestPublishClockSkewEdges(t *testing.T) {
	for _, pub := range []time.Time{
		t0.Add(onion.MaxClockSkew),                 // as far ahead as allowed
		t0.Add(-DefaultRelayTTL + time.Second),     // one second of life left
		t0.Add(-DefaultRelayTTL + 2*time.Second),   // two
		t0.Add(onion.MaxClockSkew - time.Second),   // just inside
		t0.Add(-time.Second).Add(time.Millisecond), // fractions are truncated
	} {
		h := newHarness(t)
		if a := h.post(t, mustJSON(t, descriptor(t, 1, pub))); a.status != http.StatusOK {
			t.Errorf("published %s relative to now: status %d: %s", pub.Sub(t0), a.status, a.body)
		}
	}
}

func TestPublishReplay(t *testing.T) {
	h := newHarness(t)
	older := descriptor(t, 1, t0.Add(-10*time.Second))
	newer := descriptor(t, 1, t0)
	newer.Address = "127.0.0.1:9999"
	newer.Sign(relayKey(1))

	if a := h.post(t, mustJSON(t, newer)); a.status != http.StatusOK {
		t.Fatalf("newer: %d %s", a.status, a.body)
	}
	wantError(t, h.post(t, mustJSON(t, older)), http.StatusConflict, "older than the stored")

	// A different descriptor with the same published time is also refused.
	same := descriptor(t, 1, t0)
	wantError(t, h.post(t, mustJSON(t, same)), http.StatusConflict, "different descriptor")

	l, err := h.client.Relays(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Relays) != 1 || l.Relays[0].Address != newer.Address {
		t.Errorf("after replays the list holds %+v, want only the newer descriptor", l.Relays)
	}
}

func TestPublishRetryIsIdempotent(t *testing.T) {
	h := newHarness(t)
	d := descriptor(t, 1, t0)
	first := h.post(t, mustJSON(t, d))
	h.clock.Set(t0.Add(60 * time.Second))
	again := h.post(t, mustJSON(t, d))
	if first.status != 200 || again.status != 200 {
		t.Fatalf("statuses %d, %d: %s %s", first.status, again.status, first.body, again.body)
	}
	// Re-sending the same descriptor must not extend its life: that is what
	// would let anyone who saw it keep a dead relay listed.
	if !bytes.Equal(first.body, again.body) {
		t.Errorf("answers differ: %s then %s", first.body, again.body)
	}
	h.clock.Set(t0.Add(DefaultRelayTTL))
	if got := h.listed(t); len(got) != 0 {
		t.Errorf("re-sent descriptor outlived its RelayTTL: %v", got)
	}
}

func TestPublishFull(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.MaxRelays = 2 })
	for n := range 2 {
		if a := h.post(t, mustJSON(t, descriptor(t, n, t0))); a.status != 200 {
			t.Fatalf("relay %d: %d %s", n, a.status, a.body)
		}
	}
	wantError(t, h.post(t, mustJSON(t, descriptor(t, 2, t0))), http.StatusServiceUnavailable, "full")

	// A listed relay may still refresh itself when the directory is full.
	h.clock.Set(t0.Add(30 * time.Second))
	if a := h.post(t, mustJSON(t, descriptor(t, 0, t0.Add(30*time.Second)))); a.status != 200 {
		t.Fatalf("refresh when full: %d %s", a.status, a.body)
	}
	// Once relay 1 expires, there is room again.
	h.clock.Set(t0.Add(DefaultRelayTTL))
	if a := h.post(t, mustJSON(t, descriptor(t, 2, t0.Add(DefaultRelayTTL)))); a.status != 200 {
		t.Fatalf("after expiry: %d %s", a.status, a.body)
	}
	if got, want := h.listed(t), []string{"relay0", "relay2"}; !sameSet(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
}

func TestExpiry(t *testing.T) {
	h := newHarness(t)
	for n := range 2 {
		if err := h.client.Publish(t.Context(), descriptor(t, n, t0)); err != nil {
			t.Fatal(err)
		}
	}
	// relay0 re-publishes half way; relay1 falls silent.
	h.clock.Set(t0.Add(45 * time.Second))
	if err := h.client.Publish(t.Context(), descriptor(t, 0, t0.Add(45*time.Second))); err != nil {
		t.Fatal(err)
	}

	h.clock.Set(t0.Add(DefaultRelayTTL - time.Second))
	if got := h.listed(t); !sameSet(got, []string{"relay0", "relay1"}) {
		t.Errorf("one second before expiry: listed %v", got)
	}
	h.clock.Set(t0.Add(DefaultRelayTTL))
	for range 3 {
		if got := h.listed(t); !sameSet(got, []string{"relay0"}) {
			t.Errorf("at expiry: listed %v, want only relay0", got)
		}
	}
	if n := strings.Count(h.logs.String(), `msg="relay expired" nickname=relay1`); n != 1 {
		t.Errorf(`"relay expired" logged %d times for relay1, want once:\n%s`, n, h.logs)
	}
	h.clock.Set(t0.Add(45*time.Second + DefaultRelayTTL))
	if got := h.listed(t); len(got) != 0 {
		t.Errorf("after both expired: listed %v", got)
	}
}

func TestCustomTTL(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.RelayTTL = 10 * time.Second; s.ListValidity = time.Minute })
	if err := h.client.Publish(t.Context(), descriptor(t, 1, t0)); err != nil {
		t.Fatal(err)
	}
	l, err := h.client.Relays(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if l.ValidUntil != t0.Add(time.Minute).Unix() {
		t.Errorf("valid until %d, want %d", l.ValidUntil, t0.Add(time.Minute).Unix())
	}
	h.clock.Set(t0.Add(10 * time.Second))
	if got := h.listed(t); len(got) != 0 {
		t.Errorf("listed after a 10s RelayTTL: %v", got)
	}
	var se *StatusError
	err = h.client.Publish(t.Context(), descriptor(t, 1, t0))
	if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest {
		t.Errorf("republishing the dead descriptor: %v, want a 400 StatusError", err)
	}
}

func TestLogs(t *testing.T) {
	h := newHarness(t)
	d := descriptor(t, 1, t0)
	for range 2 {
		if err := h.client.Publish(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	bad := d
	bad.Signature = bytes.Clone(d.Signature)
	bad.Signature[0] ^= 1
	h.post(t, mustJSON(t, bad))
	logs := h.logs.String()

	if n := strings.Count(logs, `level=INFO msg="relay published" nickname=relay1 peer=`+d.Fingerprint()); n != 1 {
		t.Errorf("info \"relay published\" logged %d times, want once", n)
	}
	if !strings.Contains(logs, `level=DEBUG msg="relay published"`) {
		t.Error("second publication not logged at debug")
	}
	// Public keys are not secrets, but the logs have no use for them either,
	// and the habit is what keeps secret ones out.
	for name, b := range map[string][]byte{"identity key": d.IdentityKey, "onion key": d.OnionKey, "signature": d.Signature} {
		for _, enc := range []string{base64.StdEncoding.EncodeToString(b), onion.EncodeKey(b), hex.EncodeToString(b), fmt.Sprintf("%X", b)} {
			if strings.Contains(logs, enc[:20]) {
				t.Errorf("logs contain the %s", name)
			}
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
