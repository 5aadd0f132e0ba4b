package directory

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onion/onion"
)

// serviceKey is hidden service n's key from a fixed seed.
func serviceKey(n int) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(seed32(byte(50 + n))) }

// serviceDescriptor is hidden service n's descriptor published at pub, with relays 0
// and 1 as meeting points, signed.
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

func (h *harness) postService(t testing.TB, body []byte) answer {
	t.Helper()
	return h.do(t, http.MethodPost, "/v1/services", body)
}

func (h *harness) getService(t testing.TB, addr string) answer {
	t.Helper()
	return h.do(t, http.MethodGet, "/v1/services/"+addr, nil)
}

func TestServicePublishAndFetch(t *testing.T) {
	h := newHarness(t)
	var want []onion.ServiceDescriptor
	for n := range 3 {
		d := serviceDescriptor(t, n, t0)
		if err := h.client.PublishService(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		want = append(want, d)
	}
	for _, d := range want {
		for _, addr := range []string{d.Address(), strings.ToUpper(d.Address())} {
			got, err := h.client.Service(t.Context(), addr)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, d) {
				t.Errorf("Service = %+v\nwant %+v", got, d)
			}
		}
	}
	// Over plain HTTP, the answer is the descriptor's JSON.
	a := h.getService(t, want[0].Address())
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET: %d %q %s", a.status, a.header.Get("Content-Type"), a.body)
	}
	if !bytes.Equal(bytes.TrimSpace(a.body), mustJSON(t, want[0])) {
		t.Errorf("GET body %s\nwant %s", a.body, mustJSON(t, want[0]))
	}
}

func TestServicePublishAnswer(t *testing.T) {
	h := newHarness(t)
	d := serviceDescriptor(t, 1, t0.Add(-30*time.Second))
	a := h.postService(t, mustJSON(t, d))
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	var res ServiceResult
	if err := json.Unmarshal(a.body, &res); err != nil {
		t.Fatal(err)
	}
	// Life counts from the published time, not from arrival.
	want := ServiceResult{Address: d.Address(), Expires: t0.Add(DefaultRelayTTL - 30*time.Second).Unix()}
	if res != want {
		t.Errorf("answer %+v, want %+v", res, want)
	}
}

func TestServicePublishRefused(t *testing.T) {
	good := func(t *testing.T) onion.ServiceDescriptor { return serviceDescriptor(t, 1, t0) }
	resign := func(d onion.ServiceDescriptor) onion.ServiceDescriptor { d.Sign(serviceKey(1)); return d }
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
		{"signed by another service", func(t *testing.T) []byte {
			d := good(t)
			d.Signature = serviceDescriptor(t, 2, t0).Signature
			return mustJSON(t, d)
		}, 400, "bad signature"},
		{"tampered meeting point", func(t *testing.T) []byte {
			d := good(t)
			d.MeetingPoints[1].Address = "203.0.113.9:9001"
			return mustJSON(t, d)
		}, 400, "bad signature"},
		{"tampered e2e key", func(t *testing.T) []byte {
			d := good(t)
			d.E2EKey[0] ^= 0x80
			return mustJSON(t, d)
		}, 400, "bad signature"},
		{"no meeting points", func(t *testing.T) []byte {
			d := good(t)
			d.MeetingPoints = nil
			return mustJSON(t, resign(d))
		}, 400, "0 meeting points"},
		{"9 meeting points", func(t *testing.T) []byte {
			d := good(t)
			for i := 2; i < 9; i++ {
				r := descriptor(t, i, t0)
				d.MeetingPoints = append(d.MeetingPoints, onion.MeetingPoint{
					Nickname: r.Nickname, Address: r.Address, IdentityKey: r.IdentityKey, OnionKey: r.OnionKey})
			}
			return mustJSON(t, resign(d))
		}, 400, "9 meeting points"},
		{"short service key", func(t *testing.T) []byte {
			d := good(t)
			d.ServiceKey = d.ServiceKey[:31]
			return mustJSON(t, d)
		}, 400, "32 bytes"},
		{"stale", func(t *testing.T) []byte {
			return mustJSON(t, serviceDescriptor(t, 1, t0.Add(-DefaultRelayTTL)))
		}, 400, "older than"},
		{"far in the future", func(t *testing.T) []byte {
			return mustJSON(t, serviceDescriptor(t, 1, t0.Add(onion.MaxClockSkew+time.Second)))
		}, 400, "ahead"},
		{"unknown field", func(t *testing.T) []byte {
			return append([]byte(`{"extra":1,`), mustJSON(t, good(t))[1:]...)
		}, 400, "unknown field"},
		{"trailing data", func(t *testing.T) []byte {
			return append(mustJSON(t, good(t)), []byte(` {}`)...)
		}, 400, "after the descriptor"},
		{"a relay descriptor", func(t *testing.T) []byte { return mustJSON(t, descriptor(t, 1, t0)) }, 400, "unknown field"},
		{"not JSON", func(*testing.T) []byte { return []byte("service=x") }, 400, "malformed"},
		{"empty body", func(*testing.T) []byte { return nil }, 400, "malformed"},
		{"JSON null", func(*testing.T) []byte { return []byte("null") }, 400, "32 bytes"},
		{"oversize", func(t *testing.T) []byte {
			return append(mustJSON(t, good(t)), bytes.Repeat([]byte{' '}, MaxServiceBody)...)
		}, 413, "larger than"},
		{"oversize inside a field", func(t *testing.T) []byte {
			d := good(t)
			d.MeetingPoints[0].Nickname = strings.Repeat("a", MaxServiceBody)
			return mustJSON(t, d)
		}, 413, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			wantError(t, h.postService(t, tt.body(t)), tt.status, tt.substr)
			d := good(t)
			if _, err := h.client.Service(t.Context(), d.Address()); !errors.Is(err, ErrUnknownService) {
				t.Errorf("after a refusal, Service = %v, want ErrUnknownService", err)
			}
			if !strings.Contains(h.logs.String(), `level=WARN msg="service descriptor refused"`) {
				t.Errorf("refusal not logged at warn:\n%s", h.logs)
			}
		})
	}
}

func TestServiceReplay(t *testing.T) {
	h := newHarness(t)
	older := serviceDescriptor(t, 1, t0.Add(-10*time.Second))
	newer := serviceDescriptor(t, 1, t0)
	newer.MeetingPoints = newer.MeetingPoints[:1]
	newer.Sign(serviceKey(1))

	if a := h.postService(t, mustJSON(t, newer)); a.status != http.StatusOK {
		t.Fatalf("newer: %d %s", a.status, a.body)
	}
	wantError(t, h.postService(t, mustJSON(t, older)), http.StatusConflict, "older than the stored")
	wantError(t, h.postService(t, mustJSON(t, serviceDescriptor(t, 1, t0))), http.StatusConflict, "different descriptor")

	// The same descriptor again is a harmless retry, and buys no more life.
	first := h.postService(t, mustJSON(t, newer))
	h.clock.Set(t0.Add(30 * time.Second))
	again := h.postService(t, mustJSON(t, newer))
	if first.status != 200 || !bytes.Equal(first.body, again.body) {
		t.Errorf("retries answered %d %s then %d %s", first.status, first.body, again.status, again.body)
	}

	got, err := h.client.Service(t.Context(), newer.Address())
	if err != nil || !reflect.DeepEqual(got, newer) {
		t.Errorf("after replays: %+v, %v; want the newer descriptor", got, err)
	}
}

func TestServiceFull(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.MaxServices = 2 })
	for n := range 2 {
		if a := h.postService(t, mustJSON(t, serviceDescriptor(t, n, t0))); a.status != 200 {
			t.Fatalf("service %d: %d %s", n, a.status, a.body)
		}
	}
	wantError(t, h.postService(t, mustJSON(t, serviceDescriptor(t, 2, t0))), http.StatusServiceUnavailable, "full")

	// A held service may still refresh itself when the directory is full.
	h.clock.Set(t0.Add(30 * time.Second))
	if a := h.postService(t, mustJSON(t, serviceDescriptor(t, 0, t0.Add(30*time.Second)))); a.status != 200 {
		t.Fatalf("refresh when full: %d %s", a.status, a.body)
	}
	// Once service 1 expires, there is room again.
	h.clock.Set(t0.Add(DefaultRelayTTL))
	if a := h.postService(t, mustJSON(t, serviceDescriptor(t, 2, t0.Add(DefaultRelayTTL)))); a.status != 200 {
		t.Fatalf("after expiry: %d %s", a.status, a.body)
	}
	// Services and relays are counted apart.
	if err := h.client.Publish(t.Context(), descriptor(t, 1, t0.Add(DefaultRelayTTL))); err != nil {
		t.Errorf("relay publish with services full: %v", err)
	}
}

func TestServiceExpiry(t *testing.T) {
	for _, ttl := range []time.Duration{0, 10 * time.Second, 5 * time.Minute} {
		t.Run(fmt.Sprint(ttl), func(t *testing.T) {
			h := newHarness(t, func(s *Server) { s.ServiceTTL = ttl })
			if ttl == 0 {
				ttl = DefaultRelayTTL
			}
			d := serviceDescriptor(t, 1, t0)
			if err := h.client.PublishService(t.Context(), d); err != nil {
				t.Fatal(err)
			}
			h.clock.Set(t0.Add(ttl - time.Second))
			if _, err := h.client.Service(t.Context(), d.Address()); err != nil {
				t.Fatalf("one second before expiry: %v", err)
			}
			h.clock.Set(t0.Add(ttl))
			for range 2 {
				if _, err := h.client.Service(t.Context(), d.Address()); !errors.Is(err, ErrUnknownService) {
					t.Fatalf("at expiry: %v, want ErrUnknownService", err)
				}
			}
			if n := strings.Count(h.logs.String(), `msg="service expired"`); n != 1 {
				t.Errorf(`"service expired" logged %d times, want once:\n%s`, n, h.logs)
			}
			// Re-sending the dead descriptor does not revive it.
			err := h.client.PublishService(t.Context(), d)
			if se, ok := errors.AsType[*StatusError](err); !ok || se.StatusCode != http.StatusBadRequest {
				t.Errorf("republishing the dead descriptor: %v, want a 400 StatusError", err)
			}
		})
	}
}

func TestServiceLookup(t *testing.T) {
	h := newHarness(t)
	d := serviceDescriptor(t, 1, t0)
	if err := h.client.PublishService(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	addr := d.Address()
	unknown := serviceAddress(2)
	c := byte('a')
	if addr[5] == 'a' {
		c = 'b'
	}
	typo := addr[:5] + string(c) + addr[6:]

	wantError(t, h.getService(t, unknown), http.StatusNotFound, "unknown onion address")
	wantError(t, h.getService(t, typo), http.StatusBadRequest, "checksum mismatch")
	wantError(t, h.getService(t, strings.TrimSuffix(addr, ".onion")), http.StatusBadRequest, "bad onion address")
	wantError(t, h.getService(t, ""), http.StatusBadRequest, "bad onion address")
	wantError(t, h.getService(t, addr+"/x"), http.StatusBadRequest, "bad onion address")
	wantError(t, h.do(t, http.MethodGet, "/v1/services", nil), http.StatusMethodNotAllowed, "method not allowed")
	wantError(t, h.do(t, http.MethodPost, "/v1/services/"+addr, mustJSON(t, d)), http.StatusMethodNotAllowed, "method not allowed")
	wantError(t, h.do(t, http.MethodGet, "/v1/servicesx", nil), http.StatusNotFound, "no such endpoint")

	if _, err := h.client.Service(t.Context(), unknown); !errors.Is(err, ErrUnknownService) {
		t.Errorf("Service(unknown) = %v, want ErrUnknownService", err)
	}
}

// TestServiceClientRefusesBeforeAsking: a malformed address is the user's
// mistake, found without a request (which would tell the directory).
func TestServiceClientRefusesBeforeAsking(t *testing.T) {
	var asked atomic.Bool
	ts := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { asked.Store(true) }))
	t.Cleanup(ts.Close)
	c := &Client{URL: ts.URL, HTTP: ts.Client()}
	addr := serviceAddress(1)
	for _, in := range []string{"", "example.com", strings.TrimSuffix(addr, ".onion"), addr[:10] + "1" + addr[11:]} {
		if _, err := c.Service(t.Context(), in); !errors.Is(err, onion.ErrBadAddress) {
			t.Errorf("Service(%q) = %v, want ErrBadAddress", in, err)
		}
	}
	if asked.Load() {
		t.Error("the client asked the directory about a malformed address")
	}
}

// TestServiceClientHostileDirectory: a directory that lies about a service
// is caught by the client's own checks.
func TestServiceClientHostileDirectory(t *testing.T) {
	want := serviceDescriptor(t, 1, t0)
	addr := want.Address()
	tampered := serviceDescriptor(t, 1, t0)
	tampered.MeetingPoints[0].Address = "203.0.113.66:9001" // the directory's own relay
	unsigned := serviceDescriptor(t, 1, t0)
	unsigned.Signature = nil
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   error
		substr string
	}{
		{"another service's descriptor", 200, string(mustJSON(t, serviceDescriptor(t, 2, t0))), onion.ErrWrongService, ""},
		{"a tampered descriptor", 200, string(mustJSON(t, tampered)), onion.ErrSignature, ""},
		{"an unsigned descriptor", 200, string(mustJSON(t, unsigned)), onion.ErrSignature, ""},
		{"an old descriptor", 200, string(mustJSON(t, serviceDescriptor(t, 1, t0.Add(-serviceMaxAge-time.Second)))), onion.ErrDescriptorExpired, ""},
		{"a descriptor from the future", 200, string(mustJSON(t, serviceDescriptor(t, 1, t0.Add(onion.MaxClockSkew+time.Second)))), onion.ErrDescriptorExpired, ""},
		{"oversize", 200, `{"service_key":"` + strings.Repeat("A", MaxServiceBody) + `"}`, nil, "longer than"},
		{"not JSON", 200, `<html>`, nil, "answer"},
		{"nothing", 200, ``, nil, "answer"},
		{"404", 404, `{"error":"unknown onion address"}`, ErrUnknownService, ""},
		{"500", 500, `{"error":"boom"}`, nil, "500 Internal Server Error: boom"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := hostile(t, tt.status, tt.body)
			got, err := c.Service(t.Context(), addr)
			if err == nil {
				t.Fatalf("Service accepted %+v", got)
			}
			if tt.want != nil && !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("Service = %v, want %v mentioning %q", err, tt.want, tt.substr)
			}
			if !strings.HasPrefix(err.Error(), "fetch service descriptor: ") {
				t.Errorf("error %q lacks context", err)
			}
			if strings.Contains(err.Error(), addr[:20]) {
				t.Errorf("error %q repeats the address", err)
			}
		})
	}
	t.Run("honest", func(t *testing.T) {
		c := hostile(t, 200, string(mustJSON(t, want)))
		if got, err := c.Service(t.Context(), addr); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Service = %+v, %v", got, err)
		}
	})
	t.Run("publish answered with another address", func(t *testing.T) {
		c := hostile(t, 200, string(mustJSON(t, ServiceResult{Address: serviceAddress(2), Expires: 1})))
		if err := c.PublishService(t.Context(), want); err == nil {
			t.Error("PublishService accepted an answer for another service")
		}
	})
}

// TestServiceLogs: onion addresses appear at debug level only; keys and
// signatures never.
func TestServiceLogs(t *testing.T) {
	h := newHarness(t)
	d := serviceDescriptor(t, 1, t0)
	for range 2 {
		if err := h.client.PublishService(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	bad := serviceDescriptor(t, 1, t0)
	bad.Signature[0] ^= 1
	h.postService(t, mustJSON(t, bad))
	h.getService(t, serviceAddress(2))
	h.clock.Set(t0.Add(DefaultRelayTTL))
	h.getService(t, d.Address())
	logs := h.logs.String()

	tag := serviceTag(d.ServiceKey)
	for _, line := range []string{
		`level=INFO msg="service published" service=` + tag,
		`level=WARN msg="service descriptor refused"`,
		`level=INFO msg="service expired" service=` + tag,
		`level=DEBUG msg="service descriptor stored" service=` + tag + ` address=` + d.Address(),
	} {
		if n := strings.Count(logs, line); n == 0 || strings.HasPrefix(line, "level=INFO") && n != 1 {
			t.Errorf("%d lines with %s", n, line)
		}
	}
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, " level=DEBUG ") && strings.Contains(line, ".onion") {
			t.Errorf("an onion address above debug level: %s", line)
		}
	}
	for name, b := range map[string][]byte{"service key": d.ServiceKey, "e2e key": d.E2EKey, "signature": d.Signature} {
		for _, enc := range []string{base64.StdEncoding.EncodeToString(b), onion.EncodeKey(b), fmt.Sprintf("%x", b), fmt.Sprintf("%X", b)} {
			if strings.Contains(logs, enc[:20]) {
				t.Errorf("logs contain the %s", name)
			}
		}
	}
}

// FuzzPublishService feeds arbitrary bodies to POST /v1/services. The
// handler never panics, answers every refusal with a JSON error, and
// answers 200 only for a descriptor that passes Check, which it then
// serves back under its address.
func FuzzPublishService(f *testing.F) {
	good := mustJSON(f, serviceDescriptor(f, 1, t0))
	f.Add(good)
	f.Add(bytes.Replace(good, []byte(`relay1`), []byte(`relay2`), 1))
	f.Add(mustJSON(f, serviceDescriptor(f, 2, t0.Add(-DefaultRelayTTL))))
	f.Add([]byte(`{"service_key":"","e2e_key":"","meeting_points":[{}],"published":0,"signature":""}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{}{}`))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, body []byte) {
		s := &Server{Key: dirKey(1), Now: func() time.Time { return t0 }}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/services", bytes.NewReader(body)))
		if w.Code != http.StatusOK {
			var eb errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error == "" || w.Code < 400 {
				t.Fatalf("refusal %d with body %q", w.Code, w.Body)
			}
			return
		}
		var d onion.ServiceDescriptor
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("200 for a body that does not decode: %v", err)
		}
		if err := d.Check(); err != nil {
			t.Fatalf("200 for a descriptor that fails Check: %v", err)
		}
		w = httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/services/"+d.Address(), nil))
		var back onion.ServiceDescriptor
		if err := json.Unmarshal(w.Body.Bytes(), &back); w.Code != 200 || err != nil || !reflect.DeepEqual(back, d) || w.Body.Len() > MaxServiceBody {
			t.Fatalf("GET after publish: %d %s (%v)", w.Code, w.Body, err)
		}
	})
}
