package directory

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"onion/onion"
)

// relayAt is relay n's descriptor at addr, published at pub, signed.
func relayAt(t *testing.T, n int, addr string, pub time.Time) onion.RelayDescriptor {
	d := descriptor(t, n, pub)
	d.Address = addr
	d.Sign(relayKey(n))
	return d
}

func TestAdmissionPerAddress(t *testing.T) {
	h := newHarness(t)
	post := func(n int, addr string, pub time.Time) answer {
		return h.post(t, mustJSON(t, relayAt(t, n, addr, pub)))
	}
	for n, port := range []string{"9001", "9002"} {
		if a := post(n, "203.0.113.7:"+port, t0); a.status != http.StatusOK {
			t.Fatalf("relay %d: %d %s", n, a.status, a.body)
		}
	}
	// A third at the same IP, on another port or spelled as IPv4-mapped
	// IPv6, is refused; at another IP it is not.
	wantError(t, post(2, "203.0.113.7:9003", t0), http.StatusForbidden, "the most one address may have (2)")
	wantError(t, post(2, "[::ffff:203.0.113.7]:9003", t0), http.StatusForbidden, "the most one address may have (2)")
	if a := post(2, "203.0.113.8:9001", t0); a.status != http.StatusOK {
		t.Fatalf("relay at another IP: %d %s", a.status, a.body)
	}
	// A listed relay refreshes itself, but may not move to a full address.
	if a := post(0, "203.0.113.7:9001", t0.Add(time.Second)); a.status != http.StatusOK {
		t.Errorf("refresh: %d %s", a.status, a.body)
	}
	h.clock.Set(t0.Add(2 * time.Second))
	wantError(t, post(2, "203.0.113.7:9005", t0.Add(2*time.Second)), http.StatusForbidden, "the most one address may have")
	for n := range 3 {
		if h.srv.relays.entries[relayFingerprint(n)] == nil {
			t.Errorf("relay %d no longer held", n)
		}
	}
}

func TestAdmissionConfigurable(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxRelaysPerAddress = 1 })
	if a := h.post(t, mustJSON(t, relayAt(t, 0, "203.0.113.7:9001", t0))); a.status != http.StatusOK {
		t.Fatalf("%d %s", a.status, a.body)
	}
	wantError(t, h.post(t, mustJSON(t, relayAt(t, 1, "203.0.113.7:9002", t0))), http.StatusForbidden, "(1)")
}

func TestAdmissionLists(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Rejected = []string{relayFingerprint(5)}
		c.Approved = []string{relayFingerprint(2)}
	})
	wantError(t, h.post(t, mustJSON(t, descriptor(t, 5, t0))), http.StatusForbidden, "rejected list")
	for n := range 3 { // the approved relay 2 is exempt from the limit
		if a := h.post(t, mustJSON(t, relayAt(t, n, "203.0.113.7:900"+string(rune('1'+n)), t0))); a.status != http.StatusOK {
			t.Errorf("relay %d: %d %s", n, a.status, a.body)
		}
	}
	only := newHarness(t, func(c *Config) { c.Approved, c.ApprovedOnly = []string{relayFingerprint(2)}, true })
	wantError(t, only.post(t, mustJSON(t, descriptor(t, 1, t0))), http.StatusForbidden, "approved relays only")
	if a := only.post(t, mustJSON(t, descriptor(t, 2, t0))); a.status != http.StatusOK {
		t.Errorf("approved relay: %d %s", a.status, a.body)
	}
}

func TestPublishRateLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.PublishRate = 3 })
	for n := range 3 {
		if a := h.post(t, mustJSON(t, descriptor(t, n, t0))); a.status != http.StatusOK {
			t.Fatalf("publication %d: %d %s", n, a.status, a.body)
		}
	}
	wantError(t, h.post(t, mustJSON(t, descriptor(t, 3, t0))), http.StatusTooManyRequests, "too many publications")
	h.clock.Set(t0.Add(20 * time.Second)) // a third of a minute: one token back
	if a := h.post(t, mustJSON(t, descriptor(t, 3, t0.Add(20*time.Second)))); a.status != http.StatusOK {
		t.Errorf("after refill: %d %s", a.status, a.body)
	}
	wantError(t, h.post(t, mustJSON(t, descriptor(t, 4, t0.Add(20*time.Second)))), http.StatusTooManyRequests, "too many")
}

func TestReadFingerprints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fps")
	os.WriteFile(path, []byte("# approved\n\n"+relayFingerprint(1)+"\n  abcdefabcdefabcdefabcdefabcdefabcdefabcd \n"), 0o600)
	fps, err := ReadFingerprints(path)
	if err != nil || len(fps) != 2 || fps[1] != "ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD" {
		t.Fatalf("ReadFingerprints = %v, %v", fps, err)
	}
	os.WriteFile(path, []byte("not-a-fingerprint\n"), 0o600)
	if _, err := ReadFingerprints(path); err == nil {
		t.Error("a bad line was read")
	}
}
