package launch

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lines collects what a Child writes to its Output.
type lines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func shell(t *testing.T, name, script string) (*Child, *lines) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	out := &lines{}
	c := New(name, "sh", "-c", script)
	c.Output = out
	t.Cleanup(func() { c.Stop(time.Second) })
	return c, out
}

func TestStartReady(t *testing.T) {
	c, out := shell(t, "x", `echo "before"; echo "log line" >&2; echo "x ready a=1 b=two"; echo after; echo "x ready again"`)
	c.Prefix = "x    | "
	fields, err := c.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fields["a"] != "1" || fields["b"] != "two" || fields["role"] != "x" {
		t.Errorf("fields = %v", fields)
	}
	<-c.Done() // all output is copied by now
	if err := c.Stop(5 * time.Second); err != nil {
		t.Errorf("Stop after exit 0 = %v", err)
	}
	got := out.String()
	want := "x    | before\nx    | log line\nx    | after\nx    | x ready again\n"
	if strings.Contains(got, "a=1") || len(got) != len(want) {
		t.Errorf("output %q, want these lines in some order: %q", got, want)
	}
	for _, line := range strings.SplitAfter(want, "\n") {
		if !strings.Contains(got, line) {
			t.Errorf("output %q lacks %q", got, line)
		}
	}
}

func TestStopSIGTERM(t *testing.T) {
	c, _ := shell(t, "x", `echo "x ready"; exec sleep 30`)
	if _, err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := c.Stop(5 * time.Second)
	if err == nil || errors.Is(err, ErrKilled) {
		t.Errorf("Stop = %v, want an exit by SIGTERM", err)
	}
	if c.State() != "signal: terminated" {
		t.Errorf("State = %q", c.State())
	}
}

func TestStartExitsEarly(t *testing.T) {
	c, _ := shell(t, "relay7", `echo "listen: address already in use" >&2; exit 3`)
	_, err := c.Start(context.Background())
	if err == nil {
		t.Fatal("Start succeeded")
	}
	for _, want := range []string{"relay7", "exit status 3", "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	<-c.Done()
	var ee *exec.ExitError
	if !errors.As(c.Err(), &ee) || ee.ExitCode() != 3 {
		t.Errorf("Err = %v, want exit status 3", c.Err())
	}
}

func TestStartReadyThenExit(t *testing.T) {
	c, _ := shell(t, "x", `echo "x ready a=1"`)
	if _, err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if err := c.Stop(time.Second); err != nil {
		t.Errorf("Stop after exit 0 = %v", err)
	}
}

func TestStartTimeout(t *testing.T) {
	c, _ := shell(t, "slow", `echo "still starting" >&2; exec sleep 30`)
	c.ReadyTimeout = 200 * time.Millisecond
	start := time.Now()
	_, err := c.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not ready within") || !strings.Contains(err.Error(), "still starting") {
		t.Fatalf("Start = %v, want a timeout naming the last output", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Start took %v", d)
	}
	select {
	case <-c.Done():
	default:
		t.Error("child still running after a timed-out Start")
	}
}

func TestStartContextCancel(t *testing.T) {
	c, _ := shell(t, "x", `exec sleep 30`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := c.Start(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Start = %v, want context.Canceled", err)
	}
}

func TestStopEscalatesToKill(t *testing.T) {
	// The shell and its sleep both ignore SIGTERM; only SIGKILL to the
	// process group ends them, and only then do the pipes close.
	c, _ := shell(t, "stubborn", `trap "" TERM; echo "x ready"; sleep 30; sleep 30`)
	if _, err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := c.Stop(300 * time.Millisecond)
	if !errors.Is(err, ErrKilled) {
		t.Errorf("Stop = %v, want ErrKilled", err)
	}
	if d := time.Since(start); d > waitDelay {
		t.Errorf("Stop took %v: the group was not killed", d)
	}
	if ee := new(exec.ExitError); !errors.As(c.Err(), &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("Err = %v, want killed", c.Err())
	}
}

func TestStopGraceful(t *testing.T) {
	c, _ := shell(t, "x", `trap "exit 0" TERM; echo "x ready"; while :; do sleep 0.05; done`)
	if _, err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(5 * time.Second); err != nil {
		t.Errorf("Stop = %v, want nil", err)
	}
	if c.State() != "exit status 0" {
		t.Errorf("State = %q", c.State())
	}
}

func TestStopUnstarted(t *testing.T) {
	if err := New("x", "true").Stop(time.Second); err != nil {
		t.Errorf("Stop = %v", err)
	}
}
