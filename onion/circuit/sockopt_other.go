//go:build !linux

package circuit

import "net"

// tuneSocket is a no-op where TCP_NOTSENT_LOWAT is not known to this
// package.
func tuneSocket(net.Conn) {}
