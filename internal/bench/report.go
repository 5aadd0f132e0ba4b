package bench

import (
	"encoding/json"
	"io"
	"math"
	"time"
)

// Units of figures: SI base units, so JSON consumers need no conversion.
const (
	unitSeconds     = "s"
	unitBytesPerSec = "B/s"
	unitBytes       = "B"
	// unitCPU is CPU seconds per 100 MB (1e8 bytes) moved.
	unitCPU = "s/100MB"
	// unitRatio is one quantity over another of the same unit.
	unitRatio = "x"
	// unitShare is a part of a whole, from 0 to 1 (printed as a percentage).
	unitShare = "share"
)

// schemaVersion changes when a key of the JSON output changes meaning.
const schemaVersion = 1

// Report is the outcome of one run, and what --json prints.
type Report struct {
	Schema   int       `json:"schema"`
	Started  time.Time `json:"started"`
	Duration float64   `json:"duration_s"`
	Machine  Machine   `json:"machine"`
	Setup    Setup     `json:"setup"`
	// Figures by key; Order lists the keys as the table shows them.
	Figures map[string]*Figure `json:"figures"`
	Order   []string           `json:"order"`
	// CPU is the CPU time the network spent in each transfer phase.
	CPU map[string]*CPUPhase `json:"cpu"`
	// PeakRSS is VmHWM of each process, by name, at the end of the run.
	PeakRSS map[string]int64 `json:"peak_rss_bytes"`
	// Idle is every relay's memory with idle circuits open; nil when not
	// measured.
	Idle  *IdleCircuits `json:"idle_circuits"`
	Notes []string      `json:"notes"`
}

// Machine is where the run happened.
type Machine struct {
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	Go       string `json:"go"`
	// Load1 is the one-minute load average as the run began: other work
	// on the machine skews every figure, and this shows whether there was.
	Load1 *float64 `json:"load_avg_1m"`
}

// Setup is what was measured.
type Setup struct {
	Network       string `json:"network"` // "started" or "external"
	Relays        int    `json:"relays"`  // 0 when unknown
	Exits         int    `json:"exits"`
	Hidden        bool   `json:"hidden_server"`
	DownloadBytes int64  `json:"download_bytes"`
	Streams       int    `json:"streams"`
	Quick         bool   `json:"quick"`
}

// Figure is one measured quantity through the onion network, with the
// same quantity on the baselines where there is one. Value is the median
// of Samples. Ratios are onion ÷ baseline.
type Figure struct {
	Label       string    `json:"label"`
	Unit        string    `json:"unit"`
	N           int       `json:"n"`
	Value       *float64  `json:"value"`
	P99         *float64  `json:"p99"`
	Plain       *float64  `json:"plain_socks5"`
	Direct      *float64  `json:"direct"`
	RatioPlain  *float64  `json:"ratio_plain"`
	RatioDirect *float64  `json:"ratio_direct"`
	Samples     []float64 `json:"samples"`
	Error       string    `json:"error,omitempty"`
}

// CPUPhase is the CPU the network's processes used while one transfer
// phase moved Bytes of payload.
type CPUPhase struct {
	Bytes   int64              `json:"bytes"`
	Seconds map[string]float64 `json:"seconds"` // by role: proxy, relays, hiddenserver
}

func newReport() *Report {
	return &Report{
		Schema:  schemaVersion,
		Figures: make(map[string]*Figure),
		CPU:     make(map[string]*CPUPhase),
		PeakRSS: make(map[string]int64),
		Notes:   []string{},
		Order:   []string{},
	}
}

// add registers a figure under key, in table order, and returns it.
func (r *Report) add(key, label, unit string) *Figure {
	f := &Figure{Label: label, Unit: unit, Samples: []float64{}}
	r.Figures[key] = f
	r.Order = append(r.Order, key)
	return f
}

func (r *Report) note(s string) { r.Notes = append(r.Notes, s) }

// setSamples records the onion samples; withP99 adds their p99.
func (f *Figure) setSamples(xs []float64, withP99 bool) {
	f.Samples = append([]float64(nil), xs...)
	f.N = len(xs)
	if len(xs) == 0 {
		return
	}
	f.Value = num(median(xs))
	if withP99 {
		f.P99 = num(percentile(xs, 99))
	}
}

// setBaselines records the baselines' medians and the ratios to them.
func (f *Figure) setBaselines(plain, direct []float64) {
	if len(plain) > 0 {
		f.Plain = num(median(plain))
	}
	if len(direct) > 0 {
		f.Direct = num(median(direct))
	}
	f.RatioPlain, f.RatioDirect = ratio(f.Value, f.Plain), ratio(f.Value, f.Direct)
}

func (f *Figure) fail(err error) {
	if err != nil && f.Error == "" {
		f.Error = err.Error()
	}
}

func ratio(a, b *float64) *float64 {
	if a == nil || b == nil || *b == 0 {
		return nil
	}
	return num(*a / *b)
}

// num is a JSON-safe pointer to x: nil for NaN and infinities, which JSON
// cannot hold.
func num(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// WriteJSON writes the report as one indented JSON object. Maps are
// written with sorted keys, so the output is stable.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
