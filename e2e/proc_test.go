package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"onion/internal/launch"
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
	p := &proc{Child: launch.New(name, onionBinary(t), args...), out: &logWriter{t: t}}
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

// upInfo is the --info-file of `onion up`, as a script would read it.
type upInfo struct {
	Socks        string      `json:"socks"`
	Status       string      `json:"status"`
	Directory    string      `json:"directory"`
	DirectoryKey string      `json:"directory_key"`
	DataDir      string      `json:"data_dir"`
	PID          int         `json:"pid"`
	DirectoryPID int         `json:"directory_pid"`
	ProxyPID     int         `json:"proxy_pid"`
	Relays       []relayInfo `json:"relays"`
}

type relayInfo struct {
	Nickname    string `json:"nickname"`
	Fingerprint string `json:"fingerprint"`
	Address     string `json:"address"`
	Exit        bool   `json:"exit"`
	PID         int    `json:"pid"`
}

// pids lists every process up started.
func (i *upInfo) pids() []int {
	pids := []int{i.DirectoryPID, i.ProxyPID}
	for _, r := range i.Relays {
		pids = append(pids, r.PID)
	}
	return pids
}

// startUp runs `onion up` on free ports with its data in a test directory
// and returns the process and its info file. When the test ends, up must
// exit 0 on SIGTERM and leave none of its children running.
func startUp(t *testing.T, extra ...string) (*proc, *upInfo) {
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
		for _, pid := range info.pids() {
			if alive(pid) {
				t.Errorf("pid %d still running after up exited", pid)
			}
		}
	})
	return up, info
}

// readInfo waits (bounded) for up's info file and checks what any script
// would rely on.
func readInfo(t *testing.T, path string) *upInfo {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var data []byte
	var err error
	for {
		if data, err = os.ReadFile(path); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("info file: %v", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm() != 0o644 {
		t.Errorf("info file mode %v, want 0644", st.Mode().Perm())
	}
	var info upInfo
	if err := json.Unmarshal(data, &info); err != nil {
		t.Fatalf("info file %s: %v", data, err)
	}
	if info.Socks == "" || strings.HasSuffix(info.Socks, ":0") || info.Status == "" ||
		info.Directory == "" || info.DirectoryKey == "" || info.DataDir == "" || len(info.Relays) < 3 {
		t.Fatalf("info file lacks addresses or relays: %s", data)
	}
	for _, r := range info.Relays {
		if r.Nickname == "" || r.Fingerprint == "" || r.Address == "" || r.PID == 0 {
			t.Fatalf("info file relay incomplete: %+v", r)
		}
	}
	return &info
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
