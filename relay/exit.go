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
		c.refuse(m.Stream, onion.EndMisc)
		return nil
	}
	id := m.Stream
	s := circuit.NewStream(id, c, func() { c.removeStream(id) }, nil, circuit.StreamAddr(target))
	c.streams[id] = s
	c.mu.Unlock()

	if !c.r.cfg.Exit {
		c.r.logger.Info("refused BEGIN: not an exit", "circ", c.prevID, "stream", id)
		s.CloseWithReason(onion.EndExitPolicy)
		return nil
	}
	c.r.wg.Add(1)
	go func() {
		defer c.r.wg.Done()
		c.connect(s, target)
	}()
	return nil
}

func (c *relayCirc) refuse(id uint16, r onion.EndReason) {
	c.SendMsg(onion.RelayMsg{Cmd: onion.RelayEnd, Stream: id, Body: []byte{byte(r)}})
}

func (c *relayCirc) removeStream(id uint16) {
	c.mu.Lock()
	delete(c.streams, id)
	c.mu.Unlock()
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
	splice(s, conn)
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
// error in either direction ends both.
func splice(s *circuit.Stream, conn net.Conn) {
	errc := make(chan error, 2)
	go func() {
		_, err := io.Copy(s, conn)
		if err == nil {
			err = s.CloseWrite()
		}
		errc <- err
	}()
	go func() {
		_, err := io.Copy(conn, s)
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
