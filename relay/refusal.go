package relay

// Logging refusals for resource limits: a peer that pushes on a bound gets
// refused as often as it tries, and the log must not grow with it.

import (
	"sync"
	"time"
)

// refusalLogEvery is how often one kind of refusal is logged above debug.
const refusalLogEvery = time.Minute

// refusals remembers, per kind and bound, when a refusal was last logged
// and how many came since.
type refusals struct {
	mu   sync.Mutex
	last map[string]time.Time
	n    map[string]int
}

// refused logs a refusal: at debug every time, with debugAttrs (which may
// name the peer's address); as a warning the first time and then at most
// every refusalLogEvery per kind and err (which says which bound refused,
// and no address), with the number refused meanwhile.
func (r *Relay) refused(kind string, err error, debugAttrs ...any) {
	r.logger.Debug(kind, append([]any{"err", err}, debugAttrs...)...)
	rf := &r.refusals
	key := kind + ": " + err.Error()
	now := r.cfg.Now()
	rf.mu.Lock()
	if rf.last == nil {
		rf.last, rf.n = make(map[string]time.Time), make(map[string]int)
	}
	rf.n[key]++
	last, seen := rf.last[key]
	n := rf.n[key]
	log := !seen || now.Sub(last) >= refusalLogEvery
	if log {
		rf.last[key], rf.n[key] = now, 0
	}
	rf.mu.Unlock()
	if log {
		r.logger.Warn(kind, "err", err, "refused", n, "next_log_after", refusalLogEvery)
	}
}
