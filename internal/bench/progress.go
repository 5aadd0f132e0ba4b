package bench

// Progress on stderr. On a terminal one line is redrawn in place while a
// phase runs; elsewhere (a log, a test) each phase gets one line when it
// starts, so that a slow phase can be told from a hung one.

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

const progressEvery = 200 * time.Millisecond

type progress struct {
	w    io.Writer // nil: silent
	live bool

	done  atomic.Int64 // bytes or operations so far in this phase
	mu    sync.Mutex   // guards the fields below and writes to w
	label string
	total int64
	bytes bool
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newProgress(w io.Writer, live bool) *progress { return &progress{w: w, live: live} }

// begin starts a phase of total units: bytes when bytes is set, else
// operations.
func (p *progress) begin(label string, total int64, bytes bool) {
	p.end()
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.label, p.total, p.bytes, p.start = label, total, bytes, time.Now()
	p.done.Store(0)
	if !p.live {
		fmt.Fprintf(p.w, "bench: %s\n", label)
		return
	}
	fmt.Fprint(p.w, "\r\033[K"+p.lineLocked())
	stop := make(chan struct{})
	p.stop = stop
	p.wg.Go(func() { p.redraw(stop) })
}

// add counts n units done; safe from any goroutine.
func (p *progress) add(n int) { p.done.Add(int64(n)) }

// end finishes the phase and clears its line.
func (p *progress) end() {
	p.mu.Lock()
	stop := p.stop
	p.stop = nil
	p.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	p.wg.Wait()
	p.mu.Lock()
	fmt.Fprint(p.w, "\r\033[K")
	p.mu.Unlock()
}

func (p *progress) redraw(stop <-chan struct{}) {
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.mu.Lock()
			fmt.Fprint(p.w, "\r\033[K"+p.lineLocked())
			p.mu.Unlock()
		}
	}
}

func (p *progress) lineLocked() string {
	done := p.done.Load()
	switch {
	case p.total == 0:
		return fmt.Sprintf("bench: %s  %v", p.label, time.Since(p.start).Round(time.Second))
	case !p.bytes:
		return fmt.Sprintf("bench: %s  %s %d/%d", p.label, bar(done, p.total), done, p.total)
	}
	rate := float64(done) / max(time.Since(p.start).Seconds(), 1e-9)
	return fmt.Sprintf("bench: %s  %s %s of %s  %s", p.label, bar(done, p.total),
		fmtValue(unitBytes, num(float64(done))), fmtValue(unitBytes, num(float64(p.total))),
		fmtValue(unitBytesPerSec, num(rate)))
}
