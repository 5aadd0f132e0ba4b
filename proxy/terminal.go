package proxy

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
)

// TerminalPrompter asks on the terminal the proxy runs on. Use it only when
// In is a terminal, and from one goroutine at a time (StdinPrompter gives
// one that is safe for many).
type TerminalPrompter struct {
	In  *os.File
	Out io.Writer
	r   *bufio.Reader
}

// StdinPrompter returns the process's prompter on stdin/stderr, or nil if
// stdin is not a terminal (a service, a script, a child of `onion up`):
// then nothing ever waits for a person. Every call returns the same one,
// serialised: password prompts and URL prompts, from however many streams,
// take turns, so a password is never typed while a prompt that echoes is
// waiting, and one line of input is never read by two prompts.
func StdinPrompter() Prompter { return stdinPrompter() }

var stdinPrompter = sync.OnceValue(func() Prompter {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil
	}
	return serialize(&TerminalPrompter{In: os.Stdin, Out: os.Stderr})
})

// serialPrompter asks one question at a time: an Ask waits until the one
// before it has its answer.
type serialPrompter struct {
	p Prompter
	// turn has capacity 1 and holds a token while a question is open. A
	// channel rather than a mutex: a test in a synctest bubble then sees a
	// waiting Ask as blocked.
	turn chan struct{}
}

func serialize(p Prompter) Prompter {
	return &serialPrompter{p: p, turn: make(chan struct{}, 1)}
}

// Ask asks p once no other question is open.
func (s *serialPrompter) Ask(prompt string, secret bool) (string, error) {
	s.turn <- struct{}{}
	defer func() { <-s.turn }()
	return s.p.Ask(prompt, secret)
}

// Ask prints prompt and reads one line; a secret is read without echo.
func (t *TerminalPrompter) Ask(prompt string, secret bool) (string, error) {
	fmt.Fprint(t.Out, prompt)
	if secret {
		b, err := term.ReadPassword(int(t.In.Fd()))
		fmt.Fprintln(t.Out)
		return string(b), err
	}
	if t.r == nil {
		t.r = bufio.NewReader(t.In)
	}
	line, err := t.r.ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
