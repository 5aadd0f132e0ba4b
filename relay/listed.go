package relay

// The relays this relay may extend circuits to: those in the directory's
// verified list, at their listed address (PROTOCOL.md §3.3). Without this
// check an EXTEND (or a descriptor) could make the relay dial any address,
// its own loopback and LAN included.

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"onion/onion"
)

// RelayLister fetches the directory's relay list, verified against the
// directory's key. directory.Client, given that key, satisfies it. A relay
// calls it from one goroutine at a time.
type RelayLister interface {
	Relays(ctx context.Context) (onion.RelayList, error)
}

// Relay list timings.
const (
	listRefreshInterval = time.Minute
	// listRefreshGap spaces the fetches that EXTENDs to relays not yet known
	// ask for: a relay listed since the last fetch is found within this
	// long, and a flood of EXTENDs to made-up relays costs the directory one
	// request per gap at most.
	listRefreshGap   = 2 * time.Second
	listFetchTimeout = 10 * time.Second
)

// errNotListed refuses an EXTEND. It names no address, so it may be logged
// at info.
var errNotListed = errors.New("next relay is not in the relay list at that address")

// listedRelay is where a relay was listed, and when it last was.
type listedRelay struct {
	addr string
	seen time.Time
}

// listedRelays is what this relay knows of the list: every relay of the
// latest verified list, and those dropped from it within the last refresh
// interval (a client's list may be that old). Its run goroutine alone
// fetches; EXTENDs read it and may ask for a fetch.
type listedRelays struct {
	src    RelayLister
	now    func() time.Time
	logger *slog.Logger

	wanted  chan struct{} // buffered 1; sent to, under mu, by who holds fetched
	first   chan struct{} // closed at the first verified list
	stopped chan struct{} // closed when run returns

	mu      sync.Mutex
	relays  map[string]listedRelay  // by identity key
	latest  []onion.RelayDescriptor // the latest verified list's; replaced, never changed
	fetched chan struct{}           // closed when the fetch under way (or else the next) ends
	got     bool                    // a list has verified
}

func newListedRelays(src RelayLister, now func() time.Time, logger *slog.Logger) *listedRelays {
	return &listedRelays{
		src: src, now: now, logger: logger,
		wanted:  make(chan struct{}, 1),
		first:   make(chan struct{}),
		stopped: make(chan struct{}),
		relays:  make(map[string]listedRelay),
		fetched: make(chan struct{}),
	}
}

// allows reports whether the relay with identity key id is listed at addr.
func (l *listedRelays) allows(id []byte, addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.relays[string(id)]
	return ok && r.addr == addr
}

// refresh asks for a fetch and waits until the one under way, or else the
// next, has ended (spaced by listRefreshGap), or until ctx ends or run
// stops.
func (l *listedRelays) refresh(ctx context.Context) {
	l.mu.Lock()
	done := l.fetched
	select {
	case l.wanted <- struct{}{}:
	default: // already asked for, by someone waiting on the same fetch
	}
	l.mu.Unlock()
	select {
	case <-done:
	case <-l.stopped:
	case <-ctx.Done():
	}
}

// run fetches the list at once, again every listRefreshInterval, and when
// refresh asks (but never within listRefreshGap of the last fetch refresh
// asked for: relays that start together each fetch at start-up, and the
// first EXTENDs between them must not wait out a gap), until ctx ends. Until a list first verifies it retries sooner, 250 ms doubling
// to 5 s.
func (l *listedRelays) run(ctx context.Context) {
	defer close(l.stopped)
	timer := time.NewTimer(0)
	defer timer.Stop()
	var asked time.Time // when the latest fetch that refresh asked for started
	retry := publishFirstWait
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-l.wanted:
			if !pause(ctx, time.Until(asked.Add(listRefreshGap))) {
				return
			}
			asked = time.Now()
		}
		next := listRefreshInterval
		if !l.fetch(ctx) && !l.verified() {
			next, retry = retry, min(2*retry, publishMaxWait)
		}
		timer.Reset(next)
	}
}

// fetch fetches and verifies the list once, keeps what it says, and wakes
// those waiting in refresh. It reports whether the list verified.
func (l *listedRelays) fetch(ctx context.Context) bool {
	fctx, cancel := context.WithTimeout(ctx, listFetchTimeout)
	list, err := l.src.Relays(fctx)
	cancel()
	if err != nil && ctx.Err() == nil {
		l.logger.Warn("fetching relay list failed; keeping the last verified list", "err", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.updateLocked(list)
	}
	close(l.fetched)
	l.fetched = make(chan struct{})
	// Whoever asked before now waited on the channel just closed.
	select {
	case <-l.wanted:
	default:
	}
	return err == nil
}

// updateLocked takes in a verified list: its relays are listed as of now,
// and a relay dropped from it stays allowed until one interval has passed
// since a list last named it.
func (l *listedRelays) updateLocked(list onion.RelayList) {
	now := l.now()
	l.latest = list.Relays
	for _, d := range list.Relays {
		l.relays[string(d.IdentityKey)] = listedRelay{addr: d.Address, seen: now}
	}
	for id, r := range l.relays {
		if now.Sub(r.seen) > listRefreshInterval {
			delete(l.relays, id)
		}
	}
	if !l.got {
		l.got = true
		close(l.first)
		l.logger.Info("relay list verified", "relays", len(list.Relays))
		return
	}
	l.logger.Debug("relay list verified", "relays", len(list.Relays))
}

// listed is the latest verified list's relays (nil before the first).
// The caller must not change it.
func (l *listedRelays) listed() []onion.RelayDescriptor {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.latest
}

func (l *listedRelays) verified() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.got
}

// pause waits d (nothing if d ≤ 0); false if ctx ended first.
func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
