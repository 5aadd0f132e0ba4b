package onion

import "fmt"

// Command is the one-byte command of a link cell (PROTOCOL.md §2.2).
type Command uint8

// Link cell commands.
const (
	CmdCreate  Command = 1 // client -> relay: start a circuit (handshake, §3)
	CmdCreated Command = 2 // relay -> client: handshake answer
	CmdRelay   Command = 3 // either way: one onion of fernet layers (§4)
	CmdDestroy Command = 4 // either way: the circuit is gone; payload is one DestroyReason
)

func (c Command) String() string {
	switch c {
	case CmdCreate:
		return "CREATE"
	case CmdCreated:
		return "CREATED"
	case CmdRelay:
		return "RELAY"
	case CmdDestroy:
		return "DESTROY"
	}
	return fmt.Sprintf("Command(%d)", uint8(c))
}

// DestroyReason says why a circuit was torn down (PROTOCOL.md §2.3).
type DestroyReason uint8

// Destroy reasons.
const (
	DestroyNone        DestroyReason = 0 // no reason given (normal close)
	DestroyProtocol    DestroyReason = 1 // the peer broke the protocol
	DestroyInternal    DestroyReason = 2 // an internal error
	DestroyRequested   DestroyReason = 3 // the client closed the circuit
	DestroyLayer       DestroyReason = 4 // a layer failed authentication or its sequence number
	DestroyWrongKey    DestroyReason = 5 // CREATE named keys this relay does not hold
	DestroyConnectFail DestroyReason = 6 // extending to the next relay failed
	DestroyLinkClosed  DestroyReason = 7 // the link to the next or previous hop closed
	DestroyTimeout     DestroyReason = 8 // a timer ran out
	DestroyResource    DestroyReason = 9 // a resource limit was reached
	// DestroyNotListed is sent only in EXTEND_FAILED: the next relay named
	// is not in the relay's verified list at that address (PROTOCOL.md §3.3).
	DestroyNotListed DestroyReason = 10
)

func (r DestroyReason) String() string {
	switch r {
	case DestroyNone:
		return "none"
	case DestroyProtocol:
		return "protocol violation"
	case DestroyInternal:
		return "internal error"
	case DestroyRequested:
		return "requested"
	case DestroyLayer:
		return "layer authentication or sequence failed"
	case DestroyWrongKey:
		return "wrong relay keys"
	case DestroyConnectFail:
		return "could not reach next relay"
	case DestroyLinkClosed:
		return "link closed"
	case DestroyTimeout:
		return "timeout"
	case DestroyResource:
		return "resource limit"
	case DestroyNotListed:
		return "next relay not listed"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}
