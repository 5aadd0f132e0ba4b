package bench

// Resident memory now (VmRSS), read once it has settled.

import (
	"context"
	"fmt"
	"maps"
	"time"

	"onion/internal/procstat"
)

// A Go process's RSS still moves for a moment after its work stops: the
// last allocations touch fresh pages, a collection may run, the scavenger
// returns pages. A reading is taken once two consecutive polls settleEvery
// apart agree to the kB for every process; after settleReads polls the last
// one is used and said to be unsettled. A fixed sleep would be either too
// long on a quiet machine or too short on a busy one.
const (
	settleEvery = 200 * time.Millisecond
	settleReads = 25 // 5 s at most
)

// rssReading is VmRSS in bytes by process name.
type rssReading map[string]int64

// readRSSAll reads VmRSS of every process; one that has gone fails it.
func readRSSAll(procs []process) (rssReading, error) {
	m := make(rssReading, len(procs))
	for _, p := range procs {
		n, err := procstat.RSS(p.pid)
		if err != nil {
			return nil, fmt.Errorf("rss of %s (pid %d): %w", p.name, p.pid, err)
		}
		m[p.name] = n
	}
	return m, nil
}

// settle calls read every `every` until two consecutive readings are
// equal, at most max times, and returns the last reading and whether it
// settled. It stops at the first error and when ctx ends.
func settle(ctx context.Context, read func() (rssReading, error), every time.Duration, max int) (rssReading, bool, error) {
	var prev rssReading
	t := time.NewTicker(every)
	defer t.Stop()
	for i := range max {
		if i > 0 {
			select {
			case <-t.C:
			case <-ctx.Done():
				return prev, false, ctx.Err()
			}
		}
		cur, err := read()
		if err != nil {
			return nil, false, err
		}
		if prev != nil && maps.Equal(prev, cur) {
			return cur, true, nil
		}
		prev = cur
	}
	return prev, false, nil
}
