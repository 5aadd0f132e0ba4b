package relay

import (
	"crypto/ed25519"
	"net/netip"
	"strings"
	"testing"

	"onion/onion"
)

func TestParsePolicyNames(t *testing.T) {
	for _, name := range []string{"", "reject-private", "Reject-Private"} {
		if p, err := ParsePolicy(name); err != nil || p.String() != "reject-private" {
			t.Errorf("%q: %v %v", name, p, err)
		}
	}
	if p, err := ParsePolicy("accept-all"); err != nil || p.String() != "accept-all" {
		t.Errorf("accept-all: %v %v", p, err)
	}
}

func TestPolicyRules(t *testing.T) {
	p, err := ParsePolicy("reject 1.2.0.0/16:*, accept *:80, accept *:443, accept [2a00:1450::]/32:22, reject *:*")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dest  string
		allow bool
	}{
		{"93.184.216.34:80", true},
		{"93.184.216.34:443", true},
		{"93.184.216.34:25", false},
		{"1.2.3.4:80", false}, // the prefix rule first
		{"1.1.1.1:80", true},
		{"[2a00:1450::1]:22", true},
		{"[2a00:1451::1]:22", false},
		{"127.0.0.1:80", false}, // the implicit reject private:*
		{"10.1.2.3:443", false}, // likewise
		{"[::1]:80", false},     // likewise
		{"[::ffff:93.184.216.34]:80", true},
	} {
		if got := p.Allow(netip.MustParseAddrPort(c.dest)); got != c.allow {
			t.Errorf("%s: allow %v, want %v (policy %s)", c.dest, got, c.allow, p)
		}
	}
	if !strings.HasPrefix(p.String(), "reject private:*,") {
		t.Errorf("String %q: want the implicit rule first", p)
	}
	// A rule naming private turns the implicit one off.
	open, err := ParsePolicy("accept private:*,reject *:*")
	if err != nil || !open.Allow(netip.MustParseAddrPort("127.0.0.1:80")) || open.Allow(netip.MustParseAddrPort("1.1.1.1:80")) {
		t.Errorf("accept private: %v %v", open, err)
	}
	// No rule matches: refused.
	none, _ := ParsePolicy("accept *:80")
	if none.Allow(netip.MustParseAddrPort("1.1.1.1:81")) {
		t.Error("a destination no rule matches was allowed")
	}
}

func TestPolicyRulesRefused(t *testing.T) {
	for _, s := range []string{
		"allow *:80", "accept *", "accept *:0", "accept *:80-22", "accept *:65536",
		"accept 2001:db8::1:80", "accept [fe80::1%eth0]:80", "accept 10.0.0.0/33:80",
		"accept host.example:80", "accept *:80,", "accept *:http",
		strings.Repeat("accept *:80,", MaxPolicyRules) + "accept *:81",
	} {
		if p, err := ParsePolicy(s); err == nil {
			t.Errorf("%.60q parsed as %s", s, p)
		}
	}
}

func TestSummarize(t *testing.T) {
	for _, c := range []struct{ policy, want string }{
		{"accept-all", "accept 1-65535"},
		{"reject-private", "accept 1-65535"},
		{"accept *:80,accept *:443,reject *:*", "accept 80,443"},
		{"accept *:80,accept *:443", "accept 80,443"}, // no match refuses
		{"reject *:25,accept *:*", "reject 25"},
		{"reject *:25,reject *:465,reject *:587,accept *:*", "reject 25,465,587"},
		{"accept *:20-23,accept *:22-80", "accept 20-80"},
		// Prefix rules say nothing of an arbitrary destination.
		{"reject 203.0.113.0/24:*,accept *:443", "accept 443"},
		{"accept 203.0.113.0/24:*,reject *:*", "reject 1-65535"},
		{"accept *6:80,accept *4:443", "accept 443"},
		{"reject *:1-1023,accept *:*", "reject 1-1023"}, {"accept *:1024-65535", "reject 1-1023"}, {"accept *:1-1000,accept *:2000-65535", "reject 1001-1999"},
	} {
		p, err := ParsePolicy(c.policy)
		if err != nil {
			t.Fatalf("%s: %v", c.policy, err)
		}
		s := Summarize(p)
		if s.String() != c.want {
			t.Errorf("%s: summary %q, want %q", c.policy, s, c.want)
		}
		back, err := onion.ParsePolicySummary(s.String())
		if err != nil || back.String() != s.String() {
			t.Errorf("%s: summary %q does not read back (%v, %v)", c.policy, s, back, err)
		}
	}
}

// TestDescriptorCarriesPathFields: bandwidth (default), family (canonical,
// without the relay itself) and the exit's policy summary are signed in
// the descriptor.
func TestDescriptorCarriesPathFields(t *testing.T) {
	id := ed25519.NewKeyFromSeed(make([]byte, 32))
	ok, _ := onion.GenerateOnionKey(nil)
	other := strings.Repeat("ab", 20)
	policy, _ := ParsePolicy("accept *:443,reject *:*")
	r, err := New(Config{Identity: id, OnionKey: ok, Address: "203.0.113.9:9001", Exit: true, Policy: policy,
		Family: []string{"$" + other, onion.Fingerprint(id.Public().(ed25519.PublicKey)), strings.ToUpper(other)}})
	if err != nil {
		t.Fatal(err)
	}
	d := r.Descriptor()
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	if d.Bandwidth != onion.DefaultBandwidth || d.ExitPolicy != "accept 443" ||
		len(d.Family) != 1 || d.Family[0] != strings.ToUpper(other) {
		t.Errorf("descriptor bandwidth %d, policy %q, family %v", d.Bandwidth, d.ExitPolicy, d.Family)
	}
	if _, err := New(Config{Identity: id, OnionKey: ok, Address: "203.0.113.9:9001", Family: []string{"relay2"}}); err == nil {
		t.Error("a family member that is no fingerprint was accepted")
	}
}

func TestParseBandwidth(t *testing.T) {
	for s, want := range map[string]int64{"": 0, "1000": 1000, "10K": 10 << 10, "5m": 5 << 20, "2G": 2 << 30} {
		if got, err := ParseBandwidth(s); err != nil || got != want {
			t.Errorf("%q: %d %v, want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"0", "-5", "x", "1T", "M", "99999999999G"} {
		if _, err := ParseBandwidth(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}
