package onion

// Relay messages, PROTOCOL.md §5: the plaintext inside a KindMessage layer.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
)

// RelayCmd is the command of a relay message.
type RelayCmd uint8

// Relay message commands.
const (
	RelayExtend       RelayCmd = 1 // client -> last hop: extend to the named relay
	RelayExtended     RelayCmd = 2 // last hop -> client: the new hop's CREATED
	RelayExtendFailed RelayCmd = 3 // last hop -> client: extending failed; body is one DestroyReason
	RelayBegin        RelayCmd = 4 // client -> exit: open a stream to host:port
	RelayConnected    RelayCmd = 5 // exit -> client: the stream is open
	RelayData         RelayCmd = 6 // either way: stream bytes
	RelayEnd          RelayCmd = 7 // either way: one EndReason; EndDone is a half-close
	RelaySendme       RelayCmd = 8 // either way: grant the peer more stream window

	// Meeting points for hidden services (PROTOCOL.md §11).
	RelayEstablish   RelayCmd = 9  // service -> meeting relay: serve introductions for this key
	RelayEstablished RelayCmd = 10 // meeting relay -> service: done
	RelayMeet        RelayCmd = 11 // client -> meeting relay: join me to this service (body: CREATE)
	RelayIntroduce   RelayCmd = 12 // meeting relay -> service: a client's CREATE; stream = join id
	RelayAccept      RelayCmd = 13 // service -> meeting relay: CREATED for join id
	RelayMet         RelayCmd = 14 // meeting relay -> client: the service's CREATED
	RelayMeetFailed  RelayCmd = 15 // meeting relay -> client: one MeetReason
	RelayE2E         RelayCmd = 16 // either way: an end-to-end token; stream = join id on the service side
	RelayE2EEnd      RelayCmd = 17 // either way: the joined session is over

	// Inside the end-to-end layer, on a stream (PROTOCOL.md §12).
	RelayAuthChallenge RelayCmd = 18 // service -> client: scrypt cost and a fresh nonce
	RelayAuthProof     RelayCmd = 19 // client -> service: user name and proof
	RelayAuthResult    RelayCmd = 20 // service -> client: accepted (with the service's proof) or refused
	RelayURL           RelayCmd = 21 // service -> client: open this URL

	// Name resolution at the exit, Tor's RESOLVE (11) and RESOLVED (12)
	// under free numbers (PROTOCOL.md §5.5).
	RelayResolve  RelayCmd = 22 // client -> exit: resolve NAME (stream id: a fresh one)
	RelayResolved RelayCmd = 23 // exit -> client: the answers; the stream is over

	// Circuit congestion control (PROTOCOL.md §6.1), stream 0, to the last
	// hop or inside the end-to-end layer.
	RelayCCOffer       RelayCmd = 24 // client -> exit or service: CCBody; the client's DATA is under congestion control from here
	RelayCCAccept      RelayCmd = 25 // exit or service -> client: CCBody; the answerer's DATA is from here
	RelayCircuitSendme RelayCmd = 26 // either way: SendmeInc more DATA cells arrived; empty body
)

// MeetReason says why a meeting relay could not join a client to a service.
type MeetReason uint8

// Meet failure reasons.
const (
	MeetNoService MeetReason = 1 // no service has established this key here
	MeetRefused   MeetReason = 2 // the service refused or did not answer
	MeetProtocol  MeetReason = 3 // malformed MEET
)

func (r MeetReason) String() string {
	switch r {
	case MeetNoService:
		return "service not at this meeting point"
	case MeetRefused:
		return "service refused"
	case MeetProtocol:
		return "protocol violation"
	}
	return fmt.Sprintf("MeetReason(%d)", uint8(r))
}

func (c RelayCmd) String() string {
	switch c {
	case RelayExtend:
		return "EXTEND"
	case RelayExtended:
		return "EXTENDED"
	case RelayExtendFailed:
		return "EXTEND_FAILED"
	case RelayBegin:
		return "BEGIN"
	case RelayConnected:
		return "CONNECTED"
	case RelayData:
		return "DATA"
	case RelayEnd:
		return "END"
	case RelaySendme:
		return "SENDME"
	}
	if name, ok := relayCmdNames[c]; ok {
		return name
	}
	return fmt.Sprintf("RelayCmd(%d)", uint8(c))
}

var relayCmdNames = map[RelayCmd]string{
	RelayEstablish: "ESTABLISH", RelayEstablished: "ESTABLISHED", RelayMeet: "MEET",
	RelayIntroduce: "INTRODUCE", RelayAccept: "ACCEPT", RelayMet: "MET",
	RelayMeetFailed: "MEET_FAILED", RelayE2E: "E2E", RelayE2EEnd: "E2E_END",
	RelayAuthChallenge: "AUTH_CHALLENGE", RelayAuthProof: "AUTH_PROOF",
	RelayAuthResult: "AUTH_RESULT", RelayURL: "URL",
	RelayResolve: "RESOLVE", RelayResolved: "RESOLVED",
	RelayCCOffer: "CC_OFFER", RelayCCAccept: "CC_ACCEPT", RelayCircuitSendme: "CIRCUIT_SENDME",
}

// Relay message sizes and bounds.
const (
	RelayHeaderLen = 1 + 2 // command | stream id
	// MaxData is the most stream bytes one DATA message carries. Three layers
	// of it fit a cell with room to spare (§5.4).
	MaxData = 16 * 1024
	// MaxHostLen bounds the host in BEGIN and EXTEND (a DNS name is at most 253).
	MaxHostLen = 255
	// StreamWindow is the bytes a sender may have in flight per stream before
	// it waits for SENDME (§6).
	StreamWindow = 1 << 20
	// SendmeThreshold: a receiver grants window back once this many bytes
	// have been consumed by the application.
	SendmeThreshold = StreamWindow / 4
	// MaxBody bounds any relay message body: a full DATA message sealed in
	// one more (end-to-end) layer fits, SealedLen(RelayHeaderLen+MaxData)
	// being MaxData+73.
	MaxBody = MaxData + 128
	// MaxMessage bounds a relay message.
	MaxMessage = RelayHeaderLen + MaxBody
)

// ErrBadMessage is the error for a relay message that does not parse.
var ErrBadMessage = errors.New("onion: malformed relay message")

// RelayMsg is one relay message. Stream 0 means the circuit itself.
type RelayMsg struct {
	Cmd    RelayCmd
	Stream uint16
	Body   []byte
}

// MarshalBinary encodes m.
func (m RelayMsg) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(make([]byte, 0, RelayHeaderLen+len(m.Body)))
}

// AppendBinary appends m's encoding to b.
func (m RelayMsg) AppendBinary(b []byte) ([]byte, error) {
	if len(m.Body) > MaxBody || m.Cmd == RelayData && len(m.Body) > MaxData {
		return nil, fmt.Errorf("%w: %v body of %d bytes", ErrBadMessage, m.Cmd, len(m.Body))
	}
	b = append(b, byte(m.Cmd))
	b = binary.BigEndian.AppendUint16(b, m.Stream)
	return append(b, m.Body...), nil
}

// UnmarshalBinary decodes b into m. m.Body aliases b.
func (m *RelayMsg) UnmarshalBinary(b []byte) error {
	if len(b) < RelayHeaderLen || len(b) > MaxMessage {
		return fmt.Errorf("%w: %d bytes", ErrBadMessage, len(b))
	}
	m.Cmd = RelayCmd(b[0])
	m.Stream = binary.BigEndian.Uint16(b[1:3])
	m.Body = b[RelayHeaderLen:]
	if m.Cmd == RelayData && len(m.Body) > MaxData {
		return fmt.Errorf("%w: DATA body of %d bytes", ErrBadMessage, len(m.Body))
	}
	return nil
}

// Extend is the body of RelayExtend: the CREATE payload for the next relay
// and the address to reach it at.
type Extend struct {
	Create  []byte // CreateLen bytes: ID | B | X
	Address string // host:port
}

// MarshalBinary encodes e: Create | address.
func (e Extend) MarshalBinary() ([]byte, error) {
	if len(e.Create) != CreateLen {
		return nil, fmt.Errorf("%w: CREATE of %d bytes", ErrBadMessage, len(e.Create))
	}
	if _, _, err := SplitHostPort(e.Address); err != nil {
		return nil, err
	}
	return append(append([]byte{}, e.Create...), e.Address...), nil
}

// UnmarshalBinary decodes b into e.
func (e *Extend) UnmarshalBinary(b []byte) error {
	if len(b) <= CreateLen {
		return fmt.Errorf("%w: EXTEND of %d bytes", ErrBadMessage, len(b))
	}
	addr := string(b[CreateLen:])
	if _, _, err := SplitHostPort(addr); err != nil {
		return err
	}
	e.Create = b[:CreateLen]
	e.Address = addr
	return nil
}

// SplitHostPort checks a BEGIN or EXTEND target: a host (name, IPv4, or
// bracketed IPv6) of at most MaxHostLen bytes and a port 1-65535.
func SplitHostPort(addr string) (string, uint16, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%w: target %q: %v", ErrBadMessage, addr, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	// No leading zeros: one spelling per port keeps the address short (it is
	// length-prefixed with 16 bits in a signed descriptor) and canonical.
	if err != nil || p == 0 || port[0] == '0' {
		return "", 0, fmt.Errorf("%w: target port %q", ErrBadMessage, port)
	}
	if host == "" || len(host) > MaxHostLen {
		return "", 0, fmt.Errorf("%w: target host of %d bytes", ErrBadMessage, len(host))
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; c <= ' ' || c >= 0x7f {
			return "", 0, fmt.Errorf("%w: target host has byte 0x%02x", ErrBadMessage, c)
		}
	}
	return host, uint16(p), nil
}

// EndReason says why a stream ended (PROTOCOL.md §5.3).
type EndReason uint8

// End reasons. EndDone is the normal half-close; every other reason aborts
// the stream in both directions.
const (
	EndDone        EndReason = 1  // no more data from this side
	EndMisc        EndReason = 2  // other error
	EndResolve     EndReason = 3  // the exit could not resolve the host
	EndRefused     EndReason = 4  // the destination refused the connection
	EndExitPolicy  EndReason = 5  // the exit's policy forbids this destination
	EndTimeout     EndReason = 6  // connecting timed out
	EndUnreachable EndReason = 7  // network or host unreachable
	EndProtocol    EndReason = 8  // the peer broke the stream protocol
	EndReset       EndReason = 9  // the other end closed abruptly
	EndResource    EndReason = 10 // the exit reached one of its resource limits
)

func (r EndReason) String() string {
	switch r {
	case EndDone:
		return "done"
	case EndMisc:
		return "error"
	case EndResolve:
		return "could not resolve host"
	case EndRefused:
		return "connection refused"
	case EndExitPolicy:
		return "not allowed by exit policy"
	case EndTimeout:
		return "connect timed out"
	case EndUnreachable:
		return "network unreachable"
	case EndProtocol:
		return "protocol violation"
	case EndReset:
		return "connection reset"
	case EndResource:
		return "exit resource limit"
	}
	return fmt.Sprintf("EndReason(%d)", uint8(r))
}

// Uint32Body encodes a SENDME increment.
func Uint32Body(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

// ParseUint32Body decodes a SENDME increment.
func ParseUint32Body(b []byte) (uint32, error) {
	if len(b) != 4 {
		return 0, fmt.Errorf("%w: SENDME body of %d bytes", ErrBadMessage, len(b))
	}
	return binary.BigEndian.Uint32(b), nil
}

// CCVersion is the congestion control this implementation speaks (§6.1).
const CCVersion = 1

// MaxSendmeInc bounds the SendmeInc a CC_OFFER may ask for.
const MaxSendmeInc = 64

// CCBody is the body of CC_OFFER and CC_ACCEPT: version | sendme_inc.
func CCBody(inc int) []byte { return []byte{CCVersion, byte(inc)} }

// ParseCCBody decodes a CC_OFFER or CC_ACCEPT body: the version and the
// DATA cells per CIRCUIT_SENDME (1–MaxSendmeInc).
func ParseCCBody(b []byte) (version, inc int, err error) {
	if len(b) != 2 || b[0] == 0 || b[1] == 0 || b[1] > MaxSendmeInc {
		return 0, 0, fmt.Errorf("%w: congestion control body %x", ErrBadMessage, b)
	}
	return int(b[0]), int(b[1]), nil
}
