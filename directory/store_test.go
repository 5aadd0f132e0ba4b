package directory

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"onion/onion"
)

// newTestStore is a store of strings with a 90 s TTL and room for two,
// on clk, recording the keys it drops on expiry.
func newTestStore(clk *clock, dropped *[]string) *store[string] {
	return &store[string]{
		noun: "things", ttl: 90 * time.Second, max: 2, now: clk.Now,
		expired: func(key, _ string) { *dropped = append(*dropped, key) },
	}
}

// put is one call of store.put: at clock t0+at, key gets a descriptor
// published at t0+published, signed sig (which is also its value).
type put struct {
	at        time.Duration
	key       string
	published time.Duration
	sig       string
	// What put must answer: a refusal's status, or else the expiry (from
	// t0) and whether the key was new.
	status  int
	expires time.Duration
	isNew   bool
}

func TestStorePut(t *testing.T) {
	const ttl = 90 * time.Second
	skew := onion.MaxClockSkew
	tests := []struct {
		name string
		puts []put
		at   time.Duration // when list is called at the end, from t0
		want []string      // what list must return then
	}{
		{"new", []put{{key: "a", sig: "1", expires: ttl, isNew: true}}, 0, []string{"1"}},
		{"life counts from the published time", []put{
			{key: "a", published: -30 * time.Second, sig: "1", expires: ttl - 30*time.Second, isNew: true},
		}, 0, []string{"1"}},
		{"a time ahead of the clock buys nothing", []put{
			{key: "a", published: skew, sig: "1", expires: ttl, isNew: true},
		}, 0, []string{"1"}},
		{"too far ahead", []put{{key: "a", published: skew + time.Second, sig: "1", status: 400}}, 0, []string{}},
		{"dead on arrival", []put{{key: "a", published: -ttl, sig: "1", status: 400}}, 0, []string{}},
		{"one second of life", []put{
			{key: "a", published: -ttl + time.Second, sig: "1", expires: time.Second, isNew: true},
		}, 0, []string{"1"}},
		{"the same again is a retry that changes nothing", []put{
			{key: "a", sig: "1", expires: ttl, isNew: true},
			{at: 60 * time.Second, key: "a", sig: "1", expires: ttl},
		}, ttl, []string{}},
		{"a newer one replaces", []put{
			{key: "a", sig: "1", expires: ttl, isNew: true},
			{at: 30 * time.Second, key: "a", published: 30 * time.Second, sig: "2", expires: ttl + 30*time.Second},
		}, ttl, []string{"2"}},
		{"an older one is a replay", []put{
			{key: "a", sig: "1", expires: ttl, isNew: true},
			{key: "a", published: -time.Second, sig: "0", status: 409},
		}, 0, []string{"1"}},
		{"another one at the same time is a contradiction", []put{
			{key: "a", sig: "1", expires: ttl, isNew: true},
			{key: "a", sig: "2", status: 409},
		}, 0, []string{"1"}},
		{"full", []put{
			{key: "a", sig: "1", expires: ttl, isNew: true},
			{key: "b", sig: "2", expires: ttl, isNew: true},
			{key: "c", sig: "3", status: 503},
			{at: 10 * time.Second, key: "a", published: 10 * time.Second, sig: "4", expires: ttl + 10*time.Second},
		}, 0, []string{"4", "2"}},
		{"room again after an expiry", []put{
			{key: "a", sig: "1", expires: ttl, isNew: true},
			{at: 10 * time.Second, key: "b", published: 10 * time.Second, sig: "2", expires: ttl + 10*time.Second, isNew: true},
			{at: ttl, key: "c", published: ttl, sig: "3", expires: 2 * ttl, isNew: true},
		}, ttl, []string{"2", "3"}},
		{"an expired key is new again", []put{
			{key: "a", sig: "1", expires: ttl, isNew: true},
			{at: ttl, key: "a", published: ttl, sig: "2", expires: 2 * ttl, isNew: true},
		}, ttl, []string{"2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: t0}
			var dropped []string
			s := newTestStore(clk, &dropped)
			for i, p := range tt.puts {
				clk.Set(t0.Add(p.at))
				expires, isNew, err := s.put(p.key, p.sig, t0.Add(p.published).Unix(), []byte(p.sig))
				if got := statusOf(err); got != p.status {
					t.Fatalf("put %d: %v (status %d), want status %d", i, err, got, p.status)
				}
				if err == nil && (!expires.Equal(t0.Add(p.expires)) || isNew != p.isNew) {
					t.Errorf("put %d: expires %s, new %v; want %s, %v", i, expires.Sub(t0), isNew, p.expires, p.isNew)
				}
			}
			clk.Set(t0.Add(tt.at))
			if got, _ := s.list(); !slices.Equal(got, tt.want) {
				t.Errorf("list = %q, want %q", got, tt.want)
			}
		})
	}
}

func statusOf(err error) int {
	if err == nil {
		return 0
	}
	if rf, ok := errors.AsType[*refusal](err); ok {
		return rf.status
	}
	return -1
}

func TestStoreFullMessage(t *testing.T) {
	var dropped []string
	s := newTestStore(&clock{t: t0}, &dropped)
	s.put("a", "1", t0.Unix(), []byte("1"))
	s.put("b", "2", t0.Unix(), []byte("2"))
	_, _, err := s.put("c", "3", t0.Unix(), []byte("3"))
	if statusOf(err) != http.StatusServiceUnavailable || !strings.HasPrefix(err.Error(), "directory is full (2 things); it never drops") {
		t.Errorf("put beyond max: %v", err)
	}
}

func TestStoreExpiry(t *testing.T) {
	clk := &clock{t: t0}
	var dropped []string
	s := newTestStore(clk, &dropped)
	s.put("a", "1", t0.Unix(), []byte("1"))
	clk.Set(t0.Add(30 * time.Second))
	s.put("b", "2", t0.Add(30*time.Second).Unix(), []byte("2"))

	clk.Set(t0.Add(89 * time.Second))
	if v, ok := s.get("a"); !ok || v != "1" {
		t.Errorf("get a one second before expiry = %q, %v", v, ok)
	}
	clk.Set(t0.Add(90 * time.Second))
	for range 2 {
		if v, ok := s.get("a"); ok {
			t.Errorf("get a at expiry = %q, want nothing", v)
		}
		if got, _ := s.list(); !slices.Equal(got, []string{"2"}) {
			t.Errorf("list at a's expiry = %q", got)
		}
	}
	if !slices.Equal(dropped, []string{"a"}) {
		t.Errorf("told of expiries %q, want a once", dropped)
	}
	clk.Set(t0.Add(120 * time.Second))
	if got, _ := s.list(); len(got) != 0 {
		t.Errorf("list after both expired = %q", got)
	}
	if !slices.Equal(dropped, []string{"a", "b"}) {
		t.Errorf("told of expiries %q, want a then b", dropped)
	}
}

// TestStoreGeneration: the generation changes with what list returns, and
// only then, so a list cached by generation is never stale nor remade for
// nothing.
func TestStoreGeneration(t *testing.T) {
	clk := &clock{t: t0}
	var dropped []string
	s := newTestStore(clk, &dropped)
	gen := func() uint64 { _, g := s.list(); return g }
	steps := []struct {
		name    string
		do      func()
		changes bool
	}{
		{"nothing", func() {}, false},
		{"new key", func() { s.put("a", "1", t0.Unix(), []byte("1")) }, true},
		{"retry", func() { s.put("a", "1", t0.Unix(), []byte("1")) }, false},
		{"replay", func() { s.put("a", "0", t0.Unix()-1, []byte("0")) }, false},
		{"newer", func() { s.put("a", "2", t0.Unix()+1, []byte("2")) }, true},
		{"refused as stale", func() { s.put("b", "3", t0.Unix()-90, []byte("3")) }, false},
		{"time passes", func() { clk.Set(t0.Add(time.Minute)) }, false},
		{"expiry", func() { clk.Set(t0.Add(91 * time.Second)) }, true},
	}
	last := gen()
	for _, st := range steps {
		st.do()
		if g := gen(); (g != last) != st.changes {
			t.Errorf("%s: generation %d -> %d, want a change: %v", st.name, last, g, st.changes)
		} else {
			last = g
		}
	}
}
