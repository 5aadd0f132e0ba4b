package directory

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"onion/onion"
)

// The first tests here run the same cases over relays and hidden services,
// which the directory stores by the same rules; the TestRelay ones after
// them, and services_test.go, hold what is particular to each.

func TestPublishAnswer(t *testing.T) {
	forKinds(t, func(t *testing.T, k kind) {
		h := newHarness(t)
		a := h.do(t, http.MethodPost, k.path, k.desc(t, 1, t0.Add(-30*time.Second)))
		// Life counts from the published time, not from arrival.
		want := fmt.Sprintf(`{"%s":"%s","expires":%d}`+"\n", k.keyName, k.key(1), t0.Add(DefaultRelayTTL-30*time.Second).Unix())
		if a.status != http.StatusOK || string(a.body) != want {
			t.Errorf("answer %d %s, want 200 %s", a.status, a.body, want)
		}
	})
}

func TestPublishRefused(t *testing.T) {
	forKinds(t, func(t *testing.T, k kind) {
		good := func(t *testing.T) []byte { return k.desc(t, 1, t0) }
		testRefused(t, k, []refusedCase{
			{"stale", func(t *testing.T) []byte { return k.desc(t, 1, t0.Add(-DefaultRelayTTL)) }, 400, "older than"},
			{"far in the future", func(t *testing.T) []byte {
				return k.desc(t, 1, t0.Add(onion.MaxClockSkew+time.Second))
			}, 400, "ahead"},
			{"unknown field", func(t *testing.T) []byte {
				return append([]byte(`{"extra":1,`), good(t)[1:]...)
			}, 400, "unknown field"},
			{"trailing data", func(t *testing.T) []byte { return append(good(t), []byte(` {}`)...) }, 400, "after the descriptor"},
			{"two descriptors", func(t *testing.T) []byte { return append(good(t), good(t)...) }, 400, "after the descriptor"},
			{"not JSON", func(*testing.T) []byte { return []byte("key=x") }, 400, "malformed"},
			{"empty body", func(*testing.T) []byte { return nil }, 400, "malformed"},
			{"oversize", func(t *testing.T) []byte {
				// A valid descriptor followed by whitespace past the bound:
				// the bound applies before anything is parsed.
				return append(good(t), bytes.Repeat([]byte{' '}, k.limit)...)
			}, 413, "larger than"},
		})
	})
}

func TestPublishClockSkewEdges(t *testing.T) {
	forKinds(t, func(t *testing.T, k kind) {
		for _, pub := range []time.Time{
			t0.Add(onion.MaxClockSkew),                 // as far ahead as allowed
			t0.Add(-DefaultRelayTTL + time.Second),     // one second of life left
			t0.Add(-DefaultRelayTTL + 2*time.Second),   // two
			t0.Add(onion.MaxClockSkew - time.Second),   // just inside
			t0.Add(-time.Second).Add(time.Millisecond), // fractions are truncated
		} {
			h := newHarness(t)
			if a := h.do(t, http.MethodPost, k.path, k.desc(t, 1, pub)); a.status != http.StatusOK {
				t.Errorf("published %s relative to now: status %d: %s", pub.Sub(t0), a.status, a.body)
			}
		}
	})
}

func TestPublishReplay(t *testing.T) {
	forKinds(t, func(t *testing.T, k kind) {
		h := newHarness(t)
		newer := k.variant(t, 1, t0)
		first := h.do(t, http.MethodPost, k.path, newer)
		if first.status != http.StatusOK {
			t.Fatalf("newer: %d %s", first.status, first.body)
		}
		wantError(t, h.do(t, http.MethodPost, k.path, k.desc(t, 1, t0.Add(-10*time.Second))),
			http.StatusConflict, "older than the stored")
		// A different descriptor with the same published time is also refused.
		wantError(t, h.do(t, http.MethodPost, k.path, k.desc(t, 1, t0)), http.StatusConflict, "different descriptor")

		// The same descriptor again is a harmless retry, and must not extend
		// its life: that is what would let anyone who saw it keep a dead
		// relay or service alive.
		h.clock.Set(t0.Add(30 * time.Second))
		if again := h.do(t, http.MethodPost, k.path, newer); again.status != http.StatusOK || !bytes.Equal(first.body, again.body) {
			t.Errorf("retry answered %d %s, want 200 %s", again.status, again.body, first.body)
		}
		if got := k.stored(h, t, 1); !bytes.Equal(got, newer) {
			t.Errorf("after replays the directory gives out %s, want the newer descriptor", got)
		}
		h.clock.Set(t0.Add(DefaultRelayTTL))
		if got := k.stored(h, t, 1); got != nil {
			t.Errorf("re-sent descriptor outlived its TTL: %s", got)
		}
	})
}

func TestPublishFull(t *testing.T) {
	forKinds(t, func(t *testing.T, k kind) {
		h := newHarness(t, func(c *Config) { k.limits(c, 0, 2) })
		post := func(n int, pub time.Time) answer { return h.do(t, http.MethodPost, k.path, k.desc(t, n, pub)) }
		for n := range 2 {
			if a := post(n, t0); a.status != 200 {
				t.Fatalf("%d: %d %s", n, a.status, a.body)
			}
		}
		wantError(t, post(2, t0), http.StatusServiceUnavailable, "directory is full (2 "+k.name+")")

		// A held one may still refresh itself when the directory is full.
		h.clock.Set(t0.Add(30 * time.Second))
		if a := post(0, t0.Add(30*time.Second)); a.status != 200 {
			t.Fatalf("refresh when full: %d %s", a.status, a.body)
		}
		// Once 1 expires, there is room again.
		h.clock.Set(t0.Add(DefaultRelayTTL))
		if a := post(2, t0.Add(DefaultRelayTTL)); a.status != 200 {
			t.Fatalf("after expiry: %d %s", a.status, a.body)
		}
		for n, want := range []bool{true, false, true} {
			if got := k.stored(h, t, n) != nil; got != want {
				t.Errorf("%d held: %v, want %v", n, got, want)
			}
		}
		// Relays and services are counted apart.
		o := kinds[0]
		if o.name == k.name {
			o = kinds[1]
		}
		if a := h.do(t, http.MethodPost, o.path, o.desc(t, 3, t0.Add(DefaultRelayTTL))); a.status != 200 {
			t.Errorf("%s publish with %s full: %d %s", o.name, k.name, a.status, a.body)
		}
	})
}

func TestExpiry(t *testing.T) {
	forKinds(t, func(t *testing.T, k kind) {
		for _, ttl := range []time.Duration{0, 10 * time.Second, 5 * time.Minute} {
			t.Run(fmt.Sprint(ttl), func(t *testing.T) {
				h := newHarness(t, func(c *Config) { k.limits(c, ttl, 0) })
				if ttl == 0 {
					ttl = DefaultRelayTTL
				}
				post := func(n int, pub time.Time) answer { return h.do(t, http.MethodPost, k.path, k.desc(t, n, pub)) }
				post(0, t0)
				post(1, t0)
				// 0 re-publishes half way; 1 falls silent.
				half := t0.Add(ttl / 2)
				h.clock.Set(half)
				if a := post(0, half); a.status != http.StatusOK {
					t.Fatalf("refresh: %d %s", a.status, a.body)
				}
				h.clock.Set(t0.Add(ttl - time.Second))
				if k.stored(h, t, 0) == nil || k.stored(h, t, 1) == nil {
					t.Error("one second before expiry: not both held")
				}
				h.clock.Set(t0.Add(ttl))
				for range 2 {
					if k.stored(h, t, 0) == nil || k.stored(h, t, 1) != nil {
						t.Error("at 1's expiry: want only 0 held")
					}
				}
				if n := strings.Count(h.logs.String(), k.expiredLog(1)); n != 1 {
					t.Errorf("%q logged %d times, want once:\n%s", k.expiredLog(1), n, h.logs)
				}
				// Re-sending the dead descriptor does not revive it.
				wantError(t, post(1, t0), http.StatusBadRequest, "older than")
				h.clock.Set(half.Add(ttl))
				if k.stored(h, t, 0) != nil {
					t.Error("0 held after its own expiry")
				}
			})
		}
	})
}

func TestRelayPublishAndList(t *testing.T) {
	h := newHarness(t)
	var want []onion.RelayDescriptor
	for n := range 3 {
		d := descriptor(t, n, t0)
		if err := h.client.Publish(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		d.Weight = onion.UnadvertisedWeight // the authority's (weight_test.go)
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

func TestRelayPublishRefused(t *testing.T) {
	good := func(t testing.TB) onion.RelayDescriptor { return descriptor(t, 1, t0) }
	// resign re-signs after a change, so only the change itself is judged.
	resign := func(d onion.RelayDescriptor) onion.RelayDescriptor { d.Sign(relayKey(1)); return d }
	changed := func(change func(d *onion.RelayDescriptor)) func(t *testing.T) []byte {
		return changedBody(good, change)
	}
	testRefused(t, relayKind, []refusedCase{
		{"bad signature", changed(func(d *onion.RelayDescriptor) { d.Signature[5] ^= 0x01 }), 400, "bad signature"},
		{"signed by another key", func(t *testing.T) []byte {
			d := good(t)
			d.Signature = descriptor(t, 2, t0).Signature
			return mustJSON(t, d)
		}, 400, "bad signature"},
		{"tampered address", changed(func(d *onion.RelayDescriptor) { d.Address = "203.0.113.9:9001" }), 400, "bad signature"},
		{"tampered exit flag", changed(func(d *onion.RelayDescriptor) { d.Exit = !d.Exit }), 400, "bad signature"},
		{"tampered onion key", changed(func(d *onion.RelayDescriptor) { d.OnionKey[0] ^= 0x80 }), 400, "bad signature"},
		{"tampered published", changed(func(d *onion.RelayDescriptor) { d.Published++ }), 400, "bad signature"},
		{"unsigned", changed(func(d *onion.RelayDescriptor) { d.Signature = nil }), 400, "bad signature"},
		{"short identity key", changed(func(d *onion.RelayDescriptor) { d.IdentityKey = d.IdentityKey[:31] }), 400, "32 bytes"},
		{"bad nickname", changed(func(d *onion.RelayDescriptor) { d.Nickname = "no spaces"; *d = resign(*d) }), 400, "nickname"},
		{"bad address", changed(func(d *onion.RelayDescriptor) { d.Address = "127.0.0.1"; *d = resign(*d) }), 400, "address"},
		{"JSON null", func(*testing.T) []byte { return []byte("null") }, 400, "nickname"},
		{"oversize inside a field", changed(func(d *onion.RelayDescriptor) {
			d.Nickname = strings.Repeat("a", MaxDescriptorBody)
		}), 413, "larger than"},
	})
}

func TestRelayLogs(t *testing.T) {
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
	if !strings.Contains(logs, `level=WARN msg="descriptor refused" reason="bad descriptor: onion: bad signature" status=400 peer=`+d.Fingerprint()) {
		t.Errorf("refusal not logged with its reason and the relay:\n%s", logs)
	}
	wantNoKeys(t, logs, map[string][]byte{"identity key": d.IdentityKey, "onion key": d.OnionKey, "signature": d.Signature})
}
