package onion

// RESOLVE and RESOLVED (PROTOCOL.md §5.5), Tor's RELAY_RESOLVE and
// RELAY_RESOLVED in our numbering: a client asks the exit to resolve a
// name (or, for a reverse lookup, an in-addr.arpa / ip6.arpa name) on a
// fresh stream id; the exit answers RESOLVED on that id, and the stream is
// over. No END follows either way.
//
//	RESOLVE:  NAME NUL
//	RESOLVED: answers, each TYPE(1) LEN(1) VALUE(LEN) TTL(4)

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ResolvedType is the TYPE of one RESOLVED answer (Tor's values).
type ResolvedType uint8

// RESOLVED answer types.
const (
	ResolvedHostname     ResolvedType = 0x00
	ResolvedIPv4         ResolvedType = 0x04
	ResolvedIPv6         ResolvedType = 0x06
	ResolvedErrTransient ResolvedType = 0xF0 // try again later
	ResolvedErrPermanent ResolvedType = 0xF1 // no such name, or refused by the exit's policy
)

// ResolvedAnswer is one answer in a RESOLVED message. Addr is set for
// IPv4/IPv6, Name for a hostname; errors carry neither.
type ResolvedAnswer struct {
	Type ResolvedType
	Addr netip.Addr
	Name string
	TTL  uint32
}

const resolvedAnswerOverhead = 1 + 1 + 4

// ErrBadResolved marks a malformed RESOLVE or RESOLVED body.
var ErrBadResolved = errors.New("onion: malformed RESOLVE/RESOLVED")

// ResolveBody is the body of a RESOLVE for name.
func ResolveBody(name string) ([]byte, error) {
	if name == "" || len(name) > MaxHostLen || strings.IndexByte(name, 0) >= 0 {
		return nil, fmt.Errorf("%w: name of %d bytes", ErrBadResolved, len(name))
	}
	return append([]byte(name), 0), nil
}

// ParseResolve reads the name in a RESOLVE body.
func ParseResolve(body []byte) (string, error) {
	name, ok := bytes.CutSuffix(body, []byte{0})
	if !ok || len(name) == 0 || len(name) > MaxHostLen || bytes.IndexByte(name, 0) >= 0 {
		return "", ErrBadResolved
	}
	return string(name), nil
}

// MarshalResolved encodes answers as a RESOLVED body. A hostname longer
// than 255 bytes cannot be encoded.
func MarshalResolved(answers []ResolvedAnswer) ([]byte, error) {
	var b []byte
	for _, a := range answers {
		var v []byte
		switch a.Type {
		case ResolvedIPv4:
			if !a.Addr.Is4() {
				return nil, fmt.Errorf("%w: IPv4 answer %v", ErrBadResolved, a.Addr)
			}
			v = a.Addr.AsSlice()
		case ResolvedIPv6:
			if !a.Addr.Is6() {
				return nil, fmt.Errorf("%w: IPv6 answer %v", ErrBadResolved, a.Addr)
			}
			v = a.Addr.AsSlice()
		case ResolvedHostname:
			if a.Name == "" || len(a.Name) > 255 {
				return nil, fmt.Errorf("%w: hostname of %d bytes", ErrBadResolved, len(a.Name))
			}
			v = []byte(a.Name)
		}
		b = append(b, byte(a.Type), byte(len(v)))
		b = append(b, v...)
		b = binary.BigEndian.AppendUint32(b, a.TTL)
	}
	if len(b) > MaxBody {
		return nil, fmt.Errorf("%w: %d bytes of answers", ErrBadResolved, len(b))
	}
	return b, nil
}

// ParseResolved decodes a RESOLVED body: at least one answer, each of a
// known type with a length that fits it, nothing after the last.
func ParseResolved(body []byte) ([]ResolvedAnswer, error) {
	var out []ResolvedAnswer
	for len(body) > 0 {
		if len(body) < resolvedAnswerOverhead {
			return nil, ErrBadResolved
		}
		t, n := ResolvedType(body[0]), int(body[1])
		if len(body) < resolvedAnswerOverhead+n {
			return nil, ErrBadResolved
		}
		v := body[2 : 2+n]
		a := ResolvedAnswer{Type: t, TTL: binary.BigEndian.Uint32(body[2+n:])}
		switch {
		case t == ResolvedIPv4 && n == 4, t == ResolvedIPv6 && n == 16:
			a.Addr, _ = netip.AddrFromSlice(v)
		case t == ResolvedHostname && n > 0:
			a.Name = string(v)
		case t == ResolvedErrTransient, t == ResolvedErrPermanent:
		default:
			return nil, fmt.Errorf("%w: answer type 0x%02x of %d bytes", ErrBadResolved, uint8(t), n)
		}
		out = append(out, a)
		body = body[resolvedAnswerOverhead+n:]
	}
	if len(out) == 0 {
		return nil, ErrBadResolved
	}
	return out, nil
}

// ReverseName is the in-addr.arpa or ip6.arpa name of a (Tor's RESOLVE_PTR
// form).
func ReverseName(a netip.Addr) string {
	a = a.Unmap()
	var sb strings.Builder
	if a.Is4() {
		b := a.As4()
		fmt.Fprintf(&sb, "%d.%d.%d.%d.in-addr.arpa", b[3], b[2], b[1], b[0])
		return sb.String()
	}
	b := a.As16()
	for i := len(b) - 1; i >= 0; i-- {
		fmt.Fprintf(&sb, "%x.%x.", b[i]&0xf, b[i]>>4)
	}
	sb.WriteString("ip6.arpa")
	return sb.String()
}

// ParseReverseName reads the address in an in-addr.arpa or ip6.arpa name;
// ok is false for any other name.
func ParseReverseName(name string) (netip.Addr, bool) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if rest, found := strings.CutSuffix(name, ".in-addr.arpa"); found {
		parts := strings.Split(rest, ".")
		if len(parts) != 4 {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(parts[3] + "." + parts[2] + "." + parts[1] + "." + parts[0])
		return a, err == nil
	}
	if rest, found := strings.CutSuffix(name, ".ip6.arpa"); found {
		nibbles := strings.Split(rest, ".")
		if len(nibbles) != 32 {
			return netip.Addr{}, false
		}
		var sb strings.Builder
		for i := 31; i >= 0; i-- {
			if len(nibbles[i]) != 1 {
				return netip.Addr{}, false
			}
			sb.WriteString(nibbles[i])
			if i%4 == 0 && i > 0 {
				sb.WriteByte(':')
			}
		}
		a, err := netip.ParseAddr(sb.String())
		return a, err == nil && a.Is6()
	}
	return netip.Addr{}, false
}
