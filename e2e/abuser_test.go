//go:build linux

package e2e

// The abusive client of TestAbuseByOneClient: raw Go code on 127.0.0.2 that
// pushes on every bound a relay keeps per peer, each time further than the
// relay's bound for all peers (or than its old, unshared bound).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"onion/linktls"
	"onion/onion"
	ocirc "onion/onion/circuit"
)

// What the abuser tries, all against one relay from one address.
const (
	abuseLinks   = 4200 // links: more than a relay takes in all (4096)
	abuseSilent  = 200  // connections that never send the preface
	abuseStreams = 1100 // exit streams: more than one peer's 1024 exit connections
	abuseExtends = 1100 // circuits extended to one next relay: more than one peer's 1024
	abuseWorkers = 32   // dials and builds at a time
	// abuseBuffer streams of 1 MiB each on one circuit to a destination
	// that never reads: more than the 8 MiB an exit holds per circuit,
	// were the kernel's socket buffers not there to take it first.
	abuseBuffer = 24
)

// abuser plays one abusive client. Everything it opens stays open until
// close, or ends when the relay ends it.
type abuser struct {
	dialer net.Dialer
	target ocirc.Hop

	mu     sync.Mutex
	links  []*ocirc.ClientLink
	silent []net.Conn

	linksRefused, silentInExchange, silentRefused atomic.Int64
	streamsOpen, streamsRefused, streamsEnded     atomic.Int64
	extended, extendsRefused                      atomic.Int64
}

func newAbuser(source string, target ocirc.Hop) *abuser {
	return &abuser{dialer: net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}, target: target}
}

// parallel runs f(i) for i < n, abuseWorkers at a time, until ctx ends.
func parallel(ctx context.Context, n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range abuseWorkers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}

// floodLinks opens abuseLinks links and keeps those the relay takes.
func (a *abuser) floodLinks(ctx context.Context) {
	parallel(ctx, abuseLinks, func(int) {
		conn, err := a.dialer.DialContext(ctx, "tcp", a.target.Address)
		if err != nil {
			a.linksRefused.Add(1)
			return
		}
		tc, err := linktls.Client(ctx, conn, a.target.IdentityKey)
		if err != nil {
			a.linksRefused.Add(1)
			return
		}
		cl, err := ocirc.NewClientLink(tc, nil, nil)
		if err != nil {
			a.linksRefused.Add(1)
			return
		}
		a.mu.Lock()
		a.links = append(a.links, cl)
		a.mu.Unlock()
	})
}

// floodSilent opens abuseSilent connections that finish TLS and never
// send the preface, and tells apart those the relay closes at once (TLS
// fails) from those it takes into the preface exchange (it sends its
// preface first).
func (a *abuser) floodSilent(ctx context.Context) {
	parallel(ctx, abuseSilent, func(int) {
		raw, err := a.dialer.DialContext(ctx, "tcp", a.target.Address)
		if err != nil {
			a.silentRefused.Add(1)
			return
		}
		conn, err := linktls.Client(ctx, raw, a.target.IdentityKey)
		if err != nil {
			a.silentRefused.Add(1)
			return
		}
		a.mu.Lock()
		a.silent = append(a.silent, conn)
		a.mu.Unlock()
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		switch _, err := conn.Read(make([]byte, 1)); {
		case err == nil:
			a.silentInExchange.Add(1)
		case !isTimeout(err):
			a.silentRefused.Add(1)
		}
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// link returns one of the links the relay took, in turn.
func (a *abuser) link(i int) *ocirc.ClientLink {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.links) == 0 {
		return nil
	}
	return a.links[i%len(a.links)]
}

// circuit builds a one-hop circuit to the target on one of its links.
func (a *abuser) circuit(ctx context.Context, i int) (*ocirc.Circuit, error) {
	cl := a.link(i)
	if cl == nil {
		return nil, errors.New("no link")
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return cl.Create(cctx, a.target)
}

// extendFlood builds abuseExtends circuits through the target to next.
func (a *abuser) extendFlood(ctx context.Context, next ocirc.Hop) {
	parallel(ctx, abuseExtends, func(i int) {
		c, err := a.circuit(ctx, i)
		if err != nil {
			return
		}
		ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		switch err := c.Extend(ectx, next); {
		case err == nil:
			a.extended.Add(1)
		case strings.Contains(err.Error(), onion.DestroyResource.String()):
			a.extendsRefused.Add(1)
		}
	})
}

// streamFlood opens abuseStreams exit streams to dest from the target,
// spread over two circuits.
func (a *abuser) streamFlood(ctx context.Context, dest string) error {
	var circs [2]*ocirc.Circuit
	for i := range circs {
		c, err := a.circuit(ctx, i)
		if err != nil {
			return fmt.Errorf("circuit for streams: %w", err)
		}
		circs[i] = c
	}
	parallel(ctx, abuseStreams, func(i int) {
		switch err := a.openStream(ctx, circs[i%2], dest, []byte{'x'}, 0); {
		case err == nil:
			a.streamsOpen.Add(1)
		case isEndResource(err):
			a.streamsRefused.Add(1)
		}
	})
	return nil
}

// bufferFlood writes 1 MiB on each of abuseBuffer streams of one circuit
// to dest, which never reads.
func (a *abuser) bufferFlood(ctx context.Context, dest string) error {
	c, err := a.circuit(ctx, 2)
	if err != nil {
		return fmt.Errorf("circuit for buffers: %w", err)
	}
	mib := make([]byte, onion.StreamWindow)
	var wg sync.WaitGroup
	for range abuseBuffer {
		wg.Go(func() {
			if err := a.openStream(ctx, c, dest, mib, 2*time.Second); isEndResource(err) {
				a.streamsEnded.Add(1)
			}
		})
	}
	wg.Wait()
	return nil
}

// openStream opens a stream on c to dest, writes data and waits for
// CONNECTED; then, for linger, for an END for what it wrote.
func (a *abuser) openStream(ctx context.Context, c *ocirc.Circuit, dest string, data []byte, linger time.Duration) error {
	s, err := ocirc.NewClientStream(dest)
	if err != nil {
		return err
	}
	if err := c.Attach(s); err != nil {
		return err
	}
	s.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := s.Write(data); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s.WaitConnected(wctx); err != nil || linger == 0 {
		return err
	}
	s.SetReadDeadline(time.Now().Add(linger))
	if _, err = s.Read(make([]byte, 1)); isTimeout(err) {
		return nil
	}
	return err
}

func isEndResource(err error) bool {
	var se *ocirc.StreamError
	return errors.As(err, &se) && se.Reason == onion.EndResource
}

// close closes everything the abuser holds.
func (a *abuser) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, cl := range a.links {
		cl.Close()
	}
	for _, c := range a.silent {
		c.Close()
	}
}
