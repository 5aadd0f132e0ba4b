package client

// A small network for the client's tests, all in memory: relays (package
// relay) served on listeners that hand out net.Pipe ends, exits whose
// connects the test answers, a fixed relay list for a Directory and a clock
// the test moves. Pipes block on channels, so the whole network runs inside
// a testing/synctest bubble: synctest.Wait says when it has settled, and no
// test sleeps to find out.

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// fakeClock is Config.Now for a test: it moves only when the test says.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixedDir is a Directory that always returns the same relays.
type fixedDir struct{ relays []onion.RelayDescriptor }

func (d fixedDir) Relays(context.Context) (onion.RelayList, error) {
	return onion.RelayList{Relays: d.relays}, nil
}

// descriptor is a signed descriptor of a relay that need not run: path
// choice only reads the list.
func descriptor(i int, exit bool) onion.RelayDescriptor {
	k := oniontest.RelayKeys(fmt.Sprintf("relay%d", i))
	d := onion.RelayDescriptor{
		Nickname: fmt.Sprintf("relay%d", i),
		Address:  fmt.Sprintf("10.%d.0.1:9001", i), // distinct /16s: the subnet rule holds
		OnionKey: k.OnionPub(),
		Exit:     exit,
	}
	d.Sign(k.Identity)
	return d
}

// descriptors returns n descriptors, the first exits of them exits.
func descriptors(n, exits int) []onion.RelayDescriptor {
	out := make([]onion.RelayDescriptor, n)
	for i := range out {
		out[i] = descriptor(i+1, i < exits)
	}
	return out
}

// destinations is what the exits connect to: an echo at every address
// unless refused, and a gate that can hold the next connect.
type destinations struct {
	mu      sync.Mutex
	refused map[string]bool
	gate    oniontest.Gate // can hold the next connect
	wg      sync.WaitGroup
}

func (d *destinations) refuse(addr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.refused == nil {
		d.refused = map[string]bool{}
	}
	d.refused[addr] = true
}

func (d *destinations) dial(ctx context.Context, _, addr string) (net.Conn, error) {
	if err := d.gate.Pass(ctx); err != nil {
		return nil, err
	}
	d.mu.Lock()
	refused := d.refused[addr]
	d.mu.Unlock()
	if refused {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	ours, theirs := net.Pipe()
	d.wg.Go(func() {
		io.Copy(theirs, theirs) // echo until the exit closes its end
		theirs.Close()
	})
	return ours, nil
}

// testNet is a running in-memory network of relays.
type testNet struct {
	net    *oniontest.MemNet
	dests  *destinations
	relays []onion.RelayDescriptor
	logs   *oniontest.Logs
}

// startNet runs n relays, the first exits of them exits, until the test
// ends.
func startNet(t *testing.T, n, exits int) *testNet {
	t.Helper()
	tn := &testNet{net: oniontest.NewMemNet(), dests: &destinations{}, logs: oniontest.NewLogs(t)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		tn.dests.wg.Wait()
	})
	list := fixedDir{descriptors(n, exits)} // what the relays extend by
	for i := 1; i <= n; i++ {
		k := oniontest.RelayKeys(fmt.Sprintf("relay%d", i))
		cfg := relay.Config{
			Identity: k.Identity,
			OnionKey: k.Onion,
			Nickname: fmt.Sprintf("relay%d", i),
			Address:  fmt.Sprintf("10.%d.0.1:9001", i), // distinct /16s: the subnet rule holds
			Exit:     i <= exits,
			Policy:   relay.AcceptAll,
			Relays:   list,
			DialLink: tn.net.Dial,
			DialExit: tn.dests.dial,
			Logger:   tn.logs.Logger().With("role", fmt.Sprintf("relay%d", i)),
		}
		r, err := relay.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ln := tn.net.Listen(cfg.Address)
		wg.Go(func() { r.Serve(ctx, ln) })
		tn.relays = append(tn.relays, r.Descriptor())
	}
	return tn
}

// manager returns a Manager over tn with a fixed Rand, the clock given,
// and the relay list loaded; it closes when the test ends. edit may change
// its Config first.
func (tn *testNet) manager(t *testing.T, clock *fakeClock, edit func(*Config)) *Manager {
	t.Helper()
	cfg := Config{
		Directory: fixedDir{tn.relays},
		DialLink:  tn.net.Dial,
		Logger:    tn.logs.Logger().With("role", "client"),
		Rand:      oniontest.Rand(1),
		Now:       clock.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	m := NewManager(cfg)
	t.Cleanup(m.Close)
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// dialEcho opens a stream to the echo at addr and checks one round trip.
func dialEcho(t *testing.T, m *Manager, req DialRequest) net.Conn {
	t.Helper()
	c, err := m.DialStream(stepContext(t), req)
	if err != nil {
		t.Fatalf("DialStream %+v: %v", req, err)
	}
	roundTrip(t, c, "ping")
	return c
}

func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo = %q, %v; want %q", got, err, msg)
	}
}

// echoAt is a request to the echo destination at port.
func echoAt(port uint16) DialRequest { return DialRequest{Host: "192.0.2.1", Port: port} }

// stepContext bounds one step of a test (fake time inside a bubble: it
// ends only if the step is stuck).
func stepContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// circuitIDs lists the IDs of the manager's live circuits.
func circuitIDs(m *Manager) []int {
	var ids []int
	for _, c := range m.Circuits() {
		ids = append(ids, c.ID)
	}
	return ids
}

// relay returns the listed relay called nickname, or nil.
func (tn *testNet) relay(nickname string) *onion.RelayDescriptor {
	for i := range tn.relays {
		if tn.relays[i].Nickname == nickname {
			return &tn.relays[i]
		}
	}
	return nil
}
