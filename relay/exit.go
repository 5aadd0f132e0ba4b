package relay

// The exit: BEGIN opens a TCP connection to host:port, resolved here
// (PROTOCOL.md §5.2), and splices it to a stream.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"onion/onion"
	"onion/onion/circuit"
)

func (c *relayCirc) begin(m onion.RelayMsg) error {
	if m.Stream == 0 {
		return errors.New("BEGIN on stream 0")
	}
	target := string(m.Body)
	if _, _, err := onion.SplitHostPort(target); err != nil {
		return err
	}
	c.mu.Lock()
	switch {
	case c.next != nil || c.extending:
		c.mu.Unlock()
		return errors.New("BEGIN on a relay that is not the last hop")
	case c.streams[m.Stream] != nil:
		c.mu.Unlock()
		return fmt.Errorf("BEGIN on open stream %d", m.Stream)
	case len(c.streams) >= circuit.MaxStreamsPerCircuit:
		c.mu.Unlock()
		c.r.refused("refused BEGIN", fmt.Errorf("%w: %d streams on one circuit", errLimit, circuit.MaxStreamsPerCircuit),
			"circ", c.prevID, "stream", m.Stream)
		c.refuse(m.Stream, onion.EndResource)
		return nil
	}
	id := m.Stream
	var s *circuit.Stream
	s = circuit.NewStream(id, c, func() { c.removeStream(id, s) }, nil, circuit.StreamAddr(target))
	c.streams[id] = s
	c.holdStreamLocked(s)
	c.mu.Unlock()

	if !c.r.cfg.Exit {
		c.r.logger.Info("refused BEGIN: not an exit", "circ", c.prevID, "stream", id)
		s.CloseWithReason(onion.EndExitPolicy)
		return nil
	}
	// Counted from BEGIN until the connection closes, dialling included.
	p := c.prev.peer
	if err := c.r.exitConns.take(p, c.r.bounds.exitConns); err != nil {
		c.r.refused("refused BEGIN", err, "circ", c.prevID, "stream", id)
		s.CloseWithReason(onion.EndResource)
		return nil
	}
	c.r.wg.Add(1)
	go func() {
		defer c.r.wg.Done()
		defer c.r.exitConns.give(p)
		c.connect(s, target)
	}()
	return nil
}

func (c *relayCirc) refuse(id uint16, r onion.EndReason) {
	c.SendMsg(onion.RelayMsg{Cmd: onion.RelayEnd, Stream: id, Body: []byte{byte(r)}})
}

// removeStream forgets s, once it is over both ways, and what it held.
func (c *relayCirc) removeStream(id uint16, s *circuit.Stream) {
	c.mu.Lock()
	if c.streams[id] == s { // the id may be in use by a new stream already
		delete(c.streams, id)
	}
	c.releaseLocked(s, -1)
	c.mu.Unlock()
}

// streamMsg passes DATA, END and SENDME to their exit stream. DATA is
// counted against the exit's buffer budget first: past it, the stream ends
// with END(resource) instead.
func (c *relayCirc) streamMsg(m onion.RelayMsg, buf []byte) error {
	if m.Stream == 0 {
		return fmt.Errorf("%v on stream 0", m.Cmd)
	}
	if m.Cmd == onion.RelayData {
		c.recv.Load().Count()
	}
	c.mu.Lock()
	s := c.streams[m.Stream]
	var over error
	if s != nil && m.Cmd == onion.RelayData {
		over = c.holdLocked(s, len(m.Body))
	}
	c.mu.Unlock()
	if s == nil {
		return nil // closed here already; the client hears our END
	}
	if over != nil {
		c.r.refused("ending exit stream", over, "circ", c.prevID, "stream", m.Stream)
		s.CloseWithReason(onion.EndResource)
		c.dropExit(s)
		return nil
	}
	if err := s.DeliverFrom(m, buf); err != nil {
		return err
	}
	if m.Cmd == onion.RelayEnd && onion.EndReason(m.Body[0]) != onion.EndDone {
		c.dropExit(s) // Deliver checked the body; the client aborted the stream
	}
	return nil
}

// connect dials the destination and splices it to the stream.
func (c *relayCirc) connect(s *circuit.Stream, target string) {
	log := c.r.logger.With("circ", c.prevID, "stream", s.ID())
	ctx, cancel := context.WithTimeout(context.Background(), c.r.cfg.ConnectTimeout)
	conn, err := c.r.cfg.DialExit(ctx, "tcp", target)
	cancel()
	if err != nil {
		reason := endReason(err)
		log.Info("exit connect failed", "reason", reason)
		log.Debug("exit connect failed", "target", target, "err", err)
		s.CloseWithReason(reason)
		return
	}
	defer conn.Close()
	if !c.trackExit(s, conn) {
		s.Abort(circuit.ErrCircuitClosed)
		return
	}
	defer c.untrackExit(s)
	if err := c.SendMsg(onion.RelayMsg{Cmd: onion.RelayConnected, Stream: s.ID()}); err != nil {
		s.Abort(err)
		return
	}
	log.Debug("exit stream open", "target", target)
	splice(s, conn, destReader{c, s})
}

// trackExit records conn as s's destination so that the stream's or the
// circuit's end closes it: a destination that neither reads nor writes would
// otherwise hold both copies in splice (and Serve's shutdown) forever, since
// a stream's abort only wakes a copy that waits on the stream. It reports
// false if the circuit is already gone.
func (c *relayCirc) trackExit(s *circuit.Stream, conn net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return false
	}
	if c.exits == nil {
		c.exits = make(map[*circuit.Stream]net.Conn)
	}
	c.exits[s] = conn
	return true
}

func (c *relayCirc) untrackExit(s *circuit.Stream) {
	c.mu.Lock()
	delete(c.exits, s)
	c.mu.Unlock()
}

// dropExit closes s's destination conn, if it has one.
func (c *relayCirc) dropExit(s *circuit.Stream) {
	c.mu.Lock()
	conn := c.exits[s]
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
}

// splice copies both ways and half-closes each direction at its EOF. An
// error in either direction ends both. fromStream reads s (for the
// destination).
func splice(s *circuit.Stream, conn net.Conn, fromStream io.Reader) {
	errc := make(chan error, 2)
	go func() {
		_, err := io.Copy(s, conn)
		if err == nil {
			err = s.CloseWrite()
		}
		errc <- err
	}()
	go func() {
		_, err := io.Copy(conn, fromStream)
		if err == nil {
			if cw, ok := conn.(interface{ CloseWrite() error }); ok {
				err = cw.CloseWrite()
			}
		}
		errc <- err
	}()
	for i := 0; i < 2; i++ {
		if err := <-errc; err != nil {
			// Unblock the other direction: it may be waiting on either side.
			conn.Close()
			s.Close()
		}
	}
	s.Close()
}

// endReason maps a dial error to the END reason the client sees.
func endReason(err error) onion.EndReason {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, errPolicy):
		return onion.EndExitPolicy
	case errors.As(err, &dnsErr):
		return onion.EndResolve
	case errors.Is(err, syscall.ECONNREFUSED):
		return onion.EndRefused
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return onion.EndUnreachable
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return onion.EndTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return onion.EndTimeout
	}
	return onion.EndMisc
}
