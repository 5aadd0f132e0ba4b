package proxy

// SOCKS5 reply codes (RFC 1928 §6) and how a DialStream error picks one.
// go-socks5 would pick the code from the error's text; a session instead sets
// the code on its socksClientConn, which writes it into the reply go-socks5 sends.

import (
	"context"
	"errors"
	"fmt"
	"os"

	"onion/client"
	"onion/onion"
)

// socksReply is the REP field of a SOCKS5 reply.
type socksReply uint8

const (
	replySucceeded           socksReply = 0x00
	replyGeneralFailure      socksReply = 0x01
	replyNotAllowed          socksReply = 0x02
	replyNetworkUnreachable  socksReply = 0x03
	replyHostUnreachable     socksReply = 0x04
	replyConnectionRefused   socksReply = 0x05
	replyTTLExpired          socksReply = 0x06
	replyCommandNotSupported socksReply = 0x07
	replyAddrTypeUnsupported socksReply = 0x08
)

func (r socksReply) String() string {
	switch r {
	case replySucceeded:
		return "succeeded"
	case replyGeneralFailure:
		return "general failure"
	case replyNotAllowed:
		return "not allowed by ruleset"
	case replyNetworkUnreachable:
		return "network unreachable"
	case replyHostUnreachable:
		return "host unreachable"
	case replyConnectionRefused:
		return "connection refused"
	case replyTTLExpired:
		return "TTL expired"
	case replyCommandNotSupported:
		return "command not supported"
	case replyAddrTypeUnsupported:
		return "address type not supported"
	}
	return fmt.Sprintf("socksReply(0x%02x)", uint8(r))
}

// replyFor maps a DialStream error to the reply the client gets: the exit's
// END reason where there is one, TTL expired for a timeout, else general
// failure (no circuit, and the like).
func replyFor(err error) socksReply {
	if oe, ok := errors.AsType[*client.OpenError](err); ok {
		switch oe.Reason {
		case onion.EndRefused:
			return replyConnectionRefused
		case onion.EndResolve:
			return replyHostUnreachable
		case onion.EndUnreachable:
			return replyNetworkUnreachable
		case onion.EndTimeout:
			return replyTTLExpired
		case onion.EndExitPolicy:
			return replyNotAllowed
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return replyTTLExpired
	}
	return replyGeneralFailure
}
