// Package sockopt holds the TCP options of links between onion nodes: they
// let either end notice a dead peer (a host that lost its network, not one
// that closed its socket) within seconds rather than TCP's default quarter
// hour, without harming a healthy link on a loaded machine, since only the
// peer's kernel must answer in time: its acks and its keepalive replies.
//
//   - The ack watch (Linux): a link whose sent data has waited AckTimeout
//     with no ack at all from the peer is closed: a download on a dead link
//     ends. It reads the kernel's TCP_INFO every WatchEvery.
//   - Keepalive: an idle link probes its peer after KeepAliveIdle, and fails
//     after KeepAliveCount unanswered probes KeepAliveInterval apart: 3 s.
//     A link is idle with a download on it when the sender waits for the
//     congestion window (nothing unacknowledged, nothing to ack), so this
//     bound is the ack watch's too; a probe a second is 60 bytes.
//   - DialTimeout bounds a connect to a host that does not answer.
//
// Not TCP_USER_TIMEOUT: Linux also applies it to a zero window, so a
// healthy peer that stops reading for that long (a relay whose next hop is
// slow, a busy proxy) has its link killed, although its kernel answers
// every window probe. The ack watch counts those answers as acks.
//
// It does not dial for anyone or retry.
package sockopt

import (
	"context"
	"net"
	"time"
)

// The bounds; see the package doc.
const (
	AckTimeout        = 3 * time.Second
	WatchEvery        = 500 * time.Millisecond
	DialTimeout       = 5 * time.Second
	KeepAliveIdle     = 1 * time.Second
	KeepAliveInterval = 1 * time.Second
	KeepAliveCount    = 2
)

var keepAlive = net.KeepAliveConfig{
	Enable:   true,
	Idle:     KeepAliveIdle,
	Interval: KeepAliveInterval,
	Count:    KeepAliveCount,
}

// Dialer is a dialer for links: DialTimeout and keepalive. Dial its
// DialContext through Dial so that the connection is watched too.
func Dialer() *net.Dialer {
	return &net.Dialer{Timeout: DialTimeout, KeepAliveConfig: keepAlive}
}

// Dial returns d's DialContext with the ack watch on each connection.
func Dial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			go watch(tc)
		}
		return c, nil
	}
}

// Accepted sets the same options on a link a listener accepted, starts its
// ack watch, and returns c. Anything but a *net.TCPConn is returned
// unchanged.
func Accepted(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	// An error is ignored: a socket without keepalive works, only slower
	// to notice a dead peer.
	_ = tc.SetKeepAliveConfig(keepAlive)
	go watch(tc)
	return c
}

// ackWatch decides, from samples of a socket's state, when its peer is
// dead: sent data outstanding, and nothing acknowledged, for AckTimeout.
type ackWatch struct {
	outstanding time.Time // when unacknowledged data was first seen; zero when none
}

// dead takes a sample at now: unacked segments in flight, and the time
// since the peer's last ack of anything (a window probe's answer counts).
func (w *ackWatch) dead(now time.Time, unacked uint32, sinceAck time.Duration) bool {
	if unacked == 0 {
		w.outstanding = time.Time{}
		return false
	}
	if w.outstanding.IsZero() {
		w.outstanding = now
	}
	quiet := now.Sub(w.outstanding) // at most as long as the data waited
	if sinceAck < quiet {
		quiet = sinceAck
	}
	return quiet >= AckTimeout
}
