package pathsel

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"onion/onion"
)

// relay is a descriptor for tests (not signed: selection does not check).
func relay(i int, addr string, exit bool, weight int64) onion.RelayDescriptor {
	seed := make([]byte, ed25519.SeedSize)
	seed[0], seed[1] = byte(i), byte(i>>8)
	key := ed25519.NewKeyFromSeed(seed)
	return onion.RelayDescriptor{
		Nickname: fmt.Sprintf("r%d", i), Address: addr,
		IdentityKey: key.Public().(ed25519.PublicKey), Exit: exit, Weight: weight,
	}
}

func seeded(seed uint64) Rand { return rand.New(rand.NewPCG(seed, 1)).Int64N }

func fps(path []onion.RelayDescriptor) []string {
	var out []string
	for _, d := range path {
		out = append(out, d.Nickname)
	}
	return out
}

func TestSubnet(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"10.1.2.3:9001", "10.1.200.4:9002", true},
		{"10.1.2.3:9001", "10.2.2.3:9001", false},
		{"127.1.0.1:9001", "127.2.0.1:9001", false},
		{"[::ffff:10.1.2.3]:1", "10.1.9.9:2", true},
		{"[2001:db8:1::1]:1", "[2001:db8:ffff::2]:1", true},
		{"[2001:db8:1::1]:1", "[2001:db9:1::1]:1", false},
		{"[fe80::1%eth0]:1", "[fe80::2]:1", true},
		{"relay.example:1", "RELAY.example:2", true},
		{"relay.example:1", "other.example:1", false},
	} {
		if got := Subnet(c.a) == Subnet(c.b); got != c.same {
			t.Errorf("%s, %s: same subnet %v, want %v (%s, %s)", c.a, c.b, got, c.same, Subnet(c.a), Subnet(c.b))
		}
	}
}

func TestFamilyNeedsBothSides(t *testing.T) {
	a, b := relay(1, "10.1.0.1:1", true, 1), relay(2, "10.2.0.1:1", true, 1)
	a.Family = []string{b.Fingerprint()}
	if SameFamily(&a, &b) || !Compatible(&a, &b, false) {
		t.Fatal("a one-sided declaration made a family")
	}
	b.Family = []string{a.Fingerprint()}
	if !SameFamily(&a, &b) || Compatible(&a, &b, false) {
		t.Fatal("a mutual declaration did not make a family")
	}
}

// TestRulesHoldOnEveryPath: many paths over a list with shared /16s,
// /32s and a family; none breaks a rule, and with Lab the subnet rule is off.
func TestRulesHoldOnEveryPath(t *testing.T) {
	var relays []onion.RelayDescriptor
	for i := range 12 {
		addr := fmt.Sprintf("10.%d.0.%d:9001", i/3, i) // three relays per /16
		if i >= 9 {
			addr = fmt.Sprintf("[2001:db8:%x::1]:9001", i) // one /32
		}
		relays = append(relays, relay(i, addr, i%2 == 0, 100))
	}
	relays[0].Family = []string{relays[4].Fingerprint()} // 0 and 4 are one family
	relays[4].Family = []string{relays[0].Fingerprint()}
	l := New(relays)
	rng := seeded(1)
	sawLabSubnet := false
	for range 2000 {
		for _, lab := range []bool{false, true} {
			path, err := l.Select(Options{Lab: lab}, rng)
			if err != nil {
				t.Fatal(err)
			}
			if !path[2].Exit {
				t.Fatalf("path %v ends at a non-exit", fps(path))
			}
			for i := range path {
				for j := i + 1; j < len(path); j++ {
					if path[i].Fingerprint() == path[j].Fingerprint() || SameFamily(&path[i], &path[j]) {
						t.Fatalf("path %v repeats a relay or a family", fps(path))
					}
					if Subnet(path[i].Address) == Subnet(path[j].Address) {
						if !lab {
							t.Fatalf("path %v: two relays of one subnet", fps(path))
						}
						sawLabSubnet = true
					}
				}
			}
		}
	}
	if !sawLabSubnet {
		t.Error("lab mode never put two relays of one subnet on a path")
	}
}

func TestOneSubnetNoPathUnlessLab(t *testing.T) {
	var relays []onion.RelayDescriptor
	for i := range 5 {
		relays = append(relays, relay(i, fmt.Sprintf("127.0.0.1:%d", 9000+i), true, 1))
	}
	if _, err := Select(relays, Options{}, seeded(2)); !errors.Is(err, ErrNoPath) {
		t.Fatalf("five relays on 127.0.0.1 made a path without lab mode: %v", err)
	}
	if _, err := Select(relays, Options{Lab: true}, seeded(2)); err != nil {
		t.Fatalf("lab mode: %v", err)
	}
}

func TestExitByPort(t *testing.T) {
	relays := []onion.RelayDescriptor{
		relay(1, "10.1.0.1:1", false, 10), relay(2, "10.2.0.1:1", false, 10),
		relay(3, "10.3.0.1:1", true, 10), relay(4, "10.4.0.1:1", true, 10),
	}
	relays[2].ExitPolicy = "accept 80,443"
	relays[3].ExitPolicy = "reject 25,80"
	rng := seeded(3)
	for _, c := range []struct {
		port uint16
		exit string
	}{{80, "r3"}, {443, ""}, {22, "r4"}} {
		for range 50 {
			path, err := Select(relays, Options{Port: c.port}, rng)
			if err != nil {
				t.Fatalf("port %d: %v", c.port, err)
			}
			if c.exit != "" && path[2].Nickname != c.exit {
				t.Fatalf("port %d: exit %s, want %s", c.port, path[2].Nickname, c.exit)
			}
		}
	}
	_, err := Select(relays, Options{Port: 25}, rng)
	if !errors.Is(err, ErrNoExit) {
		t.Fatalf("port 25 allowed by no exit: err %v", err)
	}
	t.Log(err)
}

func TestGuardsFirstUsable(t *testing.T) {
	relays := []onion.RelayDescriptor{
		relay(1, "10.1.0.1:1", false, 10), relay(2, "10.2.0.1:1", false, 10),
		relay(3, "10.3.0.1:1", true, 10), relay(4, "10.3.0.2:1", false, 10),
	}
	// r4 shares the only exit's /16: the path starts at the next guard.
	path, err := Select(relays, Options{Guards: []onion.RelayDescriptor{relays[3], relays[1]}}, seeded(4))
	if err != nil || path[0].Nickname != "r2" {
		t.Fatalf("path %v, %v; want it to start at r2", fps(path), err)
	}
	_, err = Select(relays, Options{Guards: []onion.RelayDescriptor{relays[3]}}, seeded(4))
	if !errors.Is(err, ErrGuardsUnusable) {
		t.Fatalf("err %v, want ErrGuardsUnusable", err)
	}
}

func TestAvoidOnlyWhenOthersFit(t *testing.T) {
	relays := []onion.RelayDescriptor{
		relay(1, "10.1.0.1:1", false, 10), relay(2, "10.2.0.1:1", false, 10),
		relay(3, "10.3.0.1:1", true, 10), relay(4, "10.4.0.1:1", true, 10),
	}
	bad := relays[3].Fingerprint()
	avoid := func(fp string) bool { return fp == bad }
	rng := seeded(5)
	for range 200 {
		path, err := Select(relays, Options{Avoid: avoid}, rng)
		if err != nil {
			t.Fatal(err)
		}
		if path[2].Nickname != "r3" {
			t.Fatalf("path %v: the avoided exit was chosen while another fits", fps(path))
		}
	}
	relays = relays[1:] // r2, r3, r4: r4 is needed in some position
	if _, err := Select(relays, Options{Avoid: avoid}, rng); err != nil {
		t.Fatalf("avoided relay not used when needed: %v", err)
	}
}

// TestWeighted: the exit and middle positions follow the position
// weights. Fixed seed, 20,000 paths, bounds of ±10% of each expected
// share (several standard deviations).
func TestWeighted(t *testing.T) {
	// W = 100+200+300+400 + 600+400 = 2000; E = 1000; ExitElsewhere = (3000-2000)/3000 = 1/3.
	relays := []onion.RelayDescriptor{
		relay(1, "10.1.0.1:1", false, 100), relay(2, "10.2.0.1:1", false, 200),
		relay(3, "10.3.0.1:1", false, 300), relay(4, "10.4.0.1:1", false, 400),
		relay(5, "10.5.0.1:1", true, 600), relay(6, "10.6.0.1:1", true, 400),
	}
	l := New(relays)
	if w := l.Weights(); w.Total != 2000 || w.Exits != 1000 || w.ExitElsewhere < 0.333 || w.ExitElsewhere > 0.334 {
		t.Fatalf("weights %+v", w)
	}
	const n = 20000
	exits := map[string]int{}
	guards := map[string]int{}
	rng := seeded(6)
	for range n {
		path, err := l.Select(Options{}, rng)
		if err != nil {
			t.Fatal(err)
		}
		exits[path[2].Nickname]++
		guards[path[0].Nickname]++
	}
	near := func(what string, got int, want float64) {
		if f := float64(got) / n; f < want*0.9 || f > want*1.1 {
			t.Errorf("%s: share %.3f, want %.3f ±10%%", what, f, want)
		}
	}
	near("exit r5", exits["r5"], 0.6)
	near("exit r6", exits["r6"], 0.4)
	// The first hop is drawn after the exit, among the other relays: r4
	// weighs 400 and an exit 1/3 of its weight. Expected share of r4:
	// 0.6·400/(1000+400/3) + 0.4·400/(1000+200).
	near("first hop r4", guards["r4"], 0.6*400/(1000+400.0/3)+0.4*400/1200)
	near("first hop r1", guards["r1"], 0.6*100/(1000+400.0/3)+0.4*100/1200)
}

func TestScarceExitsOnlyExit(t *testing.T) {
	// E = 100 of W = 1000: 3E < W, exits never serve elsewhere.
	relays := []onion.RelayDescriptor{
		relay(1, "10.1.0.1:1", false, 300), relay(2, "10.2.0.1:1", false, 300),
		relay(3, "10.3.0.1:1", false, 300), relay(4, "10.4.0.1:1", true, 50), relay(5, "10.5.0.1:1", true, 50),
	}
	rng := seeded(7)
	for range 2000 {
		path, err := Select(relays, Options{}, rng)
		if err != nil {
			t.Fatal(err)
		}
		if path[0].Exit || path[1].Exit {
			t.Fatalf("path %v: a scarce exit in another position", fps(path))
		}
	}
}

func TestUnweightedUniform(t *testing.T) {
	var relays []onion.RelayDescriptor
	for i := range 4 {
		relays = append(relays, relay(i, fmt.Sprintf("127.0.0.1:%d", 9000+i), true, 0))
	}
	count := map[string]int{}
	rng := seeded(8)
	for range 4000 {
		path, err := Select(relays, Options{Lab: true}, rng)
		if err != nil {
			t.Fatal(err)
		}
		count[path[2].Nickname]++
	}
	for name, c := range count {
		if c < 800 || c > 1200 {
			t.Errorf("exit %s chosen %d of 4000 times, want about 1000", name, c)
		}
	}
}

func TestPickGuardWeighted(t *testing.T) {
	relays := []onion.RelayDescriptor{
		relay(1, "10.1.0.1:1", false, 100), relay(2, "10.2.0.1:1", false, 900), relay(3, "10.3.0.1:1", true, 1000),
	}
	l := New(relays) // W = 2000, E = 1000, factor (3000-2000)/3000 = 1/3
	rng := seeded(9)
	count := map[string]int{}
	for range 10000 {
		g, ok := l.PickGuard(nil, rng)
		if !ok {
			t.Fatal("no guard")
		}
		count[g.Nickname]++
	}
	total := 100 + 900 + 1000.0/3
	for name, w := range map[string]float64{"r1": 100, "r2": 900, "r3": 1000.0 / 3} {
		if f := float64(count[name]) / 10000; f < 0.9*w/total || f > 1.1*w/total {
			t.Errorf("guard %s share %.3f, want %.3f", name, f, w/total)
		}
	}
	r2 := relays[1].Fingerprint()
	for range 100 {
		if g, _ := l.PickGuard(func(fp string) bool { return fp == r2 }, rng); g.Nickname == "r2" {
			t.Fatal("PickGuard chose an excluded relay")
		}
	}
}

func TestLastHopGiven(t *testing.T) {
	relays := []onion.RelayDescriptor{
		relay(1, "10.1.0.1:1", false, 10), relay(2, "10.2.0.1:1", false, 10), relay(3, "10.3.0.1:1", true, 10),
	}
	meet := relay(9, "10.9.0.1:1", false, 0)
	path, err := Select(relays, Options{Last: &meet, Port: 25}, seeded(10))
	if err != nil || path[2].Nickname != "r9" {
		t.Fatalf("path %v, %v", fps(path), err)
	}
}

// BenchmarkSelect7000: one path from an indexed list of 7,000 relays with
// heavy-tailed weights (the simulation's scale).
func BenchmarkSelect7000(b *testing.B) {
	rng := seeded(11)
	var relays []onion.RelayDescriptor
	for i := range 7000 {
		w := int64(20<<10) + rng(int64(10<<20))*rng(100)/100 // skewed
		relays = append(relays, relay(i, fmt.Sprintf("%d.%d.0.1:9001", 1+i/250, i%250), i%5 == 0, w))
	}
	l := New(relays)
	b.ResetTimer()
	for range b.N {
		if _, err := l.Select(Options{Port: 443}, rng); err != nil {
			b.Fatal(err)
		}
	}
}
