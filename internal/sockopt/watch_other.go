//go:build !linux

package sockopt

import "net"

// watch does nothing where TCP_INFO is not read: keepalive and the dial
// timeout still apply.
func watch(*net.TCPConn) {}
