package localnet

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"onion/internal/launch"
)

// policyNet is a network of children that were never started: enough to
// check what supervise does when one of them exits, without processes.
func policyNet(relays, exits int) (*network, *bytes.Buffer) {
	var logs bytes.Buffer
	n := &network{
		cfg:       Config{Relays: relays, Exits: exits},
		log:       slog.New(slog.NewTextHandler(&logs, nil)),
		directory: launch.New("directory", "onion"),
		hidden:    launch.New("hiddenserver", "onion"),
		proxy:     launch.New("proxy", "onion"),
	}
	for i := range relays {
		n.relays = append(n.relays, launch.New(relayName(i), "onion"))
	}
	n.relaysAlive, n.exitsAlive = relays, exits
	return n, &logs
}

func TestExitedRelaysAndHidden(t *testing.T) {
	n, logs := policyNet(4, 1)
	ctx := context.Background()
	for _, c := range []*launch.Child{n.hidden, n.relays[3]} {
		if err := n.exited(ctx, c, nil); err != nil {
			t.Errorf("%s exited: %v, want the network to go on", c.Name, err)
		}
	}
	if strings.Contains(logs.String(), "too few relays") {
		t.Errorf("warned with 3 relays and the exit left:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "component exited unexpectedly") || !strings.Contains(logs.String(), "name=relay4") {
		t.Errorf("a relay's death not logged:\n%s", logs)
	}
	if err := n.exited(ctx, n.relays[0], nil); err != nil { // the only exit
		t.Fatal(err)
	}
	if n.relaysAlive != 2 || n.exitsAlive != 0 || !strings.Contains(logs.String(), `msg="too few relays left for new circuits" relays=2 exits=0`) {
		t.Errorf("alive %d, exits %d; logs:\n%s", n.relaysAlive, n.exitsAlive, logs)
	}
}

func TestExitedProxyStops(t *testing.T) {
	n, _ := policyNet(3, 1)
	err := n.exited(context.Background(), n.proxy, nil)
	if err == nil || !strings.Contains(err.Error(), "proxy exited") || !strings.Contains(err.Error(), "stopped the network") {
		t.Errorf("proxy exited: %v, want the network stopped", err)
	}
}

func TestExitedDirectoryRestartsBounded(t *testing.T) {
	n, _ := policyNet(3, 1)
	n.restarts = maxDirectoryRestarts
	err := n.exited(context.Background(), n.directory, nil)
	if err == nil || !strings.Contains(err.Error(), "directory exited") {
		t.Errorf("directory exited after %d restarts: %v, want the network stopped", n.restarts, err)
	}
}

// TestExitedDirectoryRestart: below the bound, the directory is started
// again; here its executable does not exist, so the restart fails, and
// the error says so.
func TestExitedDirectoryRestart(t *testing.T) {
	n, logs := policyNet(3, 1)
	n.cfg = n.cfg.withDefaults()
	n.cfg.Executable, n.cfg.DataDir = "/nonexistent/onion", t.TempDir()
	n.info.Directory = "http://127.0.0.1:7000"
	err := n.exited(context.Background(), n.directory, nil)
	if err == nil || !strings.Contains(err.Error(), "directory exited and could not be restarted") {
		t.Errorf("restart = %v", err)
	}
	if n.restarts != 1 || !strings.Contains(logs.String(), "restarting the directory") || !strings.Contains(logs.String(), "listen=127.0.0.1:7000") {
		t.Errorf("restarts %d, logs:\n%s", n.restarts, logs)
	}
}

func TestChildren(t *testing.T) {
	n, _ := policyNet(3, 1)
	var names []string
	for _, c := range n.children() {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "proxy hiddenserver relay1 relay2 relay3 directory" {
		t.Errorf("children = %s", got)
	}
	n.proxy, n.hidden, n.relays[1] = nil, nil, nil
	if got := len(n.children()); got != 3 {
		t.Errorf("children after a failed start = %d, want 3", got)
	}
	n.stopAll() // never started: nothing to stop, nothing to wait for
}

func TestFirstCause(t *testing.T) {
	cause := errors.New("relay2 exited before it was ready")
	errs := []error{context.Canceled, nil, cause, context.Canceled}
	if got := firstCause(errs); got != cause {
		t.Errorf("firstCause = %v, want %v", got, cause)
	}
	if got := firstCause([]error{nil, context.Canceled}); !errors.Is(got, context.Canceled) {
		t.Errorf("firstCause of cancellations only = %v", got)
	}
	if got := firstCause([]error{nil, nil}); got != nil {
		t.Errorf("firstCause of none = %v", got)
	}
}
