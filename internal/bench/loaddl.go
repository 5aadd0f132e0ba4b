package bench

// The bulk downloads of the under-load figures: endless GETs, each read at
// full speed or paced to a rate (as curl --limit-rate does: the reader is
// slow, and the path's flow control carries that back to the sender).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// bulkLoad is a set of running downloads.
type bulkLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	bytes  atomic.Int64 // received by all of them so far

	mu  sync.Mutex
	err error // the first failure that was not the stop
}

// startLoad starts one download of an endless blob per user through rt,
// each read at rate B/s (0: as fast as it comes).
func (r *runner) startLoad(ctx context.Context, rt route, users []string, rate float64) *bulkLoad {
	ctx, cancel := context.WithCancel(ctx)
	l := &bulkLoad{cancel: cancel}
	url := r.dest.blobURL(maxBlob)
	for i, u := range users {
		c := rt.client(u, "")
		l.wg.Go(func() {
			if err := l.run(ctx, c, url, rate); err != nil && ctx.Err() == nil {
				l.fail(fmt.Errorf("download %d: %w", i+1, err))
			}
		})
	}
	return l
}

func (l *bulkLoad) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
	}
}

// stop ends the downloads, waits for them, and returns the first failure.
func (l *bulkLoad) stop() error {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// run reads url until ctx ends, paced to rate if rate > 0.
func (l *bulkLoad) run(ctx context.Context, c *http.Client, url string, rate float64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := pacer{rate: rate, start: time.Now()}
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		l.bytes.Add(int64(n))
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("the endless blob ended")
			}
			return err
		}
		if !p.wait(ctx, n) {
			return ctx.Err()
		}
	}
}

// pacer holds a reader to rate bytes per second on average since start.
type pacer struct {
	rate  float64
	start time.Time
	total int64
}

// wait counts n more bytes and, if they are ahead of the rate, waits until
// they are due; it reports false if ctx ended first.
func (p *pacer) wait(ctx context.Context, n int) bool {
	if p.rate <= 0 {
		return true
	}
	p.total += int64(n)
	due := p.start.Add(time.Duration(float64(p.total) / p.rate * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		return sleepCtx(ctx, d)
	}
	return ctx.Err() == nil
}
