package proxy

// Tor's extended SOCKS5 reply codes for onion-service failures (proposal
// 304, PROTOCOL.md §8.2). Tor sends them only on ports with the
// ExtendedErrors flag (Tor Browser sets it); here they are on by default
// and SOCKSServer.GenericErrors (--socks-generic-errors) turns them off for
// clients that treat an unknown code as a protocol error.

import (
	"errors"

	"onion/client"
)

const (
	replyOnionDescNotFound  socksReply = 0xF0
	replyOnionDescInvalid   socksReply = 0xF1
	replyOnionIntroFailed   socksReply = 0xF2
	replyOnionRendFailed    socksReply = 0xF3
	replyOnionAuthMissing   socksReply = 0xF4
	replyOnionAuthWrong     socksReply = 0xF5
	replyOnionBadAddress    socksReply = 0xF6
	replyOnionIntroTimedOut socksReply = 0xF7
)

// onionReplies pairs each client error with its extended code, in Tor's
// order.
var onionReplies = [...]struct {
	err  error
	code socksReply
	name string
}{
	{client.ErrDescriptorNotFound, replyOnionDescNotFound, "onion service descriptor not found"},
	{client.ErrDescriptorInvalid, replyOnionDescInvalid, "onion service descriptor invalid"},
	{client.ErrIntroFailed, replyOnionIntroFailed, "onion service introduction failed"},
	{client.ErrRendezvousFailed, replyOnionRendFailed, "onion service rendezvous failed"},
	{client.ErrClientAuthMissing, replyOnionAuthMissing, "onion service missing client authorization"},
	{client.ErrClientAuthWrong, replyOnionAuthWrong, "onion service wrong client authorization"},
	{client.ErrBadOnionAddress, replyOnionBadAddress, "onion service invalid address"},
	{client.ErrIntroTimeout, replyOnionIntroTimedOut, "onion service introduction timed out"},
}

// extendedReply is the extended code for err, if it is an onion-service
// failure.
func extendedReply(err error) (socksReply, bool) {
	for _, r := range onionReplies {
		if errors.Is(err, r.err) {
			return r.code, true
		}
	}
	return 0, false
}

// replyCode is the code a client gets for err: the extended one unless
// generic, else replyFor's.
func replyCode(err error, generic bool) socksReply {
	if !generic {
		if code, ok := extendedReply(err); ok {
			return code
		}
	}
	return replyFor(err)
}
