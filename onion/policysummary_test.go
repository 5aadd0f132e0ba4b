package onion

import (
	"crypto/ed25519"
	"strings"
	"testing"
)

func TestPolicySummary(t *testing.T) {
	for _, c := range []struct {
		text, canon string
		allow, deny []uint16
	}{
		{"accept 80,443", "accept 80,443", []uint16{80, 443}, []uint16{1, 22, 65535}},
		{"accept 443,80-81,79", "accept 79-81,443", []uint16{79, 81}, []uint16{78, 82}},
		{"reject 25", "reject 25", []uint16{1, 24, 26, 65535}, []uint16{25}},
		{"accept 1-65535", "accept 1-65535", []uint16{1, 65535}, nil},
		{"reject 1-65535", "reject 1-65535", nil, []uint16{1, 80, 65535}},
	} {
		s, err := ParsePolicySummary(c.text)
		if err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		if s.String() != c.canon {
			t.Errorf("%q: String %q, want %q", c.text, s, c.canon)
		}
		for _, p := range c.allow {
			if !s.Allows(p) {
				t.Errorf("%q refuses %d", c.text, p)
			}
		}
		for _, p := range c.deny {
			if s.Allows(p) {
				t.Errorf("%q allows %d", c.text, p)
			}
		}
	}
	if (PolicySummary{}).Allows(80) || (PolicySummary{}).AllowsAny() {
		t.Error("the zero summary allows a port")
	}
	for _, bad := range []string{"", "accept", "accept ", "allow 80", "accept 0", "accept 80-79", "accept 65536", "accept 80,,443", "accept -5", "accept 80 ", strings.Repeat("1,", MaxSummaryRanges) + "2"} {
		if _, err := ParsePolicySummary("accept " + strings.TrimPrefix(bad, "accept ")); err == nil && bad != "accept 80 " {
			t.Errorf("%.40q parsed", bad)
		}
	}
}

// TestDescriptorExtensions: the path-selection fields are signed when set
// (a descriptor without them signs the revision-3 bytes), checked, and
// the authorities' weight is not signed.
func TestDescriptorExtensions(t *testing.T) {
	id := ed25519.NewKeyFromSeed(make([]byte, 32))
	d := RelayDescriptor{Nickname: "r", Address: "192.0.2.1:9001", OnionKey: make([]byte, KeyLen), Exit: true, Published: 1}
	plain := len(d.SignedBytes())
	d.Bandwidth, d.Family, d.ExitPolicy = 1<<20, []string{strings.Repeat("A", 40)}, "accept 80"
	if len(d.SignedBytes()) <= plain {
		t.Fatal("the fields are not in the signed bytes")
	}
	d.Sign(id)
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	d.Weight = 12345 // the authorities'
	if err := d.Check(); err != nil {
		t.Fatalf("weight changed the signature: %v", err)
	}
	for name, mutate := range map[string]func(*RelayDescriptor){
		"bandwidth": func(d *RelayDescriptor) { d.Bandwidth++ },
		"family":    func(d *RelayDescriptor) { d.Family = nil },
		"policy":    func(d *RelayDescriptor) { d.ExitPolicy = "accept 1-65535" },
	} {
		c := d
		mutate(&c)
		if err := c.Check(); err == nil {
			t.Errorf("changed %s still verifies", name)
		}
	}
	for name, mutate := range map[string]func(*RelayDescriptor){
		"lower-case family": func(d *RelayDescriptor) { d.Family = []string{strings.Repeat("a", 40)} },
		"bad policy":        func(d *RelayDescriptor) { d.ExitPolicy = "accept all" },
		"negative bw":       func(d *RelayDescriptor) { d.Bandwidth = -1 },
		"huge weight":       func(d *RelayDescriptor) { d.Weight = MaxBandwidth + 1 },
		"big family":        func(d *RelayDescriptor) { d.Family = make([]string, MaxFamily+1) },
	} {
		c := d
		mutate(&c)
		c.Sign(id)
		if err := c.Check(); err == nil {
			t.Errorf("%s: checked", name)
		}
	}
	if got := (&RelayDescriptor{Exit: true}).Summary(); got.String() != "accept 1-65535" {
		t.Errorf("an exit without a summary: %s", got)
	}
	if (&RelayDescriptor{ExitPolicy: "accept 80"}).Summary().AllowsAny() {
		t.Error("a relay that is no exit allows a port")
	}
}
