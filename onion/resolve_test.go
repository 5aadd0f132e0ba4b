package onion

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

func TestResolvedRoundTrip(t *testing.T) {
	in := []ResolvedAnswer{
		{Type: ResolvedIPv4, Addr: netip.MustParseAddr("192.0.2.7"), TTL: 60},
		{Type: ResolvedIPv6, Addr: netip.MustParseAddr("2001:db8::1"), TTL: 1},
		{Type: ResolvedHostname, Name: "example.org"},
		{Type: ResolvedErrPermanent, TTL: 0},
	}
	b, err := MarshalResolved(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseResolved(b)
	if err != nil || !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip: %+v, %v", out, err)
	}
	for n := 0; n < len(b); n++ { // no proper prefix parses but at answer ends
		if _, err := ParseResolved(b[:n]); err == nil && n != 10 && n != 32 && n != 49 {
			t.Errorf("prefix of %d bytes parsed", n)
		}
	}
	for _, bad := range [][]byte{
		{0x04, 3, 1, 2, 3, 0, 0, 0, 0}, // IPv4 of 3 bytes
		{0x07, 0, 0, 0, 0, 0},          // unknown type
		{0x00, 0, 0, 0, 0, 0},          // empty hostname
		{0x04, 4, 1, 2, 3, 4, 0, 0, 0}, // short TTL
	} {
		if _, err := ParseResolved(bad); !errors.Is(err, ErrBadResolved) {
			t.Errorf("%x: %v, want ErrBadResolved", bad, err)
		}
	}
}

func TestResolveBody(t *testing.T) {
	b, err := ResolveBody("example.org")
	if err != nil {
		t.Fatal(err)
	}
	if name, err := ParseResolve(b); err != nil || name != "example.org" {
		t.Errorf("ParseResolve = %q, %v", name, err)
	}
	for _, bad := range []string{"", "a\x00b", "example.org"} {
		if _, err := ParseResolve([]byte(bad)); err == nil {
			t.Errorf("ParseResolve(%q) passed", bad)
		}
	}
}

func TestReverseName(t *testing.T) {
	for _, s := range []string{"192.0.2.7", "2001:db8::1"} {
		a := netip.MustParseAddr(s)
		name := ReverseName(a)
		got, ok := ParseReverseName(name)
		if !ok || got != a {
			t.Errorf("%s -> %s -> %v %v", s, name, got, ok)
		}
	}
	if ReverseName(netip.MustParseAddr("192.0.2.7")) != "7.2.0.192.in-addr.arpa" {
		t.Error("in-addr.arpa order")
	}
	if _, ok := ParseReverseName("example.org"); ok {
		t.Error("example.org parsed as a reverse name")
	}
}

func FuzzParseResolved(f *testing.F) {
	f.Add([]byte{0x04, 4, 192, 0, 2, 7, 0, 0, 0, 60})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseResolved(b)
		if err != nil {
			return
		}
		if _, err := MarshalResolved(a); err != nil && len(b) <= MaxBody {
			t.Errorf("re-encode %+v: %v", a, err)
		}
	})
}
