package prompt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeAsker answers with its question, or waits for ctx when block is set.
type fakeAsker struct {
	block  bool
	asked  chan string
	gaveUp chan error
}

func (f *fakeAsker) Ask(ctx context.Context, q string, secret bool) (string, error) {
	f.asked <- q
	if f.block {
		<-ctx.Done()
		f.gaveUp <- ctx.Err()
		return "", ctx.Err()
	}
	if secret {
		return "secret answer", nil
	}
	return "answer to " + q, nil
}

func serve(t *testing.T, a Asker) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prompt.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go Serve(ln, a, "[proxy] ")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v, %v; want 0600", st.Mode(), err)
	}
	return path
}

func TestSocketAsks(t *testing.T) {
	f := &fakeAsker{asked: make(chan string, 2)}
	c := &Client{Path: serve(t, f)}
	got, err := c.Ask(t.Context(), "Name?\x1b[2J ", false)
	if err != nil || got != "answer to [proxy] Name?\x1b[2J " {
		t.Fatalf("Ask = %q, %v", got, err)
	}
	if got, err := c.Ask(t.Context(), "Password: ", true); err != nil || got != "secret answer" {
		t.Fatalf("secret Ask = %q, %v", got, err)
	}
}

// TestSocketWithdraws: an asker that gives up withdraws its question at
// the terminal's end.
func TestSocketWithdraws(t *testing.T) {
	f := &fakeAsker{block: true, asked: make(chan string, 1), gaveUp: make(chan error, 1)}
	c := &Client{Path: serve(t, f)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, err := c.Ask(ctx, "Password: ", true); done <- err }()
	<-f.asked
	cancel()
	if err := <-done; !errors.Is(err, ErrWithdrawn) {
		t.Errorf("client: %v, want withdrawn", err)
	}
	select {
	case <-f.gaveUp:
	case <-time.After(10 * time.Second):
		t.Fatal("the question stayed open at the terminal")
	}
}

func TestPrintable(t *testing.T) {
	if got := Printable("a\x1b[31mb\r\n\u009bc"); got != "a?[31mb???c" {
		t.Errorf("Printable = %q", got)
	}
}
