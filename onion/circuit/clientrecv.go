package circuit

// What a client circuit does with a cell from its first hop: peel the
// backward layers (PROTOCOL.md §4.3) and act on the relay message.

import (
	"fmt"

	"onion/onion"
)

// handleCell runs on the link's reader goroutine.
func (c *Circuit) handleCell(cell onion.Cell) {
	switch cell.Cmd {
	case onion.CmdCreated:
		if len(*c.hops.Load()) != 0 {
			c.fail(fmt.Errorf("%w: CREATED on a built circuit", ErrProtocol))
			return
		}
		c.deliverCtrl(ctrlMsg{cmd: onion.RelayExtended, body: cell.Payload})
	case onion.CmdRelay:
		c.bytesIn.Add(uint64(len(cell.Payload)))
		hop, m, err := c.peel(cell.Payload)
		if err != nil {
			c.fail(err)
			return
		}
		if err := c.handleMsg(hop, m, cell.Payload); err != nil {
			c.fail(err)
		}
	case onion.CmdDestroy:
		reason := onion.DestroyNone
		if len(cell.Payload) > 0 {
			reason = onion.DestroyReason(cell.Payload[0])
		}
		c.cl.logger.Info("circuit destroyed by relay", "circ", c.id, "reason", reason)
		c.closeWith(fmt.Errorf("destroyed by relay: %v", reason), false)
	default:
		c.fail(fmt.Errorf("%w: unexpected %v cell", ErrProtocol, cell.Cmd))
	}
}

// fail tears the circuit down for a reason worth logging.
func (c *Circuit) fail(err error) {
	c.cl.logger.Warn("tearing down circuit", "circ", c.id, "err", err)
	c.closeWith(err, true)
}

// peel removes one backward layer per hop until it finds the hop that
// originated the message.
func (c *Circuit) peel(tok []byte) (int, onion.RelayMsg, error) {
	hops := *c.hops.Load()
	for i, h := range hops {
		kind, body, err := h.back.OpenInPlace(tok) // the cell's own buffer
		if err != nil {
			return 0, onion.RelayMsg{}, &LayerError{Hop: i + 1, Err: err}
		}
		if kind == onion.KindMessage {
			var m onion.RelayMsg
			if err := m.UnmarshalBinary(body); err != nil {
				return 0, m, fmt.Errorf("message from hop %d: %w", i+1, err)
			}
			return i, m, nil
		}
		tok = body
	}
	return 0, onion.RelayMsg{}, fmt.Errorf("%w: cell has more layers than the circuit has hops", ErrProtocol)
}

// handleMsg acts on m, from hop; m's body lies in buf, the cell's pooled
// buffer, which a stream may recycle once it has handed the data on.
func (c *Circuit) handleMsg(hop int, m onion.RelayMsg, buf []byte) error {
	last := len(*c.hops.Load()) - 1
	switch m.Cmd {
	case onion.RelayExtended, onion.RelayExtendFailed:
		if hop != last {
			return fmt.Errorf("%w: %v from hop %d, not the last", ErrProtocol, m.Cmd, hop+1)
		}
		c.deliverCtrl(ctrlMsg{cmd: m.Cmd, body: m.Body})
		return nil
	case onion.RelayConnected, onion.RelayData, onion.RelayEnd, onion.RelaySendme, onion.RelayResolved:
		if hop != last || m.Stream == 0 || c.e2e.Load() != nil {
			return fmt.Errorf("%w: %v from hop %d on stream %d", ErrProtocol, m.Cmd, hop+1, m.Stream)
		}
		if m.Cmd == onion.RelayData {
			c.countData()
		}
		return c.deliverStream(m, buf)
	case onion.RelayCCAccept, onion.RelayCircuitSendme:
		if hop != last || m.Stream != 0 || c.e2e.Load() != nil {
			return fmt.Errorf("%w: %v from hop %d on stream %d", ErrProtocol, m.Cmd, hop+1, m.Stream)
		}
		return c.ccMsg(m)
	case onion.RelayMet, onion.RelayMeetFailed, onion.RelayEstablished:
		if hop != last {
			return fmt.Errorf("%w: %v from hop %d, not the last", ErrProtocol, m.Cmd, hop+1)
		}
		c.deliverCtrl(ctrlMsg{cmd: m.Cmd, body: m.Body})
		return nil
	case onion.RelayE2E, onion.RelayE2EEnd, onion.RelayIntroduce:
		if hop != last {
			return fmt.Errorf("%w: %v from hop %d, not the last", ErrProtocol, m.Cmd, hop+1)
		}
		if svc := c.svc.Load(); svc != nil {
			return svc.handle(c, m, buf)
		}
		return c.handleE2E(m, buf)
	}
	return fmt.Errorf("%w: unexpected %v from hop %d", ErrProtocol, m.Cmd, hop+1)
}

func (c *Circuit) deliverStream(m onion.RelayMsg, buf []byte) error {
	c.mu.Lock()
	s := c.streams[m.Stream]
	c.mu.Unlock()
	if s == nil {
		return nil // the stream closed here first; the far end will hear our END
	}
	return s.DeliverFrom(m, buf)
}

// deliverCtrl hands a build answer to the builder. An answer nobody asked
// for is a protocol error.
func (c *Circuit) deliverCtrl(m ctrlMsg) {
	if !c.expect.CompareAndSwap(true, false) {
		c.fail(fmt.Errorf("%w: unsolicited %v", ErrProtocol, m.cmd))
		return
	}
	select {
	case c.ctrl <- m:
	default:
		c.fail(fmt.Errorf("%w: unsolicited %v", ErrProtocol, m.cmd))
	}
}
