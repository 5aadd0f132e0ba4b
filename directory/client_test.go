package directory

import (
	"crypto/ed25519"
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

func TestClientRefusesOldList(t *testing.T) {
	h := newHarness(t)
	if err := h.client.Publish(t.Context(), descriptor(t, 1, t0)); err != nil {
		t.Fatal(err)
	}
	end := t0.Add(DefaultListValidity + onion.MaxClockSkew)
	for _, tt := range []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"within validity", t0.Add(DefaultListValidity), true},
		{"within skew of its end", end, true},
		{"just past", end.Add(time.Second), false},
		{"a day old", t0.Add(24 * time.Hour), false},
		{"from the future", t0.Add(-onion.MaxClockSkew - time.Second), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := *h.client
			c.Now = func() time.Time { return tt.now }
			_, err := c.Relays(t.Context())
			if tt.ok && err != nil {
				t.Errorf("Relays: %v", err)
			}
			if !tt.ok && (err == nil || !strings.HasPrefix(err.Error(), "fetch relay list: ")) {
				t.Errorf("Relays: %v, want a wrapped validity error", err)
			}
		})
	}
}

func TestClientWrongKey(t *testing.T) {
	h := newHarness(t)
	c := *h.client
	c.Key = dirKey(2).Public().(ed25519.PublicKey)
	if _, err := c.Relays(t.Context()); !errors.Is(err, onion.ErrSignature) {
		t.Errorf("Relays with another directory's key: %v, want ErrSignature", err)
	}
	c.Key = nil
	if _, err := c.Relays(t.Context()); !errors.Is(err, ErrNoDirectoryKey) {
		t.Errorf("Relays without a key: %v, want ErrNoDirectoryKey", err)
	}
}

func TestClientPublishRefused(t *testing.T) {
	h := newHarness(t)
	d := descriptor(t, 1, t0)
	d.Exit = !d.Exit
	err := h.client.Publish(t.Context(), d)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest || !strings.Contains(se.Message, "bad signature") {
		t.Fatalf("Publish of a tampered descriptor: %v, want a 400 StatusError about the signature", err)
	}
	if !strings.HasPrefix(err.Error(), "publish descriptor: ") {
		t.Errorf("error %q lacks context", err)
	}
}

// hostile serves fixed answers, as a directory that is broken or lying.
func hostile(t *testing.T, status int, body string) *Client {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(ts.Close)
	return &Client{URL: ts.URL + "/", Key: dirKey(1).Public().(ed25519.PublicKey), HTTP: ts.Client(), Now: func() time.Time { return t0 }}
}

func TestClientHostileDirectory(t *testing.T) {
	t.Run("oversize list", func(t *testing.T) {
		c := hostile(t, 200, `{"document":"`+strings.Repeat("x", maxListBody)+`"}`)
		if _, err := c.Relays(t.Context()); err == nil || !strings.Contains(err.Error(), "longer than") {
			t.Errorf("Relays: %v, want a size error", err)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		c := hostile(t, 200, `<html>`)
		if _, err := c.Relays(t.Context()); err == nil {
			t.Error("Relays accepted HTML")
		}
	})
	t.Run("unsigned list", func(t *testing.T) {
		c := hostile(t, 200, `{"document":"{\"valid_after\":0,\"valid_until\":9999999999,\"relays\":[]}"}`)
		if _, err := c.Relays(t.Context()); !errors.Is(err, onion.ErrSignature) {
			t.Errorf("Relays: %v, want ErrSignature", err)
		}
	})
	t.Run("error text with escapes", func(t *testing.T) {
		c := hostile(t, 500, "\x1b[31mboom\n"+strings.Repeat("y", 10*maxErrorBody))
		err := c.Publish(t.Context(), descriptor(t, 1, t0))
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != 500 {
			t.Fatalf("Publish: %v, want a 500 StatusError", err)
		}
		if strings.ContainsAny(se.Message, "\x1b\n") || len(se.Message) > maxErrorBody {
			t.Errorf("message %.40q... (%d bytes) not sanitized and bounded", se.Message, len(se.Message))
		}
	})
	t.Run("wrong fingerprint in answer", func(t *testing.T) {
		c := hostile(t, 200, `{"fingerprint":"00","expires":1}`)
		if err := c.Publish(t.Context(), descriptor(t, 1, t0)); err == nil {
			t.Error("Publish accepted an answer for another relay")
		}
	})
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
