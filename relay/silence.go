package relay

// Inbound links whose circuits fall silent: without a bound, a peer could
// hold links, circuits and their buffers for ever by opening a circuit and
// saying nothing more.

import (
	"sync"
	"time"
)

// silenceWatch closes one inbound link once it carried no cell either way
// for Limits.BusyLinkTimeout. It looks every quarter of that, so a silent
// link closes within 1¼ times the bound; between looks it costs a timer, and
// the link's hot path one atomic add per cell.
type silenceWatch struct {
	r  *Relay
	in *inLink

	mu      sync.Mutex
	t       *time.Timer
	seen    uint64    // in.cells at the last look
	since   time.Time // when in.cells last changed, as far as we know
	stopped bool
}

// watchSilence starts watching in; the returned func stops it.
func (r *Relay) watchSilence(in *inLink) (stop func()) {
	w := &silenceWatch{r: r, in: in, since: r.cfg.Now()}
	w.mu.Lock()
	w.t = time.AfterFunc(w.every(), w.look)
	w.mu.Unlock()
	return w.stop
}

func (w *silenceWatch) every() time.Duration { return w.r.cfg.Limits.BusyLinkTimeout / 4 }

func (w *silenceWatch) look() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	now := w.r.cfg.Now()
	if n := w.in.cells.Load(); n != w.seen {
		w.seen, w.since = n, now
	} else if silent := now.Sub(w.since); silent >= w.r.cfg.Limits.BusyLinkTimeout {
		w.in.mu.Lock()
		circs := len(w.in.circs)
		w.in.mu.Unlock()
		w.r.logger.Info("closing silent link", "link", w.in.id, "circuits", circs, "silent", silent.Round(time.Second))
		w.in.link.Close() // its reader then ends the link's circuits
		return
	}
	w.t.Reset(w.every())
}

func (w *silenceWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.t.Stop()
}
