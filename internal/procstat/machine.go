package procstat

// This machine: /proc/cpuinfo, /proc/loadavg and /proc/stat.

import (
	"fmt"
	"strconv"
	"strings"
)

// CPUModel returns the first "model name" of /proc/cpuinfo, or "" where
// there is none to read.
func CPUModel() string {
	text, err := readFile("cpuinfo")
	if err != nil {
		return ""
	}
	return parseCPUModel(text)
}

// LoadAvg returns the one-minute load average.
func LoadAvg() (float64, error) {
	text, err := readFile("loadavg")
	if err != nil {
		return 0, err
	}
	return parseLoadAvg(text)
}

func parseCPUModel(cpuinfo string) string {
	for line := range strings.Lines(cpuinfo) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func parseLoadAvg(loadavg string) (float64, error) {
	f := strings.Fields(loadavg)
	if len(f) == 0 {
		return 0, fmt.Errorf("%w: empty loadavg", ErrFormat)
	}
	x, err := strconv.ParseFloat(f[0], 64)
	if err != nil || x < 0 {
		return 0, fmt.Errorf("%w: loadavg %q", ErrFormat, f[0])
	}
	return x, nil
}

// CPUTimes is the time all of the machine's CPUs have spent since boot, in
// clock ticks, from the "cpu" line of /proc/stat: in all, and idle (the
// idle and iowait columns).
type CPUTimes struct {
	Total, Idle uint64
}

// ReadCPUTimes reads the machine's CPU times now.
func ReadCPUTimes() (CPUTimes, error) {
	text, err := readFile("stat")
	if err != nil {
		return CPUTimes{}, err
	}
	return parseCPUTimes(text)
}

// Busy is the share of the CPU time from a to b that was not idle, in
// [0, 1]; 0 when no tick passed.
func Busy(a, b CPUTimes) float64 {
	if b.Total <= a.Total || b.Idle < a.Idle {
		return 0
	}
	total, idle := b.Total-a.Total, b.Idle-a.Idle
	if idle >= total {
		return 0
	}
	return float64(total-idle) / float64(total)
}

// parseCPUTimes reads the first line of /proc/stat: "cpu" and at least
// four columns (user nice system idle), then iowait and the rest, which
// count too. Guest time is already inside user and nice, so it is left
// out of the total.
func parseCPUTimes(stat string) (CPUTimes, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return CPUTimes{}, fmt.Errorf("%w: /proc/stat begins %q", ErrFormat, line)
	}
	var t CPUTimes
	for i, s := range f[1:] {
		if i >= 8 { // guest, guest_nice: counted in user and nice
			break
		}
		x, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return CPUTimes{}, fmt.Errorf("%w: /proc/stat column %d %q", ErrFormat, i+1, s)
		}
		t.Total += x
		if i == 3 || i == 4 { // idle, iowait
			t.Idle += x
		}
	}
	return t, nil
}
