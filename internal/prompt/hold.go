package prompt

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// maxHeld bounds the output a HeldWriter keeps while held; more is dropped
// and counted.
const maxHeld = 1 << 20

// HeldWriter passes writes to W, except while held: then it keeps them
// (up to maxHeld bytes) and writes them out on Release. It is a Holder
// for a Terminal whose questions share W's terminal. Safe for concurrent
// use; each Write reaches W whole.
type HeldWriter struct {
	W io.Writer

	mu      sync.Mutex
	held    int
	buf     bytes.Buffer
	dropped int
}

func (h *HeldWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held == 0 {
		return h.W.Write(p)
	}
	if h.buf.Len()+len(p) > maxHeld {
		h.dropped++
		return len(p), nil
	}
	h.buf.Write(p)
	return len(p), nil
}

// Hold starts keeping writes back.
func (h *HeldWriter) Hold() {
	h.mu.Lock()
	h.held++
	h.mu.Unlock()
}

// Release ends a Hold; the last one writes out what was kept.
func (h *HeldWriter) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held--; h.held > 0 {
		return
	}
	h.W.Write(h.buf.Bytes())
	h.buf.Reset()
	if h.dropped > 0 {
		fmt.Fprintf(h.W, "(%d log writes dropped while a question was open)\n", h.dropped)
		h.dropped = 0
	}
}
