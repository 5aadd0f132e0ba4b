package relay_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// TestRunPublishesThenReady: Run retries the first publication with a
// doubling wait, and only once the directory has the descriptor (with the
// listener's address and the default nickname) does it call Ready. Ending
// ctx ends Run with nil.
func TestRunPublishesThenReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		keys := oniontest.RelayKeys("runner")
		dir := &flakyDirectory{fails: 2}
		logs := oniontest.NewLogs(t)
		ln := newIdleListener()
		start := time.Now()
		ready, stop := runRelay(t, relay.Config{
			Identity: keys.Identity, OnionKey: keys.Onion, Listener: ln, Directory: dir, Logger: logs.Logger(),
		})
		info := <-ready
		if took := time.Since(start); took != 750*time.Millisecond {
			t.Errorf("ready after %v, want 750ms (waits of 250ms and 500ms)", took)
		}
		fp := onion.Fingerprint(keys.ID())
		want := relay.Info{Addr: ln.Addr().String(), Fingerprint: fp, Nickname: "relay" + fp[:8]}
		if info != want {
			t.Errorf("Ready got %+v, want %+v", info, want)
		}
		if d := dir.accepted(); len(d) != 1 || d[0].Address != want.Addr || d[0].Nickname != want.Nickname {
			t.Errorf("directory accepted %+v", d)
		}
		var waits []string
		for _, r := range logs.Find("publishing descriptor failed; retrying", nil) {
			waits = append(waits, r.Attrs["retry_in"])
		}
		if len(waits) != 2 || waits[0] != "250ms" || waits[1] != "500ms" {
			t.Errorf("retry warnings waited %v, want [250ms 500ms]", waits)
		}
		if len(logs.Find("relay running", map[string]string{"fingerprint": fp, "address": want.Addr})) != 1 {
			t.Error(`no "relay running" line`)
		}
		if err := stop(); err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	})
}

// TestRunListenerFails: a listener that fails on its own ends Run with the
// error, even while the directory is still refusing, and Ready is never called.
func TestRunListenerFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		keys := oniontest.RelayKeys("runner")
		broken := errors.New("accept broke")
		err := relay.Run(t.Context(), relay.Config{
			Identity: keys.Identity, OnionKey: keys.Onion,
			Listener:  &brokenListener{idleListener: newIdleListener(), err: broken},
			Directory: &flakyDirectory{fails: 1 << 30},
			Ready:     func(relay.Info) { t.Error("Ready called") },
		})
		if !errors.Is(err, broken) {
			t.Fatalf("Run = %v, want %v", err, broken)
		}
	})
}

// TestRunReadyAfterList: with a relay list to extend by, Run calls Ready
// only once the list has verified, retrying a failed fetch with a doubling
// wait and a warning each time.
func TestRunReadyAfterList(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		keys := oniontest.RelayKeys("runner")
		logs := oniontest.NewLogs(t)
		start := time.Now()
		ready, stop := runRelay(t, relay.Config{
			Identity: keys.Identity, OnionKey: keys.Onion, Listener: newIdleListener(),
			Directory: &flakyDirectory{}, Relays: &flakyList{fails: 3}, Logger: logs.Logger(),
		})
		<-ready
		if took := time.Since(start); took != 1750*time.Millisecond {
			t.Errorf("ready after %v, want 1.75s (waits of 250ms, 500ms and 1s)", took)
		}
		if n := len(logs.Find("fetching relay list failed; keeping the last verified list", nil)); n != 3 {
			t.Errorf("%d fetch warnings, want 3", n)
		}
		if err := stop(); err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	})
}

// runRelay runs relay.Run with cfg in the background. It returns what Run
// reports ready, and stop, which ends Run and returns its result.
func runRelay(t *testing.T, cfg relay.Config) (<-chan relay.Info, func() error) {
	ready := make(chan relay.Info, 1)
	cfg.Ready = func(i relay.Info) { ready <- i }
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- relay.Run(ctx, cfg) }()
	return ready, func() error { cancel(); return <-ran }
}

// flakyList fails the first fails fetches, then gives an empty list.
type flakyList struct {
	mu    sync.Mutex
	fails int
}

func (l *flakyList) Relays(context.Context) (onion.RelayList, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fails > 0 {
		l.fails--
		return onion.RelayList{}, errors.New("directory still starting")
	}
	return onion.RelayList{}, nil
}

func TestRunNeedsAnAddress(t *testing.T) {
	keys := oniontest.RelayKeys("runner")
	if err := relay.Run(t.Context(), relay.Config{Identity: keys.Identity, OnionKey: keys.Onion}); err == nil {
		t.Fatal("Run with neither Listen nor Listener succeeded")
	}
}

// flakyDirectory refuses the first fails publications, then keeps what it gets.
type flakyDirectory struct {
	mu    sync.Mutex
	fails int
	got   []onion.RelayDescriptor
}

func (d *flakyDirectory) Publish(_ context.Context, desc onion.RelayDescriptor) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fails > 0 {
		d.fails--
		return errors.New("directory still starting")
	}
	d.got = append(d.got, desc)
	return nil
}

func (d *flakyDirectory) accepted() []onion.RelayDescriptor {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]onion.RelayDescriptor(nil), d.got...)
}

// idleListener accepts nothing until it is closed; Accept blocks on a
// channel, so a synctest bubble sees it durably blocked.
type idleListener struct {
	closed chan struct{}
	once   sync.Once
}

func newIdleListener() *idleListener { return &idleListener{closed: make(chan struct{})} }

func (l *idleListener) Accept() (net.Conn, error) {
	<-l.closed
	return nil, net.ErrClosed
}

func (l *idleListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *idleListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 9001}
}

// brokenListener fails every Accept with err.
type brokenListener struct {
	*idleListener
	err error
}

func (l *brokenListener) Accept() (net.Conn, error) { return nil, l.err }

// TestRunNeedsAddressOnEveryInterface: a relay listening on every
// interface without an address to publish does not start, and says to
// give --address; with one, it publishes that.
func TestRunNeedsAddressOnEveryInterface(t *testing.T) {
	keys := oniontest.RelayKeys("runner")
	err := relay.Run(t.Context(), relay.Config{Identity: keys.Identity, OnionKey: keys.Onion, Listen: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "--address HOST:PORT") {
		t.Fatalf("Run on 0.0.0.0 without an address = %v, want an error naming --address", err)
	}
	ready, stop := runRelay(t, relay.Config{Identity: keys.Identity, OnionKey: keys.Onion, Listen: "0.0.0.0:0", Address: "203.0.113.5:9001"})
	if info := <-ready; info.Addr != "203.0.113.5:9001" {
		t.Errorf("published %q, want the address given", info.Addr)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}
