package procstat

// This machine: /proc/cpuinfo and /proc/loadavg.

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
