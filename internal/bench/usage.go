package bench

// CPU time and memory of the network's processes, read through procstat;
// where there is no /proc they are reported as unavailable.

import (
	"fmt"
	"time"

	"onion/internal/procstat"
)

// Roles of the network's processes, as CPU and memory are reported.
const (
	roleProxy     = "proxy"
	roleRelays    = "relays"
	roleHidden    = "hiddenserver"
	roleDirectory = "directory"
)

// process is one process of the network whose CPU and memory are reported.
type process struct {
	name string // "proxy", "relay3", ...
	role string
	pid  int
}

// cpuSnapshot is the CPU time each process has used so far, by pid.
type cpuSnapshot map[int]time.Duration

// takeCPU reads the CPU time of every process. A process that has gone
// fails the snapshot: a figure that silently left it out would be too low.
func takeCPU(procs []process) (cpuSnapshot, error) {
	s := make(cpuSnapshot, len(procs))
	for _, p := range procs {
		d, err := procstat.CPUTime(p.pid)
		if err != nil {
			return nil, fmt.Errorf("cpu of %s (pid %d): %w", p.name, p.pid, err)
		}
		s[p.pid] = d
	}
	return s, nil
}

// cpuByRole sums, per role, the CPU seconds used between two snapshots.
func cpuByRole(procs []process, before, after cpuSnapshot) map[string]float64 {
	by := make(map[string]float64)
	for _, p := range procs {
		by[p.role] += (after[p.pid] - before[p.pid]).Seconds()
	}
	return by
}

// peakRSS reads VmHWM of every process, by name; unreadable ones are left out.
func peakRSS(procs []process) map[string]int64 {
	m := make(map[string]int64, len(procs))
	for _, p := range procs {
		if n, err := procstat.PeakRSS(p.pid); err == nil {
			m[p.name] = n
		}
	}
	return m
}
