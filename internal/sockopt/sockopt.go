// Package sockopt holds the TCP options of links between onion nodes: they
// let either end notice a dead peer (a host that lost its network, not one
// that closed its socket) within seconds rather than TCP's default quarter
// hour, without harming a healthy link on a loaded machine, since only the
// peer's kernel must answer in time: its acks and its keepalive replies.
//
//   - TCP_USER_TIMEOUT (Linux): a write whose data stays unacknowledged for
//     UserTimeout fails the connection: a download on a dead link ends.
//   - Keepalive: an idle link probes its peer after KeepAliveIdle, and fails
//     after KeepAliveCount unanswered probes KeepAliveInterval apart.
//   - DialTimeout bounds a connect to a host that does not answer.
//
// It only sets options; it does not dial for anyone or retry.
package sockopt

import (
	"net"
	"time"
)

// The bounds; see the package doc.
const (
	UserTimeout       = 3 * time.Second
	DialTimeout       = 5 * time.Second
	KeepAliveIdle     = 5 * time.Second
	KeepAliveInterval = 1 * time.Second
	KeepAliveCount    = 3
)

var keepAlive = net.KeepAliveConfig{
	Enable:   true,
	Idle:     KeepAliveIdle,
	Interval: KeepAliveInterval,
	Count:    KeepAliveCount,
}

// Dialer is a dialer for links: DialTimeout, keepalive, and the user
// timeout set on the socket before it connects.
func Dialer() *net.Dialer {
	return &net.Dialer{Timeout: DialTimeout, KeepAliveConfig: keepAlive, Control: control}
}

// Accepted sets the same options on a link a listener accepted, and
// returns c. Anything but a *net.TCPConn is returned unchanged.
func Accepted(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	// Errors are ignored: a socket without them works, only slower to
	// notice a dead peer.
	_ = tc.SetKeepAliveConfig(keepAlive)
	if raw, err := tc.SyscallConn(); err == nil {
		_ = control("tcp", "", raw)
	}
	return c
}
