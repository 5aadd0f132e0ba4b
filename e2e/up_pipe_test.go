package e2e

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUpClosedOutputCleansUp: `onion up 2>&1 | tee log` in a terminal,
// then Ctrl-C. The terminal's SIGINT reaches tee and up together, tee is
// gone at once, and every line up writes while it stops goes to a closed
// pipe. Up must still stop its parts and remove its temporary data dir,
// which holds the relays' private keys and the demo password (a write to a
// broken stdout used to kill it there with SIGPIPE). Budget: 60 s (the
// start-up of up is most of it).
func TestUpClosedOutputCleansUp(t *testing.T) {
	dir := t.TempDir()
	infoPath := filepath.Join(dir, "info.json")
	cmd := exec.Command(onionBinary(t), "up", "--socks", "127.0.0.1:0", "--status", "127.0.0.1:0", "--info-file", infoPath)
	cmd.Env = append(os.Environ(), "TMPDIR="+dir) // its temporary data dir lands where the test can look
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	ready := make(chan bool, 1)
	var lines strings.Builder
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "up ready ") {
				ready <- true
				return // stop reading: tee is gone
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("up ended before it was ready:\n%s", lines.String())
		}
	case <-time.After(upReadyTimeout):
		t.Fatal("up not ready in time")
	}
	info := readInfo(t, infoPath)
	t.Cleanup(func() {
		for _, pid := range info.PIDs() {
			syscall.Kill(pid, syscall.SIGKILL) // if up died, its parts are orphans
		}
	})
	if !info.TempDataDir || !strings.HasPrefix(info.DataDir, dir) {
		t.Fatalf("data dir %q (temporary %v), want a temporary one under %s", info.DataDir, info.TempDataDir, dir)
	}
	r.Close()
	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() {
			t.Errorf("up was killed by %v while stopping", ee.Sys().(syscall.WaitStatus).Signal())
		}
	case <-time.After(stopTimeout):
		t.Fatal("up did not exit after SIGINT")
	}
	if _, err := os.Stat(info.DataDir); !errors.Is(err, fs.ErrNotExist) {
		entries, _ := os.ReadDir(info.DataDir)
		t.Errorf("the temporary data dir %s is still there (%d entries, %v) after up exited", info.DataDir, len(entries), err)
	}
	for _, pid := range info.PIDs() {
		if alive(pid) {
			t.Errorf("pid %d still running after up exited", pid)
		}
	}
}
