//go:build unix

package e2e

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// browserTimeout bounds one headless Chromium run.
const browserTimeout = 60 * time.Second

// chromiumPath finds Chromium, or "" where it is not installed.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserLoadsHiddenPage: a real browser, headless Chromium with
// --proxy-server=socks5://SOCKS, loads http://ADDRESS.onion/ and gets the
// service's page.
//
// Chromium cannot give SOCKS5 credentials, so the proxy logs in for it:
// up passes --user demo to its proxy, and the proxy inherits ONION_PASSWORD
// and ONION_PASSWORD_FOR (the one address that password is for) from up.
// The password and address must be known before up starts: a first up on
// the same --data-dir makes the demo account, and the second, on which the
// browser runs, keeps it (and the onion address).
func TestBrowserLoadsHiddenPage(t *testing.T) {
	chromium := chromiumPath()
	if chromium == "" {
		t.Skip("no chromium on PATH (CI installs it; apt-get install chromium)")
	}
	// A first run makes the demo account and keeps it in the data dir.
	dataDir := filepath.Join(t.TempDir(), "data")
	first := startHiddenUp(t, upOptions{dataDir: dataDir})
	first.up.stop(t)
	n := startHiddenUp(t, upOptions{
		env:     []string{"ONION_PASSWORD=" + first.DemoPassword, "ONION_PASSWORD_FOR=" + first.OnionAddress},
		dataDir: dataDir,
		args:    []string{"--user", first.DemoUser},
	})
	if n.DemoPassword != first.DemoPassword || n.OnionAddress != first.OnionAddress {
		t.Fatalf("restarted on the same data dir, up has password %q and address %s; first run: %q, %s",
			n.DemoPassword, n.OnionAddress, first.DemoPassword, first.OnionAddress)
	}

	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(),
		"--proxy-server=socks5://"+n.Socks,
		"--dump-dom", n.url("/"))
	// Chromium runs helper processes: give it a process group of its own
	// and end the whole group on timeout and when the test ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Start()
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Logf("kill chromium's process group: %v", err)
		}
	})
	err = cmd.Wait()
	t.Logf("chromium ran %v (%v)", time.Since(start).Round(time.Millisecond), err)
	dom := stdout.String()
	if err != nil || !strings.Contains(dom, "onion hidden server") || !strings.Contains(dom, "/open/tor") {
		t.Errorf("chromium --dump-dom %s: %v\nDOM:\n%s\nchromium's stderr:\n%s", n.url("/"), err, dom, stderr.String())
	}
	if !n.up.out.contains("hiddenserver", "client authenticated", "user=demo") {
		t.Errorf("the service did not log the proxy's login for the browser")
	}
}
