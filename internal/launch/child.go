package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Defaults for the zero values of Child's fields.
const (
	DefaultReadyTimeout = 30 * time.Second
	tailLines           = 20
	// waitDelay bounds how long Wait waits for output after the process has
	// exited, in case a grandchild still holds the pipes open.
	waitDelay = 2 * time.Second
	// killTimeout is how long a child that missed its ready deadline gets
	// to exit on SIGTERM before it is killed.
	killTimeout = 2 * time.Second
)

// ErrKilled is wrapped by Stop's error when the child ignored SIGTERM and
// had to be killed.
var ErrKilled = errors.New("launch: killed after stop timeout")

// Child is one supervised process. Set its fields, call Start once, then
// Stop (from any goroutine, any number of times) to end it.
type Child struct {
	// Name identifies the child in errors, e.g. "relay3".
	Name string
	// Cmd is the command to run, not yet started. Start sets its Stdout,
	// Stderr, WaitDelay and process attributes; Stdin stays as given (nil
	// means /dev/null).
	Cmd *exec.Cmd
	// Output receives every line of output except the ready line, as
	// Prefix + line + "\n" in a single Write. Lines of several children
	// may be written concurrently: Output must be safe for that, which an
	// *os.File is. Nil means os.Stderr.
	Output io.Writer
	// Prefix goes before each line written to Output; "" means Name + " | ".
	Prefix string
	// NoPrefix copies lines as they are, without Prefix: for output that
	// must stay machine-readable, such as one JSON object per line.
	NoPrefix bool
	// ReadyTimeout bounds the wait for the ready line; 0 means
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration

	ready  chan map[string]string // buffered 1: the stdout writer never blocks
	done   chan struct{}          // closed once Wait has returned
	err    error                  // Wait's result, set before done closes
	tail   tail
	stdout lineWriter
	stderr lineWriter

	readyOnce sync.Once // guards the hand-over of the ready line
}

// New returns a Child that runs path with args.
func New(name, path string, args ...string) *Child {
	return &Child{Name: name, Cmd: exec.Command(path, args...)}
}

// Start starts the child and waits for its ready line, returning the line's
// fields (see ParseReady). It fails if the child cannot start, exits before
// it is ready (the error holds its last lines of output), is not ready
// within ReadyTimeout, or ctx ends first; in the last two cases the child is
// stopped before Start returns.
func (c *Child) Start(ctx context.Context) (map[string]string, error) {
	c.init()
	if err := c.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Name, err)
	}
	go c.wait()

	timeout := c.ReadyTimeout
	if timeout == 0 {
		timeout = DefaultReadyTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case fields := <-c.ready:
		return fields, nil
	case <-c.done:
		// A child may print its ready line and exit at once: prefer the line.
		select {
		case fields := <-c.ready:
			return fields, nil
		default:
		}
		return nil, fmt.Errorf("%s exited before it was ready (%s); its last output:\n%s",
			c.Name, c.State(), c.tail.String())
	case <-timer.C:
		c.Stop(killTimeout)
		return nil, fmt.Errorf("%s was not ready within %v; its last output:\n%s",
			c.Name, timeout, c.tail.String())
	case <-ctx.Done():
		c.Stop(killTimeout)
		return nil, fmt.Errorf("start %s: %w", c.Name, ctx.Err())
	}
}

func (c *Child) init() {
	c.ready = make(chan map[string]string, 1)
	c.done = make(chan struct{})
	c.tail.max = tailLines
	if c.Output == nil {
		c.Output = os.Stderr
	}
	if c.Prefix == "" {
		c.Prefix = c.Name + " | "
	}
	c.stdout.line = c.stdoutLine
	c.stderr.line = c.stderrLine
	c.Cmd.Stdout = &c.stdout
	c.Cmd.Stderr = &c.stderr
	c.Cmd.WaitDelay = waitDelay
	setProcAttr(c.Cmd)
}

func (c *Child) wait() {
	err := c.Cmd.Wait()
	// Wait has returned, so os/exec's copying goroutines are done with the
	// writers and the last partial lines can be flushed without a race.
	c.stdout.flush()
	c.stderr.flush()
	c.err = err
	close(c.done)
}

// stdoutLine hands the first ready line to Start and copies every other line.
func (c *Child) stdoutLine(line string) {
	handed := false
	if fields, err := ParseReady(line); err == nil {
		c.readyOnce.Do(func() {
			c.ready <- fields
			handed = true
		})
	}
	if !handed {
		c.stderrLine(line)
	}
}

func (c *Child) stderrLine(line string) {
	c.tail.add(line)
	// An error writing our own log has nowhere better to go.
	if c.NoPrefix {
		_, _ = io.WriteString(c.Output, line+"\n")
		return
	}
	_, _ = io.WriteString(c.Output, c.Prefix+line+"\n")
}

// Done is closed when the child has exited and its output has been copied.
func (c *Child) Done() <-chan struct{} { return c.done }

// Err returns how the child exited: nil for status 0, else an
// *exec.ExitError. Call it only after Done is closed.
func (c *Child) Err() error { return c.err }

// State describes how the child exited ("exit status 1", "signal: killed"),
// or "running".
func (c *Child) State() string {
	select {
	case <-c.done:
	default:
		return "running"
	}
	if c.Cmd.ProcessState == nil {
		return c.err.Error()
	}
	return c.Cmd.ProcessState.String()
}

// Pid returns the child's process id, or 0 before Start.
func (c *Child) Pid() int {
	if c.Cmd.Process == nil {
		return 0
	}
	return c.Cmd.Process.Pid
}

// Stop asks the child to exit with SIGTERM and waits up to timeout, then
// kills it (and anything left in its process group) and waits for it. It
// returns nil if the child exited with status 0, an error wrapping ErrKilled
// if it had to be killed, and otherwise how it exited. Stop on a child that
// has already exited just reports how it exited.
func (c *Child) Stop(timeout time.Duration) error {
	if c.done == nil || c.Cmd.Process == nil {
		return nil // never started
	}
	select {
	case <-c.done:
		return c.exitError()
	default:
	}
	// Process.Signal is safe against pid reuse once the child is reaped.
	_ = c.Cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-c.done:
		return c.exitError()
	case <-timer.C:
	}
	select {
	case <-c.done: // exited just now: its pid may already be reused
		return c.exitError()
	default:
		killGroup(c.Cmd)
	}
	<-c.done
	return fmt.Errorf("%s did not exit within %v of SIGTERM: %w", c.Name, timeout, ErrKilled)
}

func (c *Child) exitError() error {
	if c.err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", c.Name, c.err)
}
