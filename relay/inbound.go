package relay

// Inbound links: cells from the client side of each circuit (PROTOCOL.md §2, §3.1, §4.2).

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"onion/onion"
	"onion/onion/circuit"
)

var linkSeq atomic.Uint64

// inLink is a link someone opened to us. Its reader goroutine owns the
// forward Opener of every circuit on it.
type inLink struct {
	link  *circuit.Link
	id    uint64        // for logs: links are not authenticated, so there is no fingerprint
	peer  peer          // the remote address's, for the per-peer shares
	cells atomic.Uint64 // cells read from it or sent back on it, for watchSilence

	mu    sync.Mutex
	circs map[uint32]*relayCirc
}

// serveInbound runs one accepted connection: the preface, then the link's
// cells until it closes. admit counted it against p's shares; they are
// given back here.
func (r *Relay) serveInbound(conn net.Conn, p peer) {
	defer r.conns.give(p)
	// HandshakeTimeout bounds TLS and the preface together.
	deadline := time.Now().Add(r.cfg.Limits.HandshakeTimeout)
	lconn, err := r.acceptLink(conn, deadline)
	if err != nil {
		r.handshakes.give(p)
		r.stats.tlsFailed(tlsError(err))
		r.refused("refused connection", tlsError(err), "peer", conn.RemoteAddr(), "detail", err)
		return // acceptLink closed conn
	}
	link, err := circuit.HandshakeWithin(lconn, time.Until(deadline))
	r.handshakes.give(p)
	if err != nil {
		r.stats.handshakes[failPreface].Add(1)
		r.refused("refused connection", prefaceError(err), "peer", conn.RemoteAddr(), "detail", err)
		lconn.Close()
		return
	}
	in := &inLink{link: link, id: linkSeq.Add(1), peer: p, circs: make(map[uint32]*relayCirc)}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		link.Close()
		return
	}
	r.inbound[in] = struct{}{}
	r.mu.Unlock()
	r.logger.Debug("link opened", "link", in.id, "peer", conn.RemoteAddr())
	stopWatch := r.watchSilence(in)
	r.readInbound(in)
	stopWatch()

	link.Close()
	r.mu.Lock()
	delete(r.inbound, in)
	r.mu.Unlock()
	in.mu.Lock()
	circs := in.circs
	in.circs = map[uint32]*relayCirc{}
	in.mu.Unlock()
	for _, c := range circs {
		c.destroy(onion.DestroyLinkClosed, fromPrev)
	}
	r.logger.Debug("link closed", "link", in.id, "circuits", len(circs), "err", link.Err())
}

// readInbound handles in's cells until the link fails or a cell breaks it.
func (r *Relay) readInbound(in *inLink) {
	for {
		// A link that carries no circuits may stay silent only so long:
		// otherwise a peer could hold links (and their buffers) for ever.
		// One with circuits is watched by watchSilence, on a longer bound.
		in.mu.Lock()
		idle := len(in.circs) == 0
		in.mu.Unlock()
		if idle {
			in.link.SetIdleTimeout(r.cfg.IdleLinkTimeout)
		} else {
			in.link.SetIdleTimeout(0)
		}
		cell, err := in.link.ReadCell()
		if err != nil {
			return
		}
		in.cells.Add(1)
		r.stats.cell(fwd, cell)
		if err := r.handleInbound(in, cell); err != nil {
			r.logger.Warn("closing link", "link", in.id, "err", err)
			return
		}
	}
}

// handleInbound acts on one cell. An error closes the whole link; a problem
// with one circuit only destroys that circuit.
func (r *Relay) handleInbound(in *inLink, cell onion.Cell) error {
	if cell.CircID == 0 {
		return fmt.Errorf("cell %v on circuit 0", cell.Cmd)
	}
	in.mu.Lock()
	c := in.circs[cell.CircID]
	in.mu.Unlock()
	switch cell.Cmd {
	case onion.CmdCreate:
		if c != nil {
			c.fail(onion.DestroyProtocol, errors.New("CREATE on an existing circuit"))
			return nil
		}
		r.create(in, cell)
	case onion.CmdRelay:
		if c == nil {
			r.logger.Debug("RELAY for unknown circuit", "link", in.id, "circ", cell.CircID)
			return nil
		}
		c.forward(cell.Payload)
	case onion.CmdDestroy:
		if c != nil {
			c.destroy(destroyReason(cell.Payload, onion.DestroyRequested), fromPrev)
		}
	default:
		if c == nil {
			return fmt.Errorf("unexpected %v cell", cell.Cmd)
		}
		c.fail(onion.DestroyProtocol, fmt.Errorf("unexpected %v cell", cell.Cmd))
	}
	return nil
}

// create answers CREATE: a fresh handshake gives this hop's keys.
func (r *Relay) create(in *inLink, cell onion.Cell) {
	reject := func(reason onion.DestroyReason, err error) {
		if errors.Is(err, errLimit) {
			r.refused("refused CREATE", err, "link", in.id, "circ", cell.CircID)
		} else {
			r.logger.Info("refused CREATE", "link", in.id, "circ", cell.CircID, "err", err)
		}
		in.link.Send(onion.Cell{CircID: cell.CircID, Cmd: onion.CmdDestroy, Payload: []byte{byte(reason)}})
	}
	in.mu.Lock()
	full := len(in.circs) >= circuit.MaxCircuitsPerLink
	in.mu.Unlock()
	if full {
		reject(onion.DestroyResource, fmt.Errorf("%w: %d circuits on one link", errLimit, circuit.MaxCircuitsPerLink))
		return
	}
	if err := r.circuits.take(in.peer, r.bounds.circuits); err != nil {
		reject(onion.DestroyResource, err)
		return
	}
	counted := true // until the circuit exists: then destroy uncounts it
	defer func() {
		if counted {
			r.circuits.give(in.peer)
		}
	}()
	created, keys, err := onion.ServerHandshake(r.cfg.Rand, r.keys, cell.Payload)
	if err != nil {
		reason, fail := onion.DestroyProtocol, failCreate
		if errors.Is(err, onion.ErrWrongRelayKeys) {
			reason, fail = onion.DestroyWrongKey, failCreateKeys
		}
		r.stats.handshakes[fail].Add(1)
		reject(reason, err)
		return
	}
	c := newRelayCirc(r, in, cell.CircID, keys)
	in.mu.Lock()
	in.circs[cell.CircID] = c
	in.mu.Unlock()
	counted = false
	r.stats.created.Add(1)
	if err := in.link.Send(onion.Cell{CircID: cell.CircID, Cmd: onion.CmdCreated, Payload: created}); err != nil {
		c.destroy(onion.DestroyLinkClosed, fromPrev)
		return
	}
	r.logger.Debug("circuit created", "link", in.id, "circ", cell.CircID)
}
