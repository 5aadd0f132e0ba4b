package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"onion/internal/launch"
	"onion/internal/upinfo"
)

// Bounds of the tests' waits. Race-enabled binaries start slowly on a busy
// machine, so these are generous; none of them is ever slept in full.
const (
	readyTimeout   = 60 * time.Second
	upReadyTimeout = 150 * time.Second // up waits for its own children in turn
	stopTimeout    = 10 * time.Second  // up itself gives its children 5s
)

// proc is one onion process started by a test.
type proc struct {
	*launch.Child
	ready map[string]string
	out   *logWriter
	// killed is set by a test that kills the process on purpose; its exit
	// status is then not checked.
	killed  bool
	stopped bool // stop has run: it runs once, from the test goroutine
}

// startProc runs `onion args...`, waits for its ready line, and stops it
// with SIGTERM when the test ends, failing the test unless it exits 0.
func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startChild(t, launch.New(name, onionBinary(t), args...), args...)
}

// startChild is startProc for a child whose command is already set (as
// `ip netns exec NS onion args...` for a test host).
func startChild(t *testing.T, c *launch.Child, args ...string) *proc {
	t.Helper()
	name := c.Name
	p := &proc{Child: c, out: &logWriter{t: t}}
	p.Output = p.out
	p.Prefix = fmt.Sprintf("%-10s| ", name)
	p.ReadyTimeout = readyTimeout
	if len(args) > 0 && args[0] == "up" {
		p.ReadyTimeout = upReadyTimeout
	}
	t.Cleanup(func() { p.stop(t) })
	ready, err := p.Start(t.Context())
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p.ready = ready
	return p
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	if p.Pid() == 0 || p.stopped {
		return
	}
	p.stopped = true
	start := time.Now()
	err := p.Stop(stopTimeout)
	switch {
	case p.killed:
	case err != nil:
		t.Errorf("stop %s with SIGTERM: %v", p.Name, err)
	default:
		t.Logf("%s exited 0 %v after SIGTERM", p.Name, time.Since(start).Round(time.Millisecond))
	}
}

// logWriter passes each line of a process's output to t.Log, keeps it for
// later checks, and fails the test on a panic or a data race.
type logWriter struct {
	t     *testing.T
	mu    sync.Mutex
	lines []string
}

func (w *logWriter) Write(p []byte) (int, error) {
	line := strings.TrimSuffix(string(p), "\n")
	w.t.Log(line)
	if strings.Contains(line, "panic:") || strings.Contains(line, "DATA RACE") {
		w.t.Errorf("process output: %s", line)
	}
	w.mu.Lock()
	w.lines = append(w.lines, line)
	w.mu.Unlock()
	return len(p), nil
}

// contains reports whether some line of output holds all of words.
func (w *logWriter) contains(words ...string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		all := true
		for _, word := range words {
			all = all && strings.Contains(l, word)
		}
		if all {
			return true
		}
	}
	return false
}

// startUp runs `onion up` on free ports with its data in a test directory
// and returns the process and its info file. When the test ends, up must
// exit 0 on SIGTERM and leave none of its children running.
func startUp(t *testing.T, extra ...string) (*proc, *upinfo.Info) {
	t.Helper()
	dir := t.TempDir()
	infoPath := filepath.Join(dir, "info.json")
	args := append([]string{"up", "--socks", "127.0.0.1:0", "--status", "127.0.0.1:0",
		"--info-file", infoPath, "--data-dir", filepath.Join(dir, "data")}, extra...)
	up := startProc(t, "up", args...)
	info := readInfo(t, infoPath)
	if up.ready["socks"] != info.Socks {
		t.Errorf("ready line socks=%s, info file %s", up.ready["socks"], info.Socks)
	}
	t.Cleanup(func() {
		up.stop(t) // before startProc's own cleanup, which then finds it stopped
		for _, pid := range info.PIDs() {
			if alive(pid) {
				t.Errorf("pid %d still running after up exited", pid)
			}
		}
	})
	return up, info
}

// readInfo reads up's info file, which up writes before its ready line,
// and checks what any script would rely on.
func readInfo(t *testing.T, path string) *upinfo.Info {
	t.Helper()
	info, err := upinfo.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm() != 0o600 {
		t.Errorf("info file mode %v, want 0600: it holds the demo password", st.Mode().Perm())
	}
	if info.Socks == "" || strings.HasSuffix(info.Socks, ":0") || info.Status == "" ||
		info.Directory == "" || info.DirectoryKey == "" || info.DataDir == "" || len(info.Relays) < 3 {
		t.Fatalf("info file lacks addresses or relays: %+v", info)
	}
	for _, r := range info.Relays {
		if r.Nickname == "" || r.Fingerprint == "" || r.Address == "" || r.PID == 0 {
			t.Fatalf("info file relay incomplete: %+v", r)
		}
	}
	return info
}

// waitFor polls cond (bounded) for state that changes with no event to wait on.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
