package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"onion/internal/testhosts"
)

// A capture of every link (TCP to a relay port) on the test hosts' bridge,
// taken with tcpdump in the bridge's namespace, on all its ports.
type bridgeCapture struct {
	path string
	cmd  *exec.Cmd
	out  *logWriter
	done chan error
}

// startBridgeCapture starts tcpdump and waits until it listens; the test's
// cleanup stops it if checkTLS has not.
func startBridgeCapture(t *testing.T, n *testhosts.Net, path string) *bridgeCapture {
	t.Helper()
	c := &bridgeCapture{path: path, out: &logWriter{t: t}, done: make(chan error, 1)}
	// -i any: every veth of the bridge (br0 itself does not see frames it
	// forwards between ports); each packet is seen twice, once per port.
	c.cmd = exec.Command("ip", "netns", "exec", n.BridgeNS(), "tcpdump", "-i", "any", "-U", "-s", "0",
		"-w", path, fmt.Sprintf("tcp port %d", relayPort))
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.out.Write([]byte("tcpdump   | " + sc.Text() + "\n"))
			if strings.Contains(sc.Text(), "listening on") {
				close(listening)
			}
		}
		c.done <- c.cmd.Wait()
	}()
	t.Cleanup(c.stop)
	select {
	case <-listening:
	case err := <-c.done:
		t.Fatalf("tcpdump exited: %v", err)
	case <-time.After(readyTimeout):
		t.Fatal("tcpdump did not start listening")
	}
	return c
}

// stop ends tcpdump with SIGINT, which makes it flush its file.
func (c *bridgeCapture) stop() {
	if c.cmd.ProcessState != nil || c.done == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(stopTimeout):
		c.cmd.Process.Kill()
		<-c.done
	}
	c.done = nil
}

// checkTLS stops the capture and checks that every link carried TLS
// records only, and that the plain link preface never crossed the bridge.
// On plain links (before links had TLS) it fails: that is its purpose.
// A packet the capture dropped ends a direction's check there (logged).
func (c *bridgeCapture) checkTLS(t *testing.T) {
	c.stop()
	flows, err := readPcap(c.path)
	if err != nil {
		t.Fatalf("read capture: %v", err)
	}
	keys := slices.SortedFunc(maps.Keys(flows), func(a, b flowKey) int { return strings.Compare(a.String(), b.String()) })
	var bad, total int
	for _, k := range keys {
		data, err := flows[k].stream()
		if err != nil {
			t.Logf("link %v: %v; checking the %d bytes before it", k, err, len(data))
		}
		if len(data) == 0 {
			continue
		}
		total++
		_, err = checkTLSRecords(data, true)
		if bytes.Contains(data, []byte("ONION/1")) {
			err = errors.Join(err, errors.New("the link preface ONION/1 is in clear"))
		}
		if err != nil {
			bad++
			if bad <= 5 {
				t.Errorf("link %v (%d bytes): not TLS records: %v", k, len(data), err)
			}
		}
	}
	if total == 0 {
		t.Fatal("the capture holds no link traffic")
	}
	t.Logf("captured %d link directions with payload; %d not TLS", total, bad)
	if bad > 0 {
		t.Errorf("%d of %d link directions carry something other than TLS records", bad, total)
	}
}
