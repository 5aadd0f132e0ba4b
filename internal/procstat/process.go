package procstat

// One process: /proc/PID/stat, /proc/PID/status, /proc/PID/fd and
// /proc/PID/exe.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrFormat is wrapped by every error about a /proc file whose text is not
// as proc(5) describes it.
var ErrFormat = errors.New("procstat: unexpected /proc format")

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

// Supported reports whether this machine has a /proc this package can read.
func Supported() bool {
	_, err := readFile("self/stat")
	return err == nil
}

// CPUTime returns the CPU time pid has used, user and system together.
func CPUTime(pid int) (time.Duration, error) {
	stat, err := readFile(strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(stat)
}

// State returns pid's state letter: 'R' running, 'S' sleeping, 'Z' a
// zombie (exited, not yet reaped), and the others of proc(5).
func State(pid int) (byte, error) {
	stat, err := readFile(strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	f, err := statFields(stat, statState)
	if err != nil {
		return 0, err
	}
	return f[0][0], nil
}

// RSS returns pid's resident set size now (VmRSS), in bytes. A zombie has
// none: that is an error wrapping ErrFormat.
func RSS(pid int) (int64, error) { return statusBytes(pid, "VmRSS") }

// PeakRSS returns the largest resident set size pid has had (VmHWM), in bytes.
func PeakRSS(pid int) (int64, error) { return statusBytes(pid, "VmHWM") }

// OpenFDs counts pid's open file descriptors.
func OpenFDs(pid int) (int, error) {
	fds, err := readDir(strconv.Itoa(pid) + "/fd")
	return len(fds), err
}

// Executable returns the path of the program pid runs, without the
// " (deleted)" the kernel adds once the file is gone.
func Executable(pid int) (string, error) {
	target, err := readlink(strconv.Itoa(pid) + "/exe")
	return strings.TrimSuffix(target, " (deleted)"), err
}

// PIDs lists the processes that exist now.
func PIDs() ([]int, error) {
	ents, err := readDir("")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func statusBytes(pid int, key string) (int64, error) {
	status, err := readFile(strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseStatusKB(status, key)
}

// parseStatCPU returns utime+stime from the text of /proc/PID/stat.
func parseStatCPU(stat string) (time.Duration, error) {
	f, err := statFields(stat, statUtime, statStime)
	if err != nil {
		return 0, err
	}
	var ticks int64
	for _, s := range f {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%w: stat has utime or stime %q", ErrFormat, s)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// statFields returns the fields numbered want (from statState on) of the
// text of /proc/PID/stat. The command name, field 2, is in parentheses and
// may itself contain spaces and parentheses, so fields are counted from the
// last ')'.
func statFields(stat string, want ...int) ([]string, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return nil, fmt.Errorf("%w: stat without (comm)", ErrFormat)
	}
	fields := strings.Fields(stat[i+1:])
	out := make([]string, len(want))
	for j, n := range want {
		if n-statState >= len(fields) {
			return nil, fmt.Errorf("%w: stat has %d fields after (comm)", ErrFormat, len(fields))
		}
		out[j] = fields[n-statState]
	}
	return out, nil
}

// parseStatusKB returns the field key of the text of /proc/PID/status,
// given there in kB ("VmHWM:\t  12345 kB"), in bytes.
func parseStatusKB(status, key string) (int64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%w: %s line %q", ErrFormat, key, strings.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("%w: %s line %q", ErrFormat, key, strings.TrimSpace(line))
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%w: no %s line", ErrFormat, key)
}
