package launch

import (
	"bytes"
	"strings"
	"sync"
)

// maxLine bounds how much of a line without a newline is buffered; a longer
// run of bytes is passed on as a line of its own.
const maxLine = 64 << 10

// lineWriter is an io.Writer that calls line once for every complete line
// written to it, without the newline. os/exec calls Write from one
// goroutine per stream, so lineWriter needs no lock of its own.
type lineWriter struct {
	buf  []byte
	line func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		room := maxLine - len(w.buf)
		i := bytes.IndexByte(p, '\n')
		switch {
		case i >= 0 && i <= room:
			w.buf = append(w.buf, p[:i]...)
			p = p[i+1:]
			w.emit()
		case len(p) >= room:
			w.buf = append(w.buf, p[:room]...)
			p = p[room:]
			w.emit()
		default:
			w.buf = append(w.buf, p...)
			p = nil
		}
	}
	return n, nil
}

// flush passes on a last line that had no newline. Call it only after the
// process's output is closed.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.emit()
	}
}

func (w *lineWriter) emit() {
	line := strings.TrimSuffix(string(w.buf), "\r")
	w.buf = w.buf[:0]
	w.line(line)
}

// tail keeps the last few lines of a child's output for error messages.
type tail struct {
	mu    sync.Mutex
	lines []string
	max   int
}

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == t.max {
		t.lines = append(t.lines[:0], t.lines[1:]...)
	}
	t.lines = append(t.lines, line)
}

// String returns the kept lines, each indented, or a note that there were none.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "    (no output)"
	}
	return "    " + strings.Join(t.lines, "\n    ")
}
