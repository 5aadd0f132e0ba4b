package proxy

import (
	"os"
	"sync"

	"golang.org/x/term"

	"onion/internal/prompt"
)

// StdinPrompter returns the process's prompter on stdin/stderr, or nil if
// stdin is not a terminal (a service, a script) or this platform cannot
// read a password without echo: then nothing ever waits for a person.
// Every call returns the same one: password prompts and URL prompts, from
// however many streams, take turns, each on a line of its own, so a
// password is never typed while a prompt that echoes is waiting, and one
// line of input is never read by two prompts.
func StdinPrompter() Prompter { return stdinPrompter() }

var stdinPrompter = sync.OnceValue(func() Prompter {
	if !prompt.Supported || !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil
	}
	return prompt.NewTerminal(os.Stdin, os.Stderr)
})

// SocketPrompter asks through the prompt socket of the `onion up` that
// started this proxy: its questions appear on up's terminal.
func SocketPrompter(path string) Prompter { return &prompt.Client{Path: path} }
