//go:build linux

package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"onion/internal/ptytest"
	"onion/internal/upinfo"
)

// promptTimeout bounds the wait for a prompt: a circuit to the service and
// its challenge come first.
const promptTimeout = 60 * time.Second

// ptyProc is an onion process on a pseudo-terminal, as a person runs it.
type ptyProc struct {
	cmd *exec.Cmd
	*ptytest.PTY
}

// startOnPTY runs `onion args...` on a terminal of its own and stops it
// with SIGTERM when the test ends, failing the test unless it exits 0.
func startOnPTY(t *testing.T, args ...string) *ptyProc {
	t.Helper()
	cmd := exec.Command(onionBinary(t), args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	p, err := ptytest.Start(cmd)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	pp := &ptyProc{cmd: cmd, PTY: p}
	t.Cleanup(func() { pp.stop(t) })
	return pp
}

func (p *ptyProc) stop(t *testing.T) {
	t.Helper()
	defer p.Close()
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s on a terminal: %v; its terminal:\n%s", p.cmd.Args[1], err, p.Output())
		}
	case <-time.After(stopTimeout):
		p.cmd.Process.Kill()
		<-done
		t.Errorf("%s on a terminal did not stop on SIGTERM", p.cmd.Args[1])
	}
}

// expect waits for want on the terminal and returns what came before it.
func (p *ptyProc) expect(t *testing.T, want string, timeout time.Duration) string {
	t.Helper()
	before, err := p.Expect(want, timeout)
	if err != nil {
		t.Fatalf("%v; the terminal shows:\n%s", err, p.Output())
	}
	return before
}

// startUpOnPTY runs `onion up` on a terminal, waits for it to be ready and
// returns it with its info file; its children must all be gone when the
// test ends.
func startUpOnPTY(t *testing.T) (*ptyProc, *upinfo.Info) {
	t.Helper()
	dir := t.TempDir()
	infoPath := filepath.Join(dir, "info.json")
	up := startOnPTY(t, "up", "--socks", "127.0.0.1:0", "--status", "127.0.0.1:0",
		"--info-file", infoPath, "--data-dir", filepath.Join(dir, "data"))
	up.expect(t, "up ready ", upReadyTimeout)
	info := readInfo(t, infoPath)
	t.Cleanup(func() {
		up.stop(t)
		for _, pid := range info.PIDs() {
			if alive(pid) {
				t.Errorf("pid %d still running after up exited", pid)
			}
		}
	})
	return up, info
}

// chromiumDOM loads url in headless Chromium through the SOCKS5 proxy at
// socks and returns the DOM it rendered.
func chromiumDOM(t *testing.T, chromium, socks, url string) (string, error) {
	return runChromium(t, chromium, "--proxy-server=socks5://"+socks, "--dump-dom", url)
}

// runChromium runs headless Chromium with args and returns its stdout.
// Chromium runs in a process group of its own, ended whole when it is
// done or the test ends.
func runChromium(t *testing.T, chromium string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return "", err
	}
	defer func() {
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Logf("kill chromium's process group: %v", err)
		}
	}()
	if err := cmd.Wait(); err != nil {
		return stdout.String(), errors.Join(err, errors.New(stderr.String()))
	}
	return stdout.String(), nil
}

// TestBrowserLoginPrompt: a browser cannot give SOCKS5 credentials, so the
// proxy under `onion up` asks on up's terminal: headless Chromium loads
// the hidden server's page through the proxy, the test answers the
// prompt on the pseudo-terminal up runs on (user name, then password,
// never echoed), and the page renders. A second load, within the login
// cache's lifetime, asks nothing. Budget: 90 s (up's start, two Chromium
// runs).
func TestBrowserLoginPrompt(t *testing.T) {
	chromium := chromiumPath()
	if chromium == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no chromium on PATH in CI")
		}
		t.Skip("no chromium on PATH (CI installs it; apt-get install chromium)")
	}
	up, info := startUpOnPTY(t)
	addr := info.OnionAddress

	type load struct {
		dom string
		err error
	}
	loaded := make(chan load, 1)
	go func() {
		dom, err := chromiumDOM(t, chromium, info.Socks, "http://"+addr+"/")
		loaded <- load{dom, err}
	}()
	before := up.expect(t, "[proxy asks] User name for "+addr+": ", promptTimeout)
	if !strings.HasSuffix(before, "\n") {
		t.Errorf("the prompt does not start a line of its own: after %q", before[max(0, len(before)-80):])
	}
	up.Send(info.DemoUser + "\n")
	up.expect(t, "[proxy asks] Password for "+info.DemoUser+" at "+addr+": ", promptTimeout)
	mark := len(up.Output()) // the banner before it shows the demo password
	up.Send(info.DemoPassword + "\n")
	l := <-loaded
	if l.err != nil || !strings.Contains(l.dom, "onion hidden server") {
		t.Fatalf("chromium: %v\nDOM:\n%s\nup's terminal:\n%s", l.err, l.dom, up.Output())
	}
	if strings.Contains(up.Output()[mark:], info.DemoPassword) {
		t.Errorf("the password typed shows on up's terminal:\n%s", up.Output()[mark:])
	}

	asked := strings.Count(up.Output(), "[proxy asks]")
	dom, err := chromiumDOM(t, chromium, info.Socks, "http://"+addr+"/")
	if err != nil || !strings.Contains(dom, "onion hidden server") {
		t.Fatalf("second load: %v\nDOM:\n%s", err, dom)
	}
	if n := strings.Count(up.Output(), "[proxy asks]"); n != asked {
		t.Errorf("the second load asked again (%d questions, then %d):\n%s", asked, n, up.Output())
	}
}
