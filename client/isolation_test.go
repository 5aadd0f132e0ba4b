package client

// Isolation (like Tor's IsolateSOCKSAuth): streams whose SOCKS username,
// password or isolation tag differ never share a circuit.

import (
	"testing"
	"testing/synctest"

	"onion/onion/oniontest"
)

// isolationCases are requests that must each have an isolation key of its
// own: every way to split one string across user, password and tag.
var isolationCases = []DialRequest{
	{},
	{Username: "a"},
	{Password: "a"},
	{Isolation: "a"},
	{Username: "a:b"},
	{Username: "a", Password: ":b"},
	{Username: "a:", Password: "b"},
	{Username: "ab"},
	{Username: "a", Password: "b"},
	{Password: "ab"},
	{Isolation: "a", Username: "b"},
	{Isolation: "a", Password: "b"},
	{Isolation: "ab"},
	{Isolation: "1:a"},
	{Isolation: "1", Username: "a"},
	{Username: "1:a"},
	{Isolation: "0:", Username: "x"},
	{Isolation: "", Username: "0:x"},
	{Username: "0:", Password: "x"},
	{Isolation: "directory"},
	{Isolation: "publish"},
}

// TestIsolationKeyInjective: no two of isolationCases share a key, and
// the destination plays no part in it.
func TestIsolationKeyInjective(t *testing.T) {
	seen := map[string]DialRequest{}
	for _, req := range isolationCases {
		k := isolationKey(req)
		if prev, ok := seen[k]; ok {
			t.Errorf("%+v and %+v share isolation key %q", prev, req, k)
		}
		seen[k] = req
		other := req
		other.Host, other.Port, other.Early = "example.com", 443, []byte("GET")
		if isolationKey(other) != k {
			t.Errorf("%+v: the destination changes the isolation key", req)
		}
	}
}

// TestIsolationSeparatesCircuits: a stream shares a circuit with the
// first only when its user, password and tag are all the same.
func TestIsolationSeparatesCircuits(t *testing.T) {
	oniontest.CheckLeaks(t)
	base := DialRequest{Host: "192.0.2.1", Port: 7, Username: "alice", Password: "pw"}
	tests := []struct {
		name   string
		edit   func(*DialRequest)
		shared bool
	}{
		{"same credentials", func(*DialRequest) {}, true},
		{"another destination", func(r *DialRequest) { r.Port = 8 }, true},
		{"another user", func(r *DialRequest) { r.Username = "bob" }, false},
		{"another password", func(r *DialRequest) { r.Password = "pw2" }, false},
		{"a tag", func(r *DialRequest) { r.Isolation = "directory" }, false},
		{"no credentials", func(r *DialRequest) { r.Username, r.Password = "", "" }, false},
		{"user and password split elsewhere", func(r *DialRequest) { r.Username, r.Password = "alicep", "w" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := startNet(t, 4, 1).manager(t, newFakeClock(), nil)
				first := dialEcho(t, m, base)
				defer first.Close()
				req := base
				tt.edit(&req)
				second := dialEcho(t, m, req)
				defer second.Close()
				synctest.Wait()
				circs := m.Circuits()
				if shared := len(circs) == 1; shared != tt.shared {
					t.Fatalf("%d circuits %+v for two streams, want shared %v", len(circs), circs, tt.shared)
				}
			})
		})
	}
}
