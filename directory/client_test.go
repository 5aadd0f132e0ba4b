package directory

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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
