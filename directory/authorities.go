package directory

// Authorities: the client of several directory authorities, PROTOCOL.md §7.4.

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"onion/onion"
)

// DefaultMaxListValidity is the longest validity window a reader accepts in
// a relay list, when Authorities.MaxValidity is zero.
const DefaultMaxListValidity = time.Hour

// Authority is one directory authority as its users know it: where it is
// and the key it signs with.
type Authority struct {
	URL string
	Key ed25519.PublicKey
}

// Authorities is what relays, proxies and hidden servers use to talk to the
// directory authorities of their network. Relays publishes a list only when
// a majority of Keys signed it, it is not older than the newest it returned
// before (no rollback), it is valid now and its validity window is at most
// MaxValidity. Publish sends a descriptor to every authority. Set the
// fields before the first call; the methods are then safe for concurrent
// use.
type Authorities struct {
	List []Authority
	// HTTP makes the requests. Nil means a client with a 10 s timeout.
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxValidity bounds a list's validity window; zero means
	// DefaultMaxListValidity.
	MaxValidity time.Duration
	// Logger is told why an authority's list was refused; nil discards.
	Logger *slog.Logger

	next   atomic.Uint32 // which authority to ask first, rotating
	mu     sync.Mutex
	newest int64 // ValidAfter of the newest list returned
}

// NewAuthorities returns the client of list, which must be non-empty.
func NewAuthorities(list []Authority) *Authorities {
	a := &Authorities{List: list}
	a.next.Store(rand.Uint32())
	return a
}

func (a *Authorities) client(i int) *Client {
	return &Client{URL: a.List[i].URL, Key: a.List[i].Key, HTTP: a.HTTP, Now: a.Now}
}

func (a *Authorities) keys() []ed25519.PublicKey {
	keys := make([]ed25519.PublicKey, len(a.List))
	for i, au := range a.List {
		keys[i] = au.Key
	}
	return keys
}

func (a *Authorities) log() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// Via is the same authorities reached with hc (through the network, for
// hidden-service requests); it keeps no rollback state of its own.
func (a *Authorities) Via(hc *http.Client) *Authorities {
	return &Authorities{List: a.List, HTTP: hc, Now: a.Now, MaxValidity: a.MaxValidity, Logger: a.Logger}
}

// Relays asks the authorities in turn, from a rotating start, for the
// relay list, and returns the first that passes every check. Each refusal
// is logged with the authority's URL and the reason.
func (a *Authorities) Relays(ctx context.Context) (onion.RelayList, error) {
	if len(a.List) == 0 {
		return onion.RelayList{}, ErrNoDirectoryKey
	}
	start := int(a.next.Add(1) % uint32(len(a.List)))
	var errs []error
	for k := range a.List {
		i := (start + k) % len(a.List)
		l, err := a.relaysFrom(ctx, i)
		if err == nil {
			return l, nil
		}
		if ctx.Err() != nil {
			return onion.RelayList{}, fmt.Errorf("fetch relay list: %w", ctx.Err())
		}
		if errors.Is(err, onion.ErrSignature) {
			a.log().Warn("relay list refused", "authority", a.List[i].URL, "reason", err, "fix", wrongKeyHint)
		} else {
			a.log().Warn("relay list refused", "authority", a.List[i].URL, "reason", err)
		}
		errs = append(errs, fmt.Errorf("%s: %w", a.List[i].URL, err))
	}
	return onion.RelayList{}, fmt.Errorf("fetch relay list: no authority gave an acceptable one: %w", errors.Join(errs...))
}

// wrongKeyHint is what to check when a relay list's signature does not
// verify: almost always a --directory-key that is not that directory's.
const wrongKeyHint = "check --directory-key: each key must be the one its directory printed (directory ready key=..., also in its directory.pub), in the order of --directory"

func (a *Authorities) relaysFrom(ctx context.Context, i int) (onion.RelayList, error) {
	c := a.client(i)
	signed, err := c.fetchList(ctx)
	if err != nil {
		return onion.RelayList{}, err
	}
	l, err := signed.Open(a.keys(), c.now(), orDefault(a.MaxValidity, DefaultMaxListValidity))
	if err != nil {
		return onion.RelayList{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if l.ValidAfter < a.newest {
		return onion.RelayList{}, fmt.Errorf("%w: valid after %s, older than the list held (%s)", ErrRollback,
			time.Unix(l.ValidAfter, 0).UTC().Format(time.RFC3339), time.Unix(a.newest, 0).UTC().Format(time.RFC3339))
	}
	a.newest = l.ValidAfter
	return l, nil
}

// ErrRollback means an authority served a list older than one already
// accepted: a stale list, maybe replayed to hide relays that joined since.
var ErrRollback = errors.New("directory: relay list is older than the one held")

// Publish sends d to every authority at once. It succeeds when a majority
// accepted it (enough to be listed); each refusal is logged.
func (a *Authorities) Publish(ctx context.Context, d onion.RelayDescriptor) error {
	errs := a.each(func(_ int, c *Client) error { return c.Publish(ctx, d) })
	return a.majority("publish descriptor", errs, onion.Majority(len(a.List)))
}

// PublishService sends d to every authority at once. It succeeds when one
// accepted it: readers ask any authority.
func (a *Authorities) PublishService(ctx context.Context, d onion.ServiceDescriptor) error {
	errs := a.each(func(_ int, c *Client) error { return c.PublishService(ctx, d) })
	return a.majority("publish service descriptor", errs, 1)
}

// Service asks every authority for address's descriptor and returns the
// newest that verifies (each is checked by the service's own key), so an
// authority that withholds or serves a stale descriptor is routed around.
func (a *Authorities) Service(ctx context.Context, address string) (onion.ServiceDescriptor, error) {
	ds := make([]onion.ServiceDescriptor, len(a.List))
	errs := a.each(func(i int, c *Client) error {
		var err error
		ds[i], err = c.Service(ctx, address)
		return err
	})
	best, unknown := -1, 0
	for i, err := range errs {
		switch {
		case err == nil && (best < 0 || ds[i].Published > ds[best].Published):
			best = i
		case errors.Is(err, ErrUnknownService):
			unknown++
		}
	}
	if best >= 0 {
		return ds[best], nil
	}
	if unknown > 0 { // those that answered do not know it; the others failed
		if unknown == len(a.List) {
			return onion.ServiceDescriptor{}, fmt.Errorf("fetch service descriptor: %w", ErrUnknownService)
		}
		return onion.ServiceDescriptor{}, fmt.Errorf("fetch service descriptor: %w (%d of %d authorities did not answer)",
			ErrUnknownService, len(a.List)-unknown, len(a.List))
	}
	return onion.ServiceDescriptor{}, errors.Join(errs...)
}

// each runs f against every authority at once and returns each error, in
// List order.
func (a *Authorities) each(f func(int, *Client) error) []error {
	errs := make([]error, len(a.List))
	var wg sync.WaitGroup
	for i := range a.List {
		wg.Go(func() { errs[i] = f(i, a.client(i)) })
	}
	wg.Wait()
	return errs
}

// majority succeeds when at least need calls did, logging the failures.
func (a *Authorities) majority(what string, errs []error, need int) error {
	ok := 0
	var failed []error
	for i, err := range errs {
		if err == nil {
			ok++
			continue
		}
		failed = append(failed, fmt.Errorf("%s: %w", a.List[i].URL, err))
	}
	if ok >= need {
		for _, err := range failed {
			a.log().Warn(what+" failed at one authority", "err", err)
		}
		return nil
	}
	return fmt.Errorf("%s: accepted by %d of %d authorities, need %d: %w", what, ok, len(a.List), need, errors.Join(failed...))
}
