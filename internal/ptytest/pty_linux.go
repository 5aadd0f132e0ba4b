// Package ptytest runs a command on a pseudo-terminal for tests: what it
// prints is collected, awaited with Expect, and answered with Send, as a
// person at a terminal would. Linux only.
package ptytest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// PTY is a command's terminal, seen from the person's side.
type PTY struct {
	master *os.File

	mu      sync.Mutex
	out     bytes.Buffer  // everything the command printed
	seen    int           // how much of out Expect has consumed
	changed chan struct{} // closed and replaced on each read
	done    chan struct{} // closed when the command's side is closed
}

// Start runs cmd with stdin, stdout and stderr on a new terminal that is
// its controlling terminal, in a session of its own.
func Start(cmd *exec.Cmd) (*PTY, error) {
	p, slave, err := New()
	if err != nil {
		return nil, err
	}
	defer slave.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0
	if err := cmd.Start(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// New opens a terminal: the PTY is the person's side, tty the program's
// (the caller closes it).
func New() (p *PTY, tty *os.File, err error) {
	master, slave, err := open()
	if err != nil {
		return nil, nil, err
	}
	p = &PTY{master: master, changed: make(chan struct{}), done: make(chan struct{})}
	go p.read()
	return p, slave, nil
}

func open() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, s, nil
}

func (p *PTY) read() {
	defer close(p.done)
	buf := make([]byte, 4096)
	for {
		n, err := p.master.Read(buf)
		p.mu.Lock()
		p.out.Write(buf[:n])
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		if err != nil {
			return // EIO once every holder of the terminal's side has gone
		}
	}
}

// Expect waits until the output after what earlier Expects consumed holds
// want, consumes it through want, and returns what came before it. It
// fails after timeout, or when the terminal closes first.
func (p *PTY) Expect(want string, timeout time.Duration) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		rest := p.out.String()[p.seen:]
		changed := p.changed
		if i := strings.Index(rest, want); i >= 0 {
			p.seen += i + len(want)
			p.mu.Unlock()
			return rest[:i], nil
		}
		p.mu.Unlock()
		select {
		case <-changed:
		case <-p.done:
			if p.contains(want) {
				continue
			}
			return "", fmt.Errorf("terminal closed before %q", want)
		case <-deadline.C:
			return "", fmt.Errorf("no %q within %v", want, timeout)
		}
	}
}

func (p *PTY) contains(want string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Contains(p.out.String()[p.seen:], want)
}

// Output is everything printed so far.
func (p *PTY) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Send types s.
func (p *PTY) Send(s string) error {
	_, err := p.master.WriteString(s)
	return err
}

// Close closes the person's side (the command gets a hang-up).
func (p *PTY) Close() error { return p.master.Close() }
