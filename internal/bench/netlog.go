package bench

import (
	"strings"
	"sync"
)

// netLog keeps the last log lines of the network's output, to show when a
// run fails, and notes whether any process panicked or raced. Other lines
// (up's banner for people, stack traces) are dropped.
type netLog struct {
	max int

	mu     sync.Mutex
	lines  []string
	faults []string // lines with "panic:" or "DATA RACE"
}

func newNetLog(max int) *netLog { return &netLog{max: max} }

// Write takes one line per call, as launch.Child writes them.
func (l *netLog) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	fault := isFault(line)
	if !fault && !strings.Contains(line, "level=") {
		return len(p), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == l.max {
		l.lines = l.lines[1:]
	}
	l.lines = append(l.lines, line)
	if fault {
		l.faults = append(l.faults, line)
	}
	return len(p), nil
}

func (l *netLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (l *netLog) faultLines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.faults...)
}

// isFault reports a line that no healthy process prints.
func isFault(line string) bool {
	return strings.Contains(line, "panic:") || strings.Contains(line, "DATA RACE") ||
		strings.Contains(line, "fatal error:")
}
