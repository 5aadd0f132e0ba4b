package circuit

// The client's side of a link: it allocates circuit ids and hands each cell
// that arrives to its circuit. PROTOCOL.md §2.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"onion/onion"
)

// MaxCircuitsPerLink bounds the circuits one link carries, at a client or
// a relay: a peer cannot make either side hold more.
const MaxCircuitsPerLink = 4096

// ClientLink is a link that this process opened to a relay (its first hop).
type ClientLink struct {
	link   *Link
	logger *slog.Logger
	rand   io.Reader

	mu     sync.Mutex
	circs  map[uint32]*Circuit
	nextID uint32

	readerDone chan struct{}
	cc         atomic.Bool // offer congestion control on new circuits' first stream
}

// SetCongestionControl says whether circuits on this link ask their far
// end for congestion control (§6.1) before their first stream (default:
// on). It applies to circuits whose first stream opens afterwards.
func (cl *ClientLink) SetCongestionControl(on bool) { cl.cc.Store(on) }

// NewClientLink runs the link handshake on conn and starts the reader. rand
// is the entropy for handshakes (nil: crypto/rand); logger may be nil.
func NewClientLink(conn net.Conn, logger *slog.Logger, rand io.Reader) (*ClientLink, error) {
	l, err := Handshake(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cl := &ClientLink{
		link:       l,
		logger:     logger,
		rand:       rand,
		circs:      make(map[uint32]*Circuit),
		nextID:     1,
		readerDone: make(chan struct{}),
	}
	cl.cc.Store(true)
	go cl.reader()
	return cl, nil
}

// Done is closed when the link is closed.
func (cl *ClientLink) Done() <-chan struct{} { return cl.link.Done() }

// Err says why the link closed.
func (cl *ClientLink) Err() error { return cl.link.Err() }

// Close closes the link and with it every circuit on it.
func (cl *ClientLink) Close() error {
	cl.link.Close()
	<-cl.readerDone
	return nil
}

// NumCircuits is the number of open circuits on the link.
func (cl *ClientLink) NumCircuits() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return len(cl.circs)
}

// Create starts a circuit whose first hop is the relay at the far end of
// this link, and waits for CREATED (or ctx).
func (cl *ClientLink) Create(ctx context.Context, first Hop) (*Circuit, error) {
	c, err := cl.newCircuit()
	if err != nil {
		return nil, err
	}
	hs, create, err := onion.NewClientHandshake(cl.rand, first.IdentityKey, first.OnionKey)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.expect.Store(true)
	if err := cl.link.Send(onion.Cell{CircID: c.id, Cmd: onion.CmdCreate, Payload: create}); err != nil {
		c.closeWith(err, false)
		return nil, err
	}
	created, err := c.awaitCtrl(ctx, onion.RelayExtended)
	if err != nil {
		c.closeWith(err, true)
		return nil, fmt.Errorf("create: %w", err)
	}
	keys, err := hs.Finish(created)
	if err != nil {
		c.closeWith(err, true)
		return nil, fmt.Errorf("create: %w", err)
	}
	c.addHop(keys, first)
	return c, nil
}

func (cl *ClientLink) newCircuit() (*Circuit, error) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	select {
	case <-cl.link.Done():
		return nil, cl.link.Err()
	default:
	}
	if len(cl.circs) >= MaxCircuitsPerLink {
		return nil, errors.New("circuit: too many circuits on this link")
	}
	for cl.circs[cl.nextID] != nil || cl.nextID == 0 {
		cl.nextID++
	}
	c := newCircuit(cl, cl.nextID)
	cl.circs[c.id] = c
	cl.nextID++
	return c, nil
}

func (cl *ClientLink) remove(id uint32) {
	cl.mu.Lock()
	delete(cl.circs, id)
	cl.mu.Unlock()
}

func (cl *ClientLink) lookup(id uint32) *Circuit {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.circs[id]
}

// reader hands every cell to its circuit. It owns each circuit's Openers.
func (cl *ClientLink) reader() {
	defer close(cl.readerDone)
	for {
		cell, err := cl.link.ReadCell()
		if err != nil {
			cl.closeAll(fmt.Errorf("link to first hop: %w", cl.link.Err()))
			return
		}
		c := cl.lookup(cell.CircID)
		if c == nil {
			// A cell for a circuit we already tore down: harmless.
			cl.logger.Debug("cell for unknown circuit", "circ", cell.CircID, "cmd", cell.Cmd)
			continue
		}
		c.handleCell(cell)
	}
}

func (cl *ClientLink) closeAll(err error) {
	cl.mu.Lock()
	circs := make([]*Circuit, 0, len(cl.circs))
	for _, c := range cl.circs {
		circs = append(circs, c)
	}
	cl.mu.Unlock()
	for _, c := range circs {
		c.closeWith(err, false)
	}
}
