package relay

import (
	"errors"
	"net"
	"strings"
	"testing"
)

func TestCheckAddress(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want string // a part of the error; "" for none
	}{
		{"203.0.113.5:9001", ""},
		{"[2001:db8::5]:9001", ""},
		{"[::1]:9001", ""},
		{"relay.example.org:9001", ""},
		{"relay-1.example.org.:443", ""},
		{"localhost:1", ""},
		{"2001:db8::5:9001", "in brackets"},
		{"::1:9001", "in brackets"},
		{"203.0.113.5", "want HOST:PORT"},
		{"203.0.113.5:0", "port must be 1-65535"},
		{"203.0.113.5:65536", "port must be 1-65535"},
		{"203.0.113.5:09001", "port must be 1-65535"},
		{"203.0.113.5:http", "port must be 1-65535"},
		{":9001", "port must be 1-65535"}, // an empty host
		{"[relay.example.org]:9001", "brackets go around an IPv6 address"},
		{"0.0.0.0:9001", "no one's address"},
		{"[::]:9001", "no one's address"},
		{"[fe80::1%eth0]:9001", "zone"},
		{"relay_1.example.org:9001", "neither an IP address nor a host name"},
		{"-relay.example.org:9001", "neither an IP address nor a host name"},
		{"1.2.3:9001", "neither an IP address nor a host name"},
		{strings.Repeat("a.", 127) + "a:9001", "neither an IP address nor a host name"},
	} {
		err := CheckAddress(tc.addr)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckAddress(%q) = %v, want nil", tc.addr, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckAddress(%q) = %v, want an error saying %q", tc.addr, err, tc.want)
		}
	}
}

// TestPublishedAddressUnspecified: a relay listening on every interface
// (0.0.0.0, ::, or ":PORT", which Go binds as [::]) has no address to
// publish of its own; it must be given one, and the error says how.
func TestPublishedAddressUnspecified(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:9001", "[::]:9001", "[::ffff:0.0.0.0]:9001"} {
		ln, _ := net.ResolveTCPAddr("tcp", listen)
		_, err := publishedAddress("", ln)
		if !errors.Is(err, errNeedAddress) || !strings.Contains(err.Error(), "--address") {
			t.Errorf("listening on %s without an address: %v, want errNeedAddress naming --address", listen, err)
		}
		got, err := publishedAddress("203.0.113.5:9001", ln)
		if err != nil || got != "203.0.113.5:9001" {
			t.Errorf("listening on %s with an address: %q, %v", listen, got, err)
		}
	}
	ln, _ := net.ResolveTCPAddr("tcp", "[::1]:9001")
	if got, err := publishedAddress("", ln); err != nil || got != "[::1]:9001" {
		t.Errorf("listening on [::1]:9001: %q, %v; want it published in brackets", got, err)
	}
	if _, err := publishedAddress("0.0.0.0:9001", ln); err == nil {
		t.Error("an unspecified --address was accepted")
	}
}
