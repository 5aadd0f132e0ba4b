package circuit

// Hidden services, client side (PROTOCOL.md §11): MEET through the last hop
// and an end-to-end layer to the service inside the circuit's own layers.

import (
	"context"
	"fmt"

	"onion/onion"
)

// e2eLayer is the client's end-to-end layer with a hidden service.
type e2eLayer struct {
	fwd  *onion.Sealer // guarded by Circuit.sendMu
	back *onion.Opener // owned by the link's reader
}

// MeetError is a meeting relay's refusal to join us to a service.
type MeetError struct{ Reason onion.MeetReason }

func (e *MeetError) Error() string { return "meeting relay: " + e.Reason.String() }

// Meet asks the last hop, a meeting relay, to join this circuit to the
// service with the given keys, and runs the end-to-end handshake against the
// service's e2e key. Afterwards streams opened on the circuit go to the
// service, sealed in the end-to-end layer the meeting relay cannot read.
func (c *Circuit) Meet(ctx context.Context, serviceKey, e2eKey []byte) error {
	hs, create, err := onion.NewClientHandshake(c.cl.rand, serviceKey, e2eKey)
	if err != nil {
		return err
	}
	last := len(*c.hops.Load()) - 1
	c.expect.Store(true)
	if err := c.sendTo(last, onion.RelayMsg{Cmd: onion.RelayMeet, Body: create}); err != nil {
		return err
	}
	created, err := c.awaitCtrl(ctx, onion.RelayMet)
	if err != nil {
		return fmt.Errorf("meet: %w", err)
	}
	keys, err := hs.Finish(created)
	if err != nil {
		// The answer did not come from the holder of the service's key.
		c.closeWith(err, true)
		return fmt.Errorf("meet: service handshake: %w", err)
	}
	c.e2e.Store(&e2eLayer{fwd: onion.NewSealer(keys.Forward), back: onion.NewOpener(keys.Backward)})
	return nil
}

// handleE2E opens a token from the service and acts on the message inside.
func (c *Circuit) handleE2E(m onion.RelayMsg, buf []byte) error {
	l := c.e2e.Load()
	if l == nil {
		return fmt.Errorf("%w: %v before MET", ErrProtocol, m.Cmd)
	}
	if m.Cmd == onion.RelayE2EEnd {
		c.cl.logger.Info("hidden service session ended", "circ", c.id)
		c.closeWith(fmt.Errorf("%w: hidden service session ended", ErrCircuitClosed), true)
		return nil
	}
	if m.Cmd != onion.RelayE2E {
		return fmt.Errorf("%w: %v on a client circuit", ErrProtocol, m.Cmd)
	}
	inner, err := openE2E(l.back, m.Body)
	if err != nil {
		return err
	}
	if inner.Stream == 0 {
		return c.ccMsg(inner)
	}
	if inner.Cmd == onion.RelayData {
		c.countData()
	}
	return c.deliverStream(inner, buf) // opened in place: inner's body lies in buf
}

// openE2E opens one end-to-end token (in place: it is the body of a cell
// this side owns) and returns the stream message inside. Both ends of a
// hidden-service session use it.
func openE2E(o *onion.Opener, tok []byte) (onion.RelayMsg, error) {
	var m onion.RelayMsg
	kind, body, err := o.OpenInPlace(tok)
	if err != nil {
		return m, fmt.Errorf("end-to-end layer: %w", err)
	}
	if kind != onion.KindMessage {
		return m, fmt.Errorf("%w: end-to-end layer of kind %v", ErrProtocol, kind)
	}
	if err := m.UnmarshalBinary(body); err != nil {
		return m, err
	}
	if m.Stream == 0 && !isCCMsg(m.Cmd) {
		return m, fmt.Errorf("%w: %v on stream 0 inside the end-to-end layer", ErrProtocol, m.Cmd)
	}
	return m, nil
}

// isCCMsg reports whether cmd is congestion control's (§6.1), the only
// messages on stream 0 inside the end-to-end layer.
func isCCMsg(cmd onion.RelayCmd) bool {
	return cmd == onion.RelayCCOffer || cmd == onion.RelayCCAccept || cmd == onion.RelayCircuitSendme
}
