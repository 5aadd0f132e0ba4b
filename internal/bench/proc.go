package bench

// CPU time and memory of the network's processes, from Linux's /proc
// (proc(5)). Elsewhere these figures are reported as unavailable.

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is what `getconf CLK_TCK` prints, and 100 on every Linux architecture Go
// supports: the kernel keeps it fixed for user space whatever its own HZ.
const clockTicks = 100

// Fields of /proc/PID/stat counted from 1, as proc(5) numbers them.
const (
	statState = 3 // the first field after "(comm)"
	statUtime = 14
	statStime = 15
)

var errProcFormat = errors.New("bench: unexpected /proc format")

// parseStatCPU returns utime+stime from the text of /proc/PID/stat. The
// command name, field 2, is in parentheses and may itself contain spaces
// and parentheses, so fields are counted from the last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: stat without (comm)", errProcFormat)
	}
	fields := strings.Fields(stat[i+1:])
	if len(fields) <= statStime-statState {
		return 0, fmt.Errorf("%w: stat has %d fields after (comm)", errProcFormat, len(fields))
	}
	var ticks int64
	for _, f := range []int{statUtime, statStime} {
		n, err := strconv.ParseInt(fields[f-statState], 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%w: stat field %d is %q", errProcFormat, f, fields[f-statState])
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// parseStatusHWM returns VmHWM, the peak resident set size, in bytes from
// the text of /proc/PID/status ("VmHWM:\t  12345 kB").
func parseStatusHWM(status string) (int64, error) { return parseStatusKB(status, "VmHWM") }

// parseStatusRSS returns VmRSS, the resident set size now, in bytes.
func parseStatusRSS(status string) (int64, error) { return parseStatusKB(status, "VmRSS") }

// parseStatusKB returns the field key of /proc/PID/status, given there in
// kB, in bytes.
func parseStatusKB(status, key string) (int64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%w: %s line %q", errProcFormat, key, strings.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("%w: %s line %q", errProcFormat, key, strings.TrimSpace(line))
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%w: no %s line", errProcFormat, key)
}

// parseCPUModel returns the first "model name" of /proc/cpuinfo, or "".
func parseCPUModel(cpuinfo string) string {
	for line := range strings.Lines(cpuinfo) {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// parseLoadAvg returns the one-minute load average from /proc/loadavg.
func parseLoadAvg(loadavg string) (float64, error) {
	f := strings.Fields(loadavg)
	if len(f) == 0 {
		return 0, fmt.Errorf("%w: empty loadavg", errProcFormat)
	}
	x, err := strconv.ParseFloat(f[0], 64)
	if err != nil || x < 0 {
		return 0, fmt.Errorf("%w: loadavg %q", errProcFormat, f[0])
	}
	return x, nil
}

func readCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

func readPeakRSS(pid int) (int64, error) { return readStatus(pid, parseStatusHWM) }

func readRSS(pid int) (int64, error) { return readStatus(pid, parseStatusRSS) }

func readStatus(pid int, parse func(string) (int64, error)) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parse(string(b))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	return parseCPUModel(string(b))
}

// loadAvg is the one-minute load average, or nil where it cannot be read.
func loadAvg() *float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	x, err := parseLoadAvg(string(b))
	if err != nil {
		return nil
	}
	return &x
}
