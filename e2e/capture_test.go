package e2e

// A packet capture on the loopback interface, with tcpdump, for the tests
// that check what an observer of the links sees.

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// capture is a running tcpdump.
type capture struct {
	cmd    *exec.Cmd
	path   string
	stderr chan string // its remaining stderr, once it exits
}

// needRootTool skips the test when tool is missing or the test is not root,
// unless it runs in CI (env CI set), where .ci/run installs the tool and
// runs as root: there it fails.
func needRootTool(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	why := ""
	switch {
	case err != nil:
		why = "no " + tool + " on PATH (.ci/run installs it: apt-get install " + tool + ")"
	case os.Geteuid() != 0:
		why = tool + " needs root to capture"
	}
	if why == "" {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
	return ""
}

// startCapture captures the loopback traffic that filter (a pcap filter)
// selects into a file, until stop. It returns once tcpdump listens.
func startCapture(t *testing.T, filter string) *capture {
	t.Helper()
	bin := needRootTool(t, "tcpdump")
	c := &capture{path: filepath.Join(t.TempDir(), "links.pcap"), stderr: make(chan string, 1)}
	// -U writes each packet as it comes; -B 32 MiB of kernel buffer so
	// that a busy machine drops nothing (stop checks that it did not).
	c.cmd = exec.Command(bin, "-i", "lo", "-n", "-U", "-s", "0", "-B", "32768", "-w", c.path, filter)
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	t.Cleanup(func() { c.cmd.Process.Kill(); c.cmd.Wait() })
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var rest []string
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				listening <- true
			}
			rest = append(rest, sc.Text())
		}
		io.Copy(io.Discard, stderr)
		close(listening)
		c.stderr <- strings.Join(rest, "\n")
	}()
	select {
	case ok := <-listening:
		if !ok {
			t.Fatalf("tcpdump exited before listening: %s", <-c.stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("tcpdump did not say it was listening within 15s")
	}
	return c
}

var droppedRe = regexp.MustCompile(`(\d+) packets? dropped by kernel`)

// stop stops tcpdump, checks that the kernel dropped no packet, and
// returns the capture's path.
func (c *capture) stop(t *testing.T) string {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGINT)
	// Its stderr is read to the end (its summary comes last) before Wait,
	// which closes the pipe.
	var out string
	select {
	case out = <-c.stderr:
	case <-time.After(15 * time.Second):
		t.Fatal("tcpdump did not stop within 15s of SIGINT")
	}
	c.cmd.Wait()
	m := droppedRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("tcpdump's summary says nothing of dropped packets: %s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n != 0 {
		t.Fatalf("the kernel dropped %d packets of the capture: %s", n, out)
	}
	return c.path
}
