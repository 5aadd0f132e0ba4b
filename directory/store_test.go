package directory

import (
	"encoding/json"
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

// TestStoreBytes: with a byte bound, a newcomer that would take the sum of
// sizes over it is refused, and so is a held key's larger value (the old
// one stays listed); a smaller value, and room freed by expiry, are
// accepted.
func TestStoreBytes(t *testing.T) {
	clk := &clock{t: t0}
	var dropped []string
	s := newTestStore(clk, &dropped)
	s.max, s.maxBytes = 100, 10
	s.size = func(v string) int { return len(v) }
	at := func(d time.Duration) int64 { return t0.Add(d).Unix() }
	if _, _, err := s.put("a", "123456", at(0), []byte("a1")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.put("b", "12345", at(0), []byte("b1")); statusOf(err) != http.StatusServiceUnavailable ||
		!strings.Contains(err.Error(), "6 of 10 bytes") {
		t.Errorf("a newcomer over the byte bound: %v", err)
	}
	if _, _, err := s.put("b", "1234", at(0), []byte("b2")); err != nil {
		t.Errorf("a newcomer that fits exactly: %v", err)
	}
	clk.Set(t0.Add(time.Second))
	if _, _, err := s.put("a", "1234567", at(time.Second), []byte("a2")); statusOf(err) != http.StatusServiceUnavailable {
		t.Errorf("a held key growing over the bound: %v", err)
	}
	if v, _ := s.get("a"); v != "123456" {
		t.Errorf("after a refused growth a = %q, want the old value", v)
	}
	clk.Set(t0.Add(2 * time.Second))
	if _, _, err := s.put("a", "12", at(2*time.Second), []byte("a3")); err != nil {
		t.Errorf("a held key shrinking: %v", err)
	}
	if s.bytes != 6 {
		t.Errorf("bytes = %d after a shrink, want 6", s.bytes)
	}
	clk.Set(t0.Add(91 * time.Second)) // b expires; a (published at 2 s) lives
	if _, _, err := s.put("c", "12345678", at(91*time.Second), []byte("c1")); err != nil {
		t.Errorf("a newcomer once an expiry freed room: %v", err)
	}
	if s.bytes != 10 {
		t.Errorf("bytes = %d, want 10", s.bytes)
	}
}

// TestRelayBytesBoundTheConsensus: an authority full of the largest
// descriptors a relay may publish still serves a list within
// onion.MaxDocumentLen, even doubled (a consensus of votes that differ).
func TestRelayBytesBoundTheConsensus(t *testing.T) {
	d := onion.RelayDescriptor{Nickname: strings.Repeat("n", onion.MaxNicknameLen), Address: "[1234:5678:9abc:def0:1234:5678:9abc:def0]:65535",
		Exit: true, Bandwidth: onion.MaxBandwidth, Weight: onion.MaxBandwidth, Published: 1 << 40, ExitPolicy: "accept 1-65535"}
	for range onion.MaxFamily {
		d.Family = append(d.Family, strings.Repeat("A", 40))
	}
	d.Sign(relayKey(1))
	n := maxRelayBytes / relayJSONSize(d)
	list := make([]onion.RelayDescriptor, 2*n)
	for i := range list {
		list[i] = d
	}
	doc, err := json.Marshal(onion.RelayList{ValidAfter: 1 << 40, ValidUntil: 1 << 40, Relays: list})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc) > onion.MaxDocumentLen {
		t.Errorf("%d worst-case relays (twice what fits in maxRelayBytes) make a %d-byte document, over %d", len(list), len(doc), onion.MaxDocumentLen)
	}
	t.Logf("an authority holds at least %d worst-case relays (%d bytes each)", n, relayJSONSize(d))
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
