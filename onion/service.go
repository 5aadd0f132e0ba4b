package onion

// Service descriptors, PROTOCOL.md §11 (hidden services): what a hidden
// service publishes so that clients can reach it through meeting relays.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// MaxMeetingPoints bounds the meeting points in one service descriptor.
const MaxMeetingPoints = 8

const (
	serviceDescriptorTag   = "onion-service-descriptor-v1"
	serviceDescriptorTagV2 = "onion-service-descriptor-v2" // with client authorization (clientauth.go)
)

// Errors from checking a service descriptor against the address asked for.
var (
	// ErrWrongService means a correctly signed descriptor is for another
	// onion address than the one asked for: a lying or broken directory.
	ErrWrongService = errors.New("onion: service descriptor is for another onion address")
	// ErrDescriptorExpired means a correctly signed descriptor is too old,
	// or published further ahead than MaxClockSkew: a replay, or a clock to fix.
	ErrDescriptorExpired = errors.New("onion: service descriptor is not fresh")
	// ErrNoDescriptor: no descriptor is published for the address.
	ErrNoDescriptor = errors.New("onion: no descriptor for this onion address")
)

// MeetingPoint is a relay where a hidden service waits for clients. It holds
// public keys only.
type MeetingPoint struct {
	Nickname    string `json:"nickname"`
	Address     string `json:"address"`      // host:port of the relay
	IdentityKey []byte `json:"identity_key"` // relay ed25519 public key
	OnionKey    []byte `json:"onion_key"`    // relay X25519 public key
}

// ServiceDescriptor is what a hidden service publishes: its key, the key
// for the end-to-end layer and where to meet it. It holds public keys only.
type ServiceDescriptor struct {
	ServiceKey    []byte         `json:"service_key"`    // ed25519 public key; the address derives from it
	E2EKey        []byte         `json:"e2e_key"`        // X25519 public key: clients run the circuit handshake against it for the end-to-end layer
	MeetingPoints []MeetingPoint `json:"meeting_points"` // 1..MaxMeetingPoints
	// ClientAuth, in a revision-2 descriptor, holds the meeting points and
	// the e2e key sealed for the authorized clients; E2EKey and
	// MeetingPoints are then empty (PROTOCOL.md §11.9).
	ClientAuth *ClientAuth `json:"client_auth,omitempty"`
	Published  int64       `json:"published"` // Unix seconds
	Signature  []byte      `json:"signature"` // ed25519 by ServiceKey over SignedBytes
}

// Address is the onion address of the service, or "" if ServiceKey is not
// a 32-byte key.
func (d *ServiceDescriptor) Address() string {
	if len(d.ServiceKey) != ed25519.PublicKeySize {
		return ""
	}
	return EncodeAddress(d.ServiceKey)
}

// SignedBytes is the exact byte string the service key signs: a tag, the
// two keys length-prefixed, the number of meeting points (one byte), each
// meeting point's four fields length-prefixed, then published (8 bytes).
// Check bounds every length first, so that no prefix wraps.
func (d *ServiceDescriptor) SignedBytes() []byte {
	tag := serviceDescriptorTag
	if d.ClientAuth != nil {
		tag = serviceDescriptorTagV2
	}
	b := []byte(tag)
	b = appendField(b, d.ServiceKey)
	b = appendField(b, d.E2EKey)
	b = append(b, uint8(len(d.MeetingPoints)))
	for _, m := range d.MeetingPoints {
		for _, f := range [][]byte{[]byte(m.Nickname), []byte(m.Address), m.IdentityKey, m.OnionKey} {
			b = appendField(b, f)
		}
	}
	b = binary.BigEndian.AppendUint64(b, uint64(d.Published))
	if d.ClientAuth != nil {
		b = d.ClientAuth.appendSigned(b)
	}
	return b
}

func appendField(b, f []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
	return append(b, f...)
}

// Sign fills in d.ServiceKey and d.Signature.
func (d *ServiceDescriptor) Sign(key ed25519.PrivateKey) {
	d.ServiceKey = append([]byte(nil), key.Public().(ed25519.PublicKey)...)
	d.Signature = ed25519.Sign(key, d.SignedBytes())
}

// Check validates the fields and the signature. It judges neither
// freshness nor which address the descriptor is for: see CheckFor.
func (d *ServiceDescriptor) Check() error {
	if len(d.ServiceKey) != ed25519.PublicKeySize {
		return errors.New("onion: service descriptor keys must be 32 bytes")
	}
	if smallOrder(d.ServiceKey) {
		return errors.New("onion: service key is a small-order point")
	}
	if d.ClientAuth != nil {
		if len(d.E2EKey) != 0 || len(d.MeetingPoints) != 0 {
			return errors.New("onion: a descriptor with client authorization shows no e2e key or meeting point")
		}
		if err := d.ClientAuth.check(); err != nil {
			return err
		}
	} else {
		if len(d.E2EKey) != KeyLen {
			return errors.New("onion: service descriptor keys must be 32 bytes")
		}
		if err := checkMeetingPoints(d.MeetingPoints); err != nil {
			return err
		}
	}
	if len(d.Signature) != ed25519.SignatureSize ||
		!ed25519.Verify(d.ServiceKey, d.SignedBytes(), d.Signature) {
		return ErrSignature
	}
	return nil
}

func checkMeetingPoints(mps []MeetingPoint) error {
	if n := len(mps); n < 1 || n > MaxMeetingPoints {
		return fmt.Errorf("onion: service descriptor has %d meeting points, want 1-%d", n, MaxMeetingPoints)
	}
	for i := range mps {
		if err := mps[i].check(); err != nil {
			return fmt.Errorf("meeting point %d: %w", i, err)
		}
		for j := range i {
			if bytes.Equal(mps[i].IdentityKey, mps[j].IdentityKey) {
				return fmt.Errorf("onion: meeting points %d and %d are the same relay", j, i)
			}
		}
	}
	return nil
}

func (m *MeetingPoint) check() error {
	if err := checkNickname(m.Nickname); err != nil {
		return err
	}
	if _, _, err := SplitHostPort(m.Address); err != nil {
		return fmt.Errorf("meeting point address: %w", err)
	}
	if len(m.IdentityKey) != ed25519.PublicKeySize || len(m.OnionKey) != KeyLen {
		return errors.New("onion: meeting point keys must be 32 bytes")
	}
	return nil
}

// CheckFor is what a client runs on a descriptor it fetched for addr: Check,
// then that the descriptor is for addr (ErrWrongService), then that it was
// published at most maxAge before now and at most MaxClockSkew after it
// (ErrDescriptorExpired).
func (d *ServiceDescriptor) CheckFor(addr string, now time.Time, maxAge time.Duration) error {
	want, err := ParseAddress(addr)
	if err != nil {
		return err
	}
	if err := d.Check(); err != nil {
		return err
	}
	if !bytes.Equal(d.ServiceKey, want) {
		return ErrWrongService
	}
	// Whole seconds, in integers: Published may be any int64, which
	// time.Unix would not represent faithfully.
	t, pub := now.Unix(), d.Published
	switch {
	case pub > t+int64(MaxClockSkew/time.Second):
		return fmt.Errorf("%w: published %s, more than %s ahead of now (%s)", ErrDescriptorExpired,
			unixString(pub), MaxClockSkew, now.UTC().Format(time.RFC3339))
	case pub < t-int64(maxAge/time.Second):
		return fmt.Errorf("%w: published %s, more than %s before now (%s)", ErrDescriptorExpired,
			unixString(pub), maxAge, now.UTC().Format(time.RFC3339))
	}
	return nil
}

// unixString formats a peer's Unix time, which may be out of any sane range.
func unixString(sec int64) string {
	const maxYear9999 = 253402300799
	if sec < 0 || sec > maxYear9999 {
		return fmt.Sprintf("%d (Unix seconds)", sec)
	}
	return time.Unix(sec, 0).UTC().Format(time.RFC3339)
}
