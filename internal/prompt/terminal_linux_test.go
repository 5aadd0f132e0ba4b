package prompt

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"onion/internal/ptytest"
)

const wait = 10 * time.Second

// newTerminal is a Terminal on a fresh pseudo-terminal, and the person's
// side of it.
func newTerminal(t *testing.T) (*Terminal, *ptytest.PTY) {
	t.Helper()
	p, tty, err := ptytest.New()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { p.Close(); tty.Close() })
	return NewTerminal(tty, tty), p
}

type result struct {
	answer string
	err    error
}

func ask(term *Terminal, ctx context.Context, q string, secret bool) <-chan result {
	c := make(chan result, 1)
	go func() {
		a, err := term.Ask(ctx, q, secret)
		c <- result{a, err}
	}()
	return c
}

func expect(t *testing.T, p *ptytest.PTY, want string) string {
	t.Helper()
	before, err := p.Expect(want, wait)
	if err != nil {
		t.Fatalf("%v; the terminal shows:\n%s", err, p.Output())
	}
	return before
}

func answer(t *testing.T, c <-chan result) result {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(wait):
		t.Fatal("no answer")
		return result{}
	}
}

// TestOneQuestionAtATime: two questions asked at once are shown one after
// the other, each on its own line, and each gets its own answer.
func TestOneQuestionAtATime(t *testing.T) {
	term, p := newTerminal(t)
	first := ask(term, t.Context(), "first? ", false)
	expect(t, p, "first? ")
	second := ask(term, t.Context(), "second? ", false)
	p.Send("one\n")
	if r := answer(t, first); r.answer != "one" || r.err != nil {
		t.Fatalf("first got %q, %v", r.answer, r.err)
	}
	if before := expect(t, p, "second? "); !strings.HasSuffix(before, "\n") {
		t.Errorf("second question not on a line of its own: after %q", before)
	}
	p.Send("two\n")
	if r := answer(t, second); r.answer != "two" || r.err != nil {
		t.Fatalf("second got %q, %v", r.answer, r.err)
	}
}

// TestSecretNotEchoed: a secret answer never shows, and what was typed
// before the question is not taken for it.
func TestSecretNotEchoed(t *testing.T) {
	term, p := newTerminal(t)
	p.Send("typed-ahead\n")
	expect(t, p, "typed-ahead") // the terminal echoed it: it is in
	c := ask(term, t.Context(), "Password: ", true)
	expect(t, p, "Password: ")
	p.Send("hunter2\n")
	if r := answer(t, c); r.answer != "hunter2" {
		t.Fatalf("got %q, %v; want the line typed after the question", r.answer, r.err)
	}
	if strings.Contains(p.Output(), "hunter2") {
		t.Errorf("the password was echoed:\n%s", p.Output())
	}
	c = ask(term, t.Context(), "Name: ", false)
	expect(t, p, "Name: ")
	p.Send("alice\n")
	if r := answer(t, c); r.answer != "alice" {
		t.Fatalf("after a secret: got %q, %v", r.answer, r.err)
	}
	expect(t, p, "alice") // echo is back on
}

// TestWithdrawn: a question whose asker has gone says so and takes no
// answer; the next question gets the next line.
func TestWithdrawn(t *testing.T) {
	term, p := newTerminal(t)
	ctx, cancel := context.WithCancel(t.Context())
	c := ask(term, ctx, "Password: ", true)
	expect(t, p, "Password: ")
	cancel()
	if r := answer(t, c); !errors.Is(r.err, ErrWithdrawn) {
		t.Fatalf("got %q, %v; want withdrawn", r.answer, r.err)
	}
	expect(t, p, "(withdrawn: the request that asked has gone)")
	c = ask(term, t.Context(), "Password: ", true)
	expect(t, p, "Password: ")
	p.Send("right\n")
	if r := answer(t, c); r.answer != "right" {
		t.Fatalf("got %q, %v", r.answer, r.err)
	}
}

// TestYieldingGivesWay: a question that yields (open this URL?) is
// withdrawn when a login comes, so the password typed next goes to the
// password prompt, not to it.
func TestYieldingGivesWay(t *testing.T) {
	term, p := newTerminal(t)
	url := ask(term, Yielding(t.Context()), "Open? [y/N] ", false)
	expect(t, p, "Open? [y/N] ")
	pw := ask(term, t.Context(), "Password: ", true)
	if r := answer(t, url); !errors.Is(r.err, ErrWithdrawn) {
		t.Fatalf("URL question: %q, %v; want withdrawn", r.answer, r.err)
	}
	expect(t, p, "(withdrawn: another question came first)")
	expect(t, p, "Password: ")
	p.Send("s3cret\n")
	if r := answer(t, pw); r.answer != "s3cret" {
		t.Fatalf("password: %q, %v", r.answer, r.err)
	}
}

// TestHeldWhileAsking: log output written while a question is open comes
// after the answer.
func TestHeldWhileAsking(t *testing.T) {
	term, p := newTerminal(t)
	held := &HeldWriter{W: term.Out}
	term.Hold = held
	c := ask(term, t.Context(), "Name: ", false)
	expect(t, p, "Name: ")
	held.Write([]byte("a log line\n"))
	p.Send("bob\n")
	answer(t, c)
	if before := expect(t, p, "a log line"); !strings.Contains(before, "bob") {
		t.Errorf("the log line came before the answer: %q", before)
	}
}
