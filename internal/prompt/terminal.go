package prompt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// maxLine bounds one answer; the rest of a longer line is dropped.
const maxLine = 4096

// Holder is paused while a question is open: the log output that would
// otherwise land in the middle of the question and its answer.
type Holder interface {
	Hold()
	Release()
}

// Terminal asks on a terminal: In is read, questions go to Out.
type Terminal struct {
	In    *os.File
	Out   io.Writer
	Label string // before every question, e.g. "[proxy] "
	Hold  Holder // nil: nothing to pause

	// turn has capacity 1 and holds a token while a question is open. A
	// channel rather than a mutex: a waiting Ask can give up when its ctx
	// ends.
	turn  chan struct{}
	lines chan string // from the one reader goroutine; closed at end of input
	once  sync.Once

	mu      sync.Mutex
	waiting int                     // questions that do not yield, waiting for their turn
	giveWay context.CancelCauseFunc // withdraws the open question, if it yields
}

// NewTerminal returns a Terminal on in (which must be a terminal) and out.
func NewTerminal(in *os.File, out io.Writer) *Terminal {
	return &Terminal{In: in, Out: out, turn: make(chan struct{}, 1), lines: make(chan string)}
}

// ErrWithdrawn wraps the context's error of a question withdrawn unanswered.
var ErrWithdrawn = errors.New("prompt: question withdrawn")

// Ask waits for its turn, prints the question on a line of its own, and
// reads one line. A secret is read with echo off, and anything typed
// before it was asked is thrown away first, so a line meant for an earlier
// question never becomes a password. A question asked with a Yielding
// context gives way to any other: it is withdrawn when one comes.
func (t *Terminal) Ask(ctx context.Context, question string, secret bool) (string, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if err := t.take(ctx, cancel); err != nil {
		return "", err
	}
	defer t.give()
	t.once.Do(func() { go t.read() })
	if t.Hold != nil {
		t.Hold.Hold()
		defer t.Hold.Release()
	}
	if secret {
		t.dropTypeahead()
		restore, err := echoOff(t.In)
		if err != nil {
			return "", fmt.Errorf("turn echo off: %w", err)
		}
		defer restore()
	}
	fmt.Fprint(t.Out, t.Label+Printable(question))
	select {
	case line, ok := <-t.lines:
		if secret {
			fmt.Fprintln(t.Out) // the Enter was not echoed
		}
		if !ok {
			return "", io.EOF
		}
		return line, nil
	case <-ctx.Done():
		fmt.Fprintf(t.Out, "\n(withdrawn: %v)\n", reason(ctx))
		return "", withdrawn(ctx)
	}
}

// errGaveWay and errGone say why a question was withdrawn.
var (
	errGaveWay = errors.New("another question came first")
	errGone    = errors.New("the request that asked has gone")
)

func withdrawn(ctx context.Context) error {
	return fmt.Errorf("%w: %w", ErrWithdrawn, reason(ctx))
}

// reason says, for the person, why ctx ended.
func reason(ctx context.Context) error {
	switch err := context.Cause(ctx); {
	case errors.Is(err, context.DeadlineExceeded):
		return errors.New("no answer in time")
	case errors.Is(err, context.Canceled):
		return errGone
	default:
		return err
	}
}

// take waits for the question's turn. A question that does not yield
// first withdraws an open one that does; one that yields gives up its turn
// at once if another is waiting.
func (t *Terminal) take(ctx context.Context, cancel context.CancelCauseFunc) error {
	yields := Yields(ctx)
	if !yields {
		t.mu.Lock()
		t.waiting++
		if t.giveWay != nil {
			t.giveWay(errGaveWay)
		}
		t.mu.Unlock()
		defer func() {
			t.mu.Lock()
			t.waiting--
			t.mu.Unlock()
		}()
	}
	select {
	case t.turn <- struct{}{}:
	case <-ctx.Done():
		return withdrawn(ctx)
	}
	if !yields {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.waiting > 0 {
		<-t.turn
		return fmt.Errorf("%w: %w", ErrWithdrawn, errGaveWay)
	}
	t.giveWay = cancel
	return nil
}

// give ends a question's turn.
func (t *Terminal) give() {
	t.mu.Lock()
	t.giveWay = nil
	t.mu.Unlock()
	<-t.turn
}

// dropTypeahead discards input typed before the question: the terminal's
// unread input, and a line the reader holds that no one took.
func (t *Terminal) dropTypeahead() {
	flushInput(t.In)
	for {
		select {
		case _, ok := <-t.lines:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// read is the terminal's one reader: every line goes to whichever question
// is open. It runs until the end of input.
func (t *Terminal) read() {
	defer close(t.lines)
	r := bufio.NewReaderSize(t.In, maxLine)
	for {
		chunk, err := r.ReadSlice('\n')
		line := string(chunk)
		for errors.Is(err, bufio.ErrBufferFull) { // drop the rest of an over-long line
			_, err = r.ReadSlice('\n')
		}
		if err != nil && line == "" {
			return
		}
		t.lines <- strings.TrimRight(line, "\r\n")
		if err != nil {
			return
		}
	}
}

// Printable replaces control characters, so that a question cannot steer
// the terminal it is shown on.
func Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
