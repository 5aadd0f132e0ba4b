package pathsim

// The report as text.

import (
	"fmt"
	"io"

	"onion/client"
)

// Write prints the report.
func (r *Report) Write(w io.Writer) error {
	p, h, a := r.Params, r.Honest, r.Admission
	pr := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	pr("seed %d\n", p.Seed)
	pr("honest relays: %d (%d exits) in %d /16s at %d addresses; bandwidth log-normal, median %s, sigma %.2f:\n",
		h.Relays, h.Exits, h.Subnets, h.Addresses, rate(p.Network.MedianBW), p.Network.Sigma)
	pr("  total %s (exits %.0f%%), mean %s, the top 10%% of relays %.0f%% of it\n",
		rate(float64(h.Total)), 100*float64(h.ExitBW)/float64(h.Total), rate(float64(h.Total)/float64(h.Relays)), 100*h.TopTenthShare)
	pr("attacker: %.1f%% of all bandwidth, %d relays published from %d addresses (one /16 each), %.0f%% of them exits\n",
		100*p.Attacker.Share, p.Attacker.Relays, p.Attacker.Addresses, 100*p.Attacker.ExitFraction)
	pr("admission (directory.Admit, at most %d relays per address): %d of %d Sybil relays listed, %d of %d honest relays refused\n",
		a.PerAddressRule, a.SybilsListed, p.Attacker.Relays, a.HonestRefused, h.Relays)
	if a.FirstRefusal != "" {
		pr("  the directory's reason: %s\n", a.FirstRefusal)
	}
	pr("\ncircuits with the attacker's relay as both first hop and exit (no guards, a fresh path each):\n")
	pr("  %-56s %7s %8s %8s %10s %10s %10s %9s\n", "selection and list", "relays", "guard", "exit", "g × e", "exact", "measured", "circuits")
	for _, s := range r.Scenarios {
		pr("  %-56s %7d %7.3f%% %7.3f%% %9.4f%% %9.4f%% %9.4f%% %9d\n", s.Name, s.Relays,
			100*s.Expect.GuardShare, 100*s.Expect.ExitShare, 100*s.Expect.Product, 100*s.Expect.Exact,
			100*s.Measured.Fraction(), s.Measured.Circuits)
	}
	pr("  (guard, exit: the attacker's share of the first-hop and exit weight; exact: g × e with the\n")
	pr("  rule that first hop and exit differ and, for pathsel, are not in one /16)\n")
	if len(r.Exposure) > 0 {
		x := r.Exposure[0]
		pr("\nfirst hops over %d days, a circuit every %s (%d circuits), %d clients, %.0f%% of relays missing from each day's list,\n",
			p.Exposure.Days, p.Exposure.Every, x.CircuitsPerClient, x.Clients, 100*p.Exposure.Churn)
		pr("pathsel over the list after admission, weight = bandwidth; guard sets as client.Guards keeps them (%d guards, %.0f days):\n",
			client.GuardSetSize, client.GuardLifetime.Hours()/24)
		pr("  %-14s %14s %6s %24s %24s %16s\n", "", "distinct mean", "max", "clients: attacker first", "attacker both ends", "circuits: both")
		for _, x := range r.Exposure {
			name := "without guards"
			if x.Guards {
				name = "with guards"
			}
			pr("  %-14s %14.1f %6d %23.1f%% %23.1f%% %15.3f%%\n", name, x.DistinctMean, x.DistinctMax, 100*x.AttackerFirst, 100*x.Compromised, 100*x.CircuitsCompromised)
		}
	}
	return nil
}

// rate formats bytes per second.
func rate(bps float64) string {
	switch {
	case bps >= 1e9:
		return fmt.Sprintf("%.1f GB/s", bps/1e9)
	case bps >= 1e6:
		return fmt.Sprintf("%.1f MB/s", bps/1e6)
	}
	return fmt.Sprintf("%.0f kB/s", bps/1e3)
}
