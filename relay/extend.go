package relay

// EXTEND: links to next relays, shared by every circuit that goes there
// (PROTOCOL.md §3.3).

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"

	"onion/onion"
	"onion/onion/circuit"
)

// outLink is a link this relay opened to another relay.
type outLink struct {
	r    *Relay
	key  outKey
	link *circuit.Link

	mu      sync.Mutex
	circs   map[uint32]*relayCirc
	pending map[uint32]chan []byte // CREATE sent, CREATED awaited
	nextID  uint32
	shares  share // circuits (pending ones too) by their previous hop's peer
}

// outEntry lets concurrent EXTENDs to one relay share one dial.
type outEntry struct {
	ready chan struct{}
	link  *outLink
	err   error
}

// extend starts extending the circuit; the answer goes back asynchronously.
func (c *relayCirc) extend(m onion.RelayMsg) error {
	var e onion.Extend
	if err := e.UnmarshalBinary(m.Body); err != nil {
		return err
	}
	c.mu.Lock()
	busy := c.next != nil || c.extending
	c.extending = true
	c.mu.Unlock()
	if busy {
		return errors.New("EXTEND on a circuit that already has a next hop")
	}
	create := append([]byte(nil), e.Create...)
	c.r.wg.Add(1)
	go func() {
		defer c.r.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), c.r.cfg.ExtendTimeout)
		defer cancel()
		created, err := c.doExtend(ctx, e.Address, create)
		if err != nil {
			c.extendFailed(err, create[:onion.KeyLen], e.Address)
			return
		}
		c.SendMsg(onion.RelayMsg{Cmd: onion.RelayExtended, Body: created})
	}()
	return nil
}

// extendFailed logs why an EXTEND to the relay with identity key id at addr
// failed (addr only at debug: a client chose it) and answers EXTEND_FAILED.
func (c *relayCirc) extendFailed(err error, id []byte, addr string) {
	reason := extendFailReason(err)
	if errors.Is(err, errNotListed) {
		reason = onion.DestroyNotListed
	}
	c.r.logger.Info("extend failed", "circ", c.prevID, "peer", onion.Fingerprint(id), "reason", reason, "err", err)
	c.r.logger.Debug("extend failed", "circ", c.prevID, "to", addr)
	c.mu.Lock()
	c.extending = false
	c.mu.Unlock()
	c.SendMsg(onion.RelayMsg{Cmd: onion.RelayExtendFailed, Body: []byte{byte(reason)}})
}

// doExtend links to the next relay (CREATE's first bytes are its identity
// key) at addr, if the relay list allows, and returns its CREATED. The
// link's TLS pins that identity key (PROTOCOL.md §3.3): for a listed
// relay it is the key listed at addr; for a connect-back it is the key
// the requester named, so only the requester's own listener passes.
func (c *relayCirc) doExtend(ctx context.Context, addr string, create []byte) (_ []byte, err error) {
	next := create[:onion.KeyLen]
	if err := c.mayExtend(ctx, next, addr); err != nil {
		return nil, err
	}
	out, err := c.r.outLink(ctx, outKey{addr: addr, id: string(next)})
	if err != nil {
		return nil, err
	}
	// One peer may hold only its share of the link: it carries every
	// client's circuits between this relay and the next. destroy gives
	// back what a circuit that got its next hop took.
	if err := out.shares.take(c.prev.peer, c.r.bounds.next); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			out.shares.give(c.prev.peer)
		}
	}()
	id, ch, err := out.register()
	if err != nil {
		return nil, err
	}
	if err := out.link.Send(onion.Cell{CircID: id, Cmd: onion.CmdCreate, Payload: create}); err != nil {
		out.unregister(id)
		return nil, err
	}
	select {
	case created, ok := <-ch:
		if !ok {
			return nil, errors.New("next relay refused CREATE")
		}
		if len(created) != onion.CreatedLen {
			out.link.Send(onion.Cell{CircID: id, Cmd: onion.CmdDestroy, Payload: []byte{byte(onion.DestroyProtocol)}})
			return nil, fmt.Errorf("next relay sent a %d-byte CREATED", len(created))
		}
		c.mu.Lock()
		dead := c.dead
		if !dead {
			c.next, c.nextID, c.extending = out, id, false
		}
		c.mu.Unlock()
		out.mu.Lock()
		delete(out.pending, id)
		if !dead {
			out.circs[id] = c
		}
		out.mu.Unlock()
		if dead {
			out.link.Send(onion.Cell{CircID: id, Cmd: onion.CmdDestroy, Payload: []byte{byte(onion.DestroyRequested)}})
			return nil, circuit.ErrCircuitClosed
		}
		return created, nil
	case <-out.link.Done():
		return nil, out.link.Err()
	case <-ctx.Done():
		out.unregister(id)
		out.link.Send(onion.Cell{CircID: id, Cmd: onion.CmdDestroy, Payload: []byte{byte(onion.DestroyTimeout)}})
		return nil, fmt.Errorf("waiting for CREATED: %w", ctx.Err())
	}
}

// mayExtend allows an EXTEND to this relay itself, to a relay listed at
// addr with identity key id, or a connect-back (connectback.go). A relay
// not known may have been listed since the last fetch: it waits for one
// more (shared, and spaced by listRefreshGap) before refusing with
// errNotListed.
func (c *relayCirc) mayExtend(ctx context.Context, id []byte, addr string) error {
	r := c.r
	if bytes.Equal(id, r.keys.ID) && addr == r.cfg.Address {
		return nil
	}
	if c.connectBack(addr) {
		return nil
	}
	if r.list == nil {
		return errNotListed
	}
	if r.list.allows(id, addr) {
		return nil
	}
	r.list.refresh(ctx)
	if r.list.allows(id, addr) {
		return nil
	}
	return errNotListed
}

// outLink returns the link to the relay k names, dialing it if there is none.
func (r *Relay) outLink(ctx context.Context, k outKey) (*outLink, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, errors.New("relay shutting down")
	}
	e := r.out[k]
	if e != nil {
		r.mu.Unlock()
		select {
		case <-e.ready:
			return e.link, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	e = &outEntry{ready: make(chan struct{})}
	r.out[k] = e
	r.mu.Unlock()

	link, err := r.dialOut(ctx, k)
	r.mu.Lock()
	if err == nil && r.closed {
		link.link.Close()
		link, err = nil, errors.New("relay shutting down")
	}
	if err != nil {
		delete(r.out, k)
	}
	e.link, e.err = link, err
	r.mu.Unlock()
	close(e.ready)
	return link, err
}

func (r *Relay) dialOut(ctx context.Context, k outKey) (*outLink, error) {
	conn, err := r.dialLink(ctx, k.addr, ed25519.PublicKey(k.id))
	if err != nil {
		return nil, fmt.Errorf("link to next relay: %w", err)
	}
	link, err := circuit.Handshake(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("link to next relay: %w", err)
	}
	out := &outLink{
		r: r, key: k, link: link,
		circs:   make(map[uint32]*relayCirc),
		pending: make(map[uint32]chan []byte),
		nextID:  1,
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		out.reader()
	}()
	return out, nil
}

func (o *outLink) register() (uint32, chan []byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.circs)+len(o.pending) >= circuit.MaxCircuitsPerLink {
		return 0, nil, errors.New("too many circuits on the link to the next relay")
	}
	// Every id has relayCircBit set: the next relay learns that the
	// circuit has a previous relay (connectback.go).
	id := o.nextID | relayCircBit
	for id == relayCircBit || o.circs[id] != nil || o.pending[id] != nil {
		o.nextID++
		id = o.nextID | relayCircBit
	}
	o.nextID++
	ch := make(chan []byte, 1)
	o.pending[id] = ch
	return id, ch, nil
}

func (o *outLink) unregister(id uint32) {
	o.mu.Lock()
	delete(o.pending, id)
	o.mu.Unlock()
}

func (o *outLink) remove(id uint32) {
	o.mu.Lock()
	delete(o.circs, id)
	o.mu.Unlock()
}

// reader carries cells from the next hop back toward the client.
func (o *outLink) reader() {
	for {
		cell, err := o.link.ReadCell()
		if err != nil {
			break
		}
		if err := o.handle(cell); err != nil {
			o.r.logger.Warn("closing link to next relay", "err", err)
			break
		}
	}
	o.link.Close()
	o.r.mu.Lock()
	if e := o.r.out[o.key]; e != nil && e.link == o {
		delete(o.r.out, o.key)
	}
	o.r.mu.Unlock()
	o.mu.Lock()
	circs := o.circs
	o.circs = map[uint32]*relayCirc{}
	for id, ch := range o.pending {
		close(ch)
		delete(o.pending, id)
	}
	o.mu.Unlock()
	for _, c := range circs {
		c.destroy(onion.DestroyLinkClosed, fromNext)
	}
}

func (o *outLink) handle(cell onion.Cell) error {
	o.mu.Lock()
	c := o.circs[cell.CircID]
	ch := o.pending[cell.CircID]
	if ch != nil && cell.Cmd != onion.CmdRelay {
		delete(o.pending, cell.CircID)
	}
	o.mu.Unlock()
	switch {
	case ch != nil && cell.Cmd == onion.CmdCreated:
		ch <- cell.Payload // buffered: never blocks
	case ch != nil && cell.Cmd == onion.CmdDestroy:
		close(ch)
	case c == nil:
		o.r.logger.Debug("cell for unknown circuit from next relay", "circ", cell.CircID, "cmd", cell.Cmd)
	case cell.Cmd == onion.CmdRelay:
		// Our layer must still fit a cell: a next hop that sends more is
		// broken or hostile, and the circuit ends rather than the process.
		if onion.SealedLen(len(cell.Payload)) > onion.MaxCellPayload {
			c.fail(onion.DestroyProtocol, fmt.Errorf("next relay sent a %d-byte cell: no room for our layer", len(cell.Payload)))
			return nil
		}
		err := c.sendBack(onion.KindForward, cell.Payload)
		onion.Recycle(cell.Payload) // sealed into our layer: a copy went on
		if err != nil {
			c.destroy(onion.DestroyLinkClosed, fromPrev)
		}
	case cell.Cmd == onion.CmdDestroy:
		// Pass the next hop's reason on, so the client learns why (a
		// failed layer, say) and not just that a link closed.
		c.destroy(destroyReason(cell.Payload, onion.DestroyLinkClosed), fromNext)
	default:
		c.fail(onion.DestroyProtocol, fmt.Errorf("unexpected %v from next relay", cell.Cmd))
	}
	return nil
}
