package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

// TestChatEscapesService: what a service sends back (an echo line, an error
// quoting its answer) reaches the terminal with its control characters
// escaped, so the service cannot clear the screen, retitle the window or
// reorder the text.
func TestChatEscapesService(t *testing.T) {
	ours, theirs := net.Pipe()
	defer ours.Close()
	go func() {
		defer theirs.Close()
		line, _ := bufio.NewReader(theirs).ReadString('\n')
		theirs.Write([]byte("\x1b[2J\x1b]0;owned\x07" + strings.TrimSpace(line) + "\u202e\x9b\n"))
	}()
	var out bytes.Buffer
	c := &Chat{Out: &out, echo: ours, reader: bufio.NewReaderSize(ours, maxEchoLine)}
	if err := c.say(context.Background(), "hi"); err != nil {
		t.Fatal(err)
	}
	c.report(errors.New("service answered 404 Not Found: \x1b[31mgone\x1b[0m"))
	got := out.String()
	want := "< \\x1b[2J\\x1b]0;owned\\ahi\\u202e\\x9b\n" +
		"error: service answered 404 Not Found: \\x1b[31mgone\\x1b[0m\n"
	if got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}

// TestChatBoundsEchoLine: an echo line longer than maxEchoLine ends the
// echo stream with an error instead of growing without bound.
func TestChatBoundsEchoLine(t *testing.T) {
	ours, theirs := net.Pipe()
	defer ours.Close()
	go func() {
		defer theirs.Close()
		bufio.NewReader(theirs).ReadString('\n')
		theirs.Write(bytes.Repeat([]byte("a"), maxEchoLine+1))
	}()
	var out bytes.Buffer
	c := &Chat{Out: &out, echo: ours, reader: bufio.NewReaderSize(ours, maxEchoLine)}
	if err := c.say(context.Background(), "hi"); !errors.Is(err, bufio.ErrBufferFull) || out.Len() != 0 {
		t.Errorf("say = %v, printed %d bytes; want bufio.ErrBufferFull and nothing printed", err, out.Len())
	}
	if c.echo != nil {
		t.Error("the echo stream stays open after an overlong line")
	}
}
