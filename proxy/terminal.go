package proxy

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// TerminalPrompter asks on the terminal the proxy runs on. Use it only when
// In is a terminal (see StdinPrompter).
type TerminalPrompter struct {
	In  *os.File
	Out io.Writer
	r   *bufio.Reader
}

// StdinPrompter returns a prompter on stdin/stderr, or nil if stdin is not a
// terminal (a service, a script, a child of `onion up`): then nothing ever
// waits for a person.
func StdinPrompter() Prompter {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil
	}
	return &TerminalPrompter{In: os.Stdin, Out: os.Stderr}
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
