package hiddenserver

// Relaying a stream to its forward's target (PROTOCOL.md §12.4). The target
// is dialled before the stream is accepted, so a refusing app gives the
// client a refusal, not a connection that closes at once. Two pumps copy
// each way with io.Copy's 32 KiB buffer: a slow app stops the pump that
// writes to it, which stops reading the stream, which stops granting the
// client send window (SENDME), so nothing here buffers without bound.

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"onion/onion"
	"onion/onion/circuit"
)

// Forwarding defaults.
const (
	DefaultMaxStreams  = 256              // concurrent forwarded streams per service
	forwardDialTimeout = 10 * time.Second // a local app answers fast or not at all
)

// forward relays st to f's target; it owns st.
func (s *Server) forward(st *circuit.Stream, f Forward) {
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		s.logger.Warn("forwarded stream refused: the service's stream limit is reached", "port", f.Port, "limit", cap(s.streams))
		st.CloseWithReason(onion.EndResource)
		return
	}
	ctx, cancel := context.WithTimeout(s.runCtx, forwardDialTimeout)
	conn, err := s.cfg.DialForward(ctx, f.Network, f.Addr)
	cancel()
	if err != nil {
		reason := dialReason(err)
		s.logger.Info("forward target did not answer; stream refused", "port", f.Port, "target", f.String(), "reason", reason, "err", err)
		st.CloseWithReason(reason)
		return
	}
	if err := st.Accept(); err != nil {
		conn.Close()
		st.Close()
		return
	}
	splice(s.runCtx, st, conn)
}

// splice copies both ways, passing each side's EOF on as a half-close, and
// returns when both directions are done or ctx ends (both are then closed).
func splice(ctx context.Context, st *circuit.Stream, conn net.Conn) {
	errc := make(chan error, 2)
	go func() { errc <- pump(conn, st) }()
	go func() { errc <- pump(st, conn) }()
	stop := context.AfterFunc(ctx, func() { conn.Close(); st.Close() })
	defer stop()
	for range 2 {
		if err := <-errc; err != nil {
			break // one side failed: tear both down
		}
	}
	conn.Close()
	st.Close()
}

type closeWriter interface{ CloseWrite() error }

// pump copies src to dst and half-closes dst at src's EOF.
func pump(dst io.Writer, src io.Reader) error {
	if _, err := io.Copy(dst, src); err != nil {
		return err
	}
	if cw, ok := dst.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return nil
}

// dialReason is the END reason a failed dial gives the client.
func dialReason(err error) onion.EndReason {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, os.ErrNotExist):
		return onion.EndRefused
	case errors.Is(err, context.DeadlineExceeded), os.IsTimeout(err):
		return onion.EndTimeout
	}
	return onion.EndUnreachable
}

func dialForward(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
