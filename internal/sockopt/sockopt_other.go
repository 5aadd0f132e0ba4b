//go:build !linux

package sockopt

import "syscall"

// control does nothing where TCP_USER_TIMEOUT is not known: keepalive and
// the dial timeout still apply.
func control(string, string, syscall.RawConn) error { return nil }
