package directory

import (
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"onion/onion"
)

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

func TestServicePublishRefused(t *testing.T) {
	good := func(t testing.TB) onion.ServiceDescriptor { return serviceDescriptor(t, 1, t0) }
	// resign re-signs after a change, so only the change itself is judged.
	resign := func(d *onion.ServiceDescriptor) { d.Sign(serviceKey(1)) }
	changed := func(change func(d *onion.ServiceDescriptor)) func(t *testing.T) []byte {
		return changedBody(good, change)
	}
	testRefused(t, serviceKind, []refusedCase{
		{"bad signature", changed(func(d *onion.ServiceDescriptor) { d.Signature[5] ^= 0x01 }), 400, "bad signature"},
		{"signed by another service", func(t *testing.T) []byte {
			d := good(t)
			d.Signature = serviceDescriptor(t, 2, t0).Signature
			return mustJSON(t, d)
		}, 400, "bad signature"},
		{"tampered meeting point", changed(func(d *onion.ServiceDescriptor) {
			d.MeetingPoints[1].Address = "203.0.113.9:9001"
		}), 400, "bad signature"},
		{"tampered e2e key", changed(func(d *onion.ServiceDescriptor) { d.E2EKey[0] ^= 0x80 }), 400, "bad signature"},
		{"no meeting points", changed(func(d *onion.ServiceDescriptor) { d.MeetingPoints = nil; resign(d) }), 400, "0 meeting points"},
		{"9 meeting points", func(t *testing.T) []byte {
			d := good(t)
			for i := 2; i < 9; i++ {
				r := descriptor(t, i, t0)
				d.MeetingPoints = append(d.MeetingPoints, onion.MeetingPoint{
					Nickname: r.Nickname, Address: r.Address, IdentityKey: r.IdentityKey, OnionKey: r.OnionKey})
			}
			resign(&d)
			return mustJSON(t, d)
		}, 400, "9 meeting points"},
		{"short service key", changed(func(d *onion.ServiceDescriptor) { d.ServiceKey = d.ServiceKey[:31] }), 400, "32 bytes"},
		{"a relay descriptor", func(t *testing.T) []byte { return mustJSON(t, descriptor(t, 1, t0)) }, 400, "unknown field"},
		{"JSON null", func(*testing.T) []byte { return []byte("null") }, 400, "32 bytes"},
		{"oversize inside a field", changed(func(d *onion.ServiceDescriptor) {
			d.MeetingPoints[0].Nickname = strings.Repeat("a", MaxServiceBody)
		}), 413, "larger than"},
	})
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
	wantNoKeys(t, logs, map[string][]byte{"service key": d.ServiceKey, "e2e key": d.E2EKey, "signature": d.Signature})
}
