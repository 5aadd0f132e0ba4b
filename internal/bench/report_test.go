package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// sampleReport is a small report with every kind of figure and gap.
func sampleReport() *Report {
	r := newReport()
	r.Started = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r.Duration = 83.5
	load := 0.5
	r.Machine = Machine{OS: "linux", Arch: "amd64", CPUs: 2, CPUModel: "Test CPU", Go: "go1.26", Load1: &load}
	r.Setup = Setup{Network: networkStarted, Relays: 5, Exits: 2, Hidden: true, DownloadBytes: 100e6, Streams: 8}

	f := r.add("ttfb_warm", "TTFB tiny GET, warm circuit", unitSeconds)
	f.setSamples([]float64{0.0021, 0.0019, 0.0030}, true)
	f.setBaselines([]float64{0.0008}, []float64{0.0002})

	f = r.add("download_1", "download, 1 stream", unitBytesPerSec)
	f.setSamples([]float64{52.1e6, 50e6, 60e6}, false)
	f.setBaselines([]float64{104.2e6}, nil)

	f = r.add("cpu_download_1", "CPU per 100 MB", unitCPU)
	f.setSamples([]float64{1.234}, false)

	f = r.add("hidden_echo_1", "hidden: echo", unitBytesPerSec)
	f.fail(errors.New("socks connect: general failure"))

	r.CPU["cpu_download_1"] = &CPUPhase{Bytes: 300e6, Seconds: map[string]float64{"proxy": 2, "relays": 1.7}}
	r.PeakRSS = map[string]int64{"relay2": 30e6, "proxy": 45.2e6, "directory": 12e6, "relay1": 31e6, "hiddenserver": 25e6}
	r.note("a note")
	return r
}

func TestFigureRatios(t *testing.T) {
	r := sampleReport()
	ttfb := r.Figures["ttfb_warm"]
	if *ttfb.Value != 0.0021 || *ttfb.P99 != 0.0030 || ttfb.N != 3 {
		t.Errorf("ttfb median/p99/n = %v/%v/%d", *ttfb.Value, *ttfb.P99, ttfb.N)
	}
	if got := *ttfb.RatioPlain; got < 2.62 || got > 2.63 {
		t.Errorf("ttfb ratio to plain = %v, want 2.625", got)
	}
	dl := r.Figures["download_1"]
	if *dl.RatioPlain != 0.5 || dl.Direct != nil || dl.RatioDirect != nil || dl.P99 != nil {
		t.Errorf("download ratio %v, direct %v, ratio direct %v, p99 %v", *dl.RatioPlain, dl.Direct, dl.RatioDirect, dl.P99)
	}
	if f := r.Figures["hidden_echo_1"]; f.Value != nil || f.Error == "" {
		t.Errorf("failed figure: value %v, error %q", f.Value, f.Error)
	}
}

func TestWriteJSON(t *testing.T) {
	var a, b bytes.Buffer
	if err := sampleReport().WriteJSON(&a); err != nil {
		t.Fatal(err)
	}
	sampleReport().WriteJSON(&b)
	if a.String() != b.String() {
		t.Error("two writes of the same report differ")
	}
	var got map[string]any
	if err := json.Unmarshal(a.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, a.String())
	}
	for _, k := range []string{"schema", "started", "duration_s", "machine", "setup", "figures", "order", "cpu", "peak_rss_bytes", "idle_circuits", "notes"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no top-level key %q", k)
		}
	}
	dl := got["figures"].(map[string]any)["download_1"].(map[string]any)
	for _, k := range []string{"label", "unit", "n", "value", "p99", "plain_socks5", "direct", "ratio_plain", "ratio_direct", "samples"} {
		if _, ok := dl[k]; !ok {
			t.Errorf("figure without key %q: a missing baseline must be null, not absent", k)
		}
	}
	if dl["value"] != 52.1e6 || dl["unit"] != "B/s" || dl["direct"] != nil {
		t.Errorf("download_1 = %v", dl)
	}
	if got["peak_rss_bytes"].(map[string]any)["proxy"] != 45.2e6 {
		t.Errorf("peak RSS = %v", got["peak_rss_bytes"])
	}
	order := got["order"].([]any)
	if len(order) != 4 || order[0] != "ttfb_warm" || order[3] != "hidden_echo_1" {
		t.Errorf("order = %v", order)
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	t.Log("\n" + out)
	for _, want := range []string{
		"onion bench: own network (5 relays, 2 exits, hidden server); 100 MB downloads; 2 CPUs Test CPU (load 0.50 at start), linux/amd64, go1.26; took 1m24s",
		"figure", "plain SOCKS5", "onion/plain",
		"2.10 ms", "3.00 ms", "0.800 ms", "2.62x", "10.5x", // TTFB row
		"52.1 MB/s", "104 MB/s", "0.500x", // download row
		"1.23 s", // CPU row
		"peak RSS (VmHWM): proxy 45.2 MB, relay1 31.0 MB, relay2 30.0 MB, hiddenserver 25.0 MB, directory 12.0 MB",
		"errors:\n  - hidden: echo: socks connect: general failure",
		"notes:\n  - a note",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	rows := map[string]string{}
	for line := range strings.Lines(out) {
		if i := strings.Index(line, "  "); i > 0 {
			rows[line[:i]] = line
		}
	}
	if row := rows["download, 1 stream"]; countFields(row, "-") != 3 { // p99, direct, onion/direct
		t.Errorf("download row should show three gaps: %q", row)
	}
	if row := rows["hidden: echo"]; !strings.Contains(row, "error") {
		t.Errorf("failed row: %q", row)
	}
}

func TestFmtValue(t *testing.T) {
	for _, tc := range []struct {
		unit string
		v    float64
		want string
	}{
		{unitSeconds, 0.000123, "0.123 ms"},
		{unitSeconds, 0.0021, "2.10 ms"},
		{unitSeconds, 0.0523, "52.3 ms"},
		{unitSeconds, 0.231, "231 ms"},
		{unitSeconds, 1.5, "1.50 s"},
		{unitBytesPerSec, 130e6, "130 MB/s"},
		{unitBytesPerSec, 6.7e6, "6.70 MB/s"},
		{unitBytesPerSec, 0.5e6, "0.500 MB/s"},
		{unitBytes, 100e6, "100 MB"},
		{unitBytes, 800e3, "0.800 MB"},
		{unitCPU, 3.456, "3.46 s"},
		{unitRatio, 9.87, "9.87x"},
	} {
		if got := fmtValue(tc.unit, &tc.v); got != tc.want {
			t.Errorf("fmtValue(%s, %v) = %q, want %q", tc.unit, tc.v, got, tc.want)
		}
	}
	// In the table, bytes below 1 MB are in KiB: a circuit's memory, in
	// the targets' unit.
	for v, want := range map[float64]string{4157: "4.06 KiB", 800e3: "781 KiB", 1e6: "1.00 MB", 20.7e6: "20.7 MB"} {
		if got := fmtCell(unitBytes, &v); got != want {
			t.Errorf("fmtCell(%v B) = %q, want %q", v, got, want)
		}
	}
	if got := fmtCell(unitSeconds, num(0.0021)); got != "2.10 ms" {
		t.Errorf("fmtCell(seconds) = %q", got)
	}
	if got := fmtValue(unitSeconds, nil); got != "-" {
		t.Errorf("fmtValue(nil) = %q", got)
	}
}

func TestNumDropsNonFinite(t *testing.T) {
	if num(median(nil)) != nil || ratio(num(1), num(0)) != nil {
		t.Error("NaN and division by zero must become null")
	}
}

func countFields(line, field string) int {
	n := 0
	for _, f := range strings.Fields(line) {
		if f == field {
			n++
		}
	}
	return n
}
