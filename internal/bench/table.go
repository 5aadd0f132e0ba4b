package bench

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes the report for people: a header line, one row per
// figure with its baselines and ratios, the peak memory of each process,
// and the notes.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	b.WriteString(r.header() + "\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tn\tonion\tp99\tplain SOCKS5\tdirect\tonion/plain\tonion/direct")
	for _, k := range r.Order {
		f := r.Figures[k]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Label, fmtN(f.N),
			fmtOnion(f), fmtCell(f.Unit, f.P99), fmtCell(f.Unit, f.Plain), fmtCell(f.Unit, f.Direct),
			fmtRatio(f.RatioPlain), fmtRatio(f.RatioDirect))
	}
	tw.Flush()
	if len(r.PeakRSS) > 0 {
		b.WriteString("\npeak RSS (VmHWM): " + r.rssLine() + "\n")
	}
	if errs := r.errors(); len(errs) > 0 {
		b.WriteString("\nerrors:\n")
		for _, e := range errs {
			b.WriteString("  - " + e + "\n")
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, n := range r.Notes {
			b.WriteString("  - " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) header() string {
	net := "own network"
	switch r.Setup.Network {
	case networkExternal:
		net = "external network"
	case networkHosts:
		net = "own network on namespaces"
	}
	if r.Setup.Relays > 0 {
		net += fmt.Sprintf(" (%d relays, %d exits", r.Setup.Relays, r.Setup.Exits)
		if r.Setup.Hidden {
			net += ", hidden server"
		}
		net += ")"
	}
	mode := ""
	if r.Setup.Quick {
		mode = ", quick"
	}
	m := r.Machine
	cpu := fmt.Sprintf("%d CPUs", m.CPUs)
	if m.CPUModel != "" {
		cpu += " " + m.CPUModel
	}
	if m.Load1 != nil {
		cpu += fmt.Sprintf(" (load %.2f at start)", *m.Load1)
	}
	return fmt.Sprintf("onion bench: %s; %s downloads%s; %s, %s/%s, %s; took %v",
		net, fmtValue(unitBytes, num(float64(r.Setup.DownloadBytes))), mode, cpu, m.OS, m.Arch, m.Go,
		time.Duration(r.Duration*float64(time.Second)).Round(time.Second))
}

// rssLine lists peak RSS by process: proxy first, then by name.
func (r *Report) rssLine() string {
	names := slices.SortedFunc(maps.Keys(r.PeakRSS), func(a, b string) int {
		return cmp.Or(cmp.Compare(rssRank(a), rssRank(b)), cmp.Compare(a, b))
	})
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n+" "+fmtValue(unitBytes, num(float64(r.PeakRSS[n]))))
	}
	return strings.Join(parts, ", ")
}

func rssRank(name string) int {
	switch {
	case name == "proxy":
		return 0
	case strings.HasPrefix(name, "relay"):
		return 1
	case name == "hiddenserver":
		return 2
	}
	return 3
}

// errors lists the figures that failed, in table order.
func (r *Report) errors() []string {
	var errs []string
	for _, k := range r.Order {
		if f := r.Figures[k]; f.Error != "" {
			errs = append(errs, f.Label+": "+f.Error)
		}
	}
	return errs
}

func fmtN(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func fmtOnion(f *Figure) string {
	if f.Error != "" && f.Value == nil {
		return "error"
	}
	return fmtCell(f.Unit, f.Value)
}

// fmtCell prints a figure's value as fmtValue does, except that bytes
// below 1 MB are in KiB, the unit a circuit's memory is stated in.
// (Progress and labels keep MB, so that a count does not change unit as
// it grows.)
func fmtCell(unit string, v *float64) string {
	if unit == unitBytes && v != nil && max(*v, -*v) < 1e6 {
		return sig3(*v/1024) + " KiB"
	}
	return fmtValue(unit, v)
}

// fmtValue prints v in the unit people read it in, to three significant
// digits: milliseconds, MB/s, MB (1 MB = 10^6 bytes).
func fmtValue(unit string, v *float64) string {
	if v == nil {
		return "-"
	}
	switch unit {
	case unitSeconds:
		if *v >= 1 {
			return sig3(*v) + " s"
		}
		return sig3(*v*1e3) + " ms"
	case unitBytesPerSec:
		return sig3(*v/1e6) + " MB/s"
	case unitBytes:
		return sig3(*v/1e6) + " MB"
	case unitCPU:
		return sig3(*v) + " s"
	case unitRatio:
		return fmtRatio(v)
	case unitShare:
		return fmt.Sprintf("%.0f%%", *v*100)
	}
	return sig3(*v) + " " + unit
}

func fmtRatio(v *float64) string {
	if v == nil {
		return "-"
	}
	return sig3(*v) + "x"
}

// sig3 prints x with three significant digits, without exponents.
func sig3(x float64) string {
	switch a := max(x, -x); {
	case a >= 100:
		return fmt.Sprintf("%.0f", x)
	case a >= 10:
		return fmt.Sprintf("%.1f", x)
	case a >= 1 || a == 0:
		return fmt.Sprintf("%.2f", x)
	case a >= 0.001:
		return fmt.Sprintf("%.3f", x)
	}
	return fmt.Sprintf("%.2g", x)
}
