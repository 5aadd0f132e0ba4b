package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"onion/internal/procstat"
)

// TestRunQuick runs the whole benchmark in quick mode against the real
// binary: it starts a network, measures every figure, prints JSON and
// leaves no process behind.
func TestRunQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole network of real processes")
	}
	exe := buildOnion(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	rep, err := Run(ctx, Config{Exe: exe, Quick: true, JSON: true, Stdout: &out, Stderr: testLog{t}, Timeout: 80 * time.Second})
	t.Logf("quick run took %v", time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	var got Report
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not the report as JSON: %v\n%s", err, out.String())
	}
	for _, k := range []string{"connect_warm", "circuit_build", "circuit_build_3hop", "ttfb_warm", "ttfb_fresh", "ttfb_floor", "ttfb_warm_optimistic", "ttfb_warm_wait",
		"idle_rss", "idle_per_circuit",
		"download_1", "cpu_download_1", "download_8", "cpu_download_8", "cpu_download_small",
		"crypto_bound_onion", "crypto_bound_stdlib", "crypto_bound_fernet-go", "download_1_of_bound_onion",
		"hidden_first_contact", "hidden_new_circuit", "hidden_ttfb_warm", "hidden_echo_1", "hidden_echo_8",
		"hidden_forward_download", "hidden_forward_of_exit", "hidden_echo_of_exit"} {
		f := got.Figures[k]
		if f == nil || f.Value == nil || *f.Value <= 0 || f.Error != "" {
			t.Errorf("figure %s = %+v", k, f)
		}
	}
	// Under load: the ratios, and how busy the downloads alone kept the
	// machine (a share of all cores, so within (0, 1]).
	for _, k := range []string{"load_capped_other_of_idle", "load_capped_same_of_idle", "load_full_other_of_floor", "load_full_same_of_floor", "load_capped_rate_alone"} {
		if f := got.Figures[k]; f == nil || f.Value == nil || *f.Value <= 0 || f.Error != "" {
			t.Errorf("figure %s = %+v", k, f)
		}
	}
	for _, k := range []string{"load_capped_cpu_busy", "load_full_cpu_busy"} {
		if f := got.Figures[k]; f == nil || f.Value == nil || *f.Value <= 0 || *f.Value > 1 || f.Unit != unitShare || f.N == 0 {
			t.Errorf("figure %s = %+v, want a share of the CPUs in (0, 1]", k, f)
		}
	}
	if f := got.Figures["download_1"]; f != nil && (f.Plain == nil || f.Direct == nil || f.RatioPlain == nil) {
		t.Errorf("download_1 lacks its baselines: %+v", f)
	}
	// Ratios of quick mode's tiny quantities may be undefined (no RSS growth
	// at few circuits, no CPU tick in a small download), never an error.
	for _, k := range []string{"idle_linear_r2", "cpu_linear"} {
		if f := got.Figures[k]; f == nil || f.Error != "" {
			t.Errorf("figure %s = %+v", k, f)
		}
	}
	if m := got.Idle; m == nil || len(m.Circuits) != 5 || m.Circuits[4] != 400 || len(m.RSS) != 5 {
		t.Errorf("idle circuits = %+v", m)
	}
	if got.PeakRSS["proxy"] <= 0 || got.PeakRSS["relay1"] <= 0 {
		t.Errorf("peak RSS = %v", got.PeakRSS)
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	t.Logf("\n%s", table.String())
	if pids := running(exe); len(pids) > 0 {
		t.Errorf("processes of %s still running after Run: %v", exe, pids)
	}
}

// buildOnion builds cmd/onion into the test's temporary directory.
func buildOnion(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "onion")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	cmd := exec.Command(goTool, "build", "-o", path, "onion/cmd/onion")
	cmd.Dir = "../.." // the module root: tests run in their package directory
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	return path
}

// running lists the pids whose executable is exe (Linux only; elsewhere none).
func running(exe string) []int {
	all, _ := procstat.PIDs()
	var pids []int
	for _, pid := range all {
		if target, err := procstat.Executable(pid); err == nil && target == exe {
			pids = append(pids, pid)
		}
	}
	return pids
}

// testLog writes progress lines into the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestCompareLinksQuick runs --compare-plain-links in quick mode: both
// networks start, every round has figures for both sides, the report's
// medians and ratios are those of its rounds, and no process is left.
func TestCompareLinksQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two whole networks of real processes")
	}
	exe := buildOnion(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var out bytes.Buffer
	lc, err := CompareLinks(ctx, Config{Exe: exe, Quick: true, JSON: true, Stdout: &out, Stderr: testLog{t}, Timeout: 80 * time.Second})
	if err != nil {
		t.Fatalf("CompareLinks: %v\n%s", err, out.String())
	}
	var got LinkCost
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not the report as JSON: %v\n%s", err, out.String())
	}
	if got.Rounds != linkRounds || got.RateRatio != lc.RateRatio {
		t.Errorf("JSON report %+v differs from the returned %+v", got, *lc)
	}
	for name, s := range map[string]LinkSide{"tls": got.TLS, "plain": got.Plain} {
		if len(s.Rates) != linkRounds || len(s.TTFBs) != linkRounds || len(s.CPUs) != linkRounds {
			t.Fatalf("%s: want %d rounds of each figure: %+v", name, linkRounds, s)
		}
		for i := range linkRounds {
			if s.Rates[i] <= 0 || s.TTFBs[i] <= 0 || s.CPUs[i] < 0 {
				t.Errorf("%s round %d: rate %v, TTFB %v, CPU %v", name, i+1, s.Rates[i], s.TTFBs[i], s.CPUs[i])
			}
		}
		if s.Rate != median(s.Rates) || s.TTFB != median(s.TTFBs) || s.TTFBsSeen <= 0 {
			t.Errorf("%s: medians %v, %v are not those of the rounds %v, %v", name, s.Rate, s.TTFB, s.Rates, s.TTFBs)
		}
	}
	if want := got.TLS.Rate / got.Plain.Rate; got.RateRatio != want {
		t.Errorf("rate ratio %v, want %v", got.RateRatio, want)
	}
	if want := got.TLS.TTFB - got.Plain.TTFB; got.TTFBDelta != want {
		t.Errorf("TTFB delta %v, want %v", got.TTFBDelta, want)
	}
	if pids := running(exe); len(pids) > 0 {
		t.Errorf("processes of %s still running after CompareLinks: %v", exe, pids)
	}
}
