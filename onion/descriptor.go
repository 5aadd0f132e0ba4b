package onion

// Relay descriptors and the signed relay list, PROTOCOL.md §7.

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Descriptor bounds.
const (
	MaxNicknameLen = 32
	// MaxDocumentLen bounds a relay list or descriptor that a peer sends:
	// room for some 11,000 relays (a typical descriptor is ~360 bytes of
	// JSON; an authority holds at most half this, PROTOCOL.md §7.3).
	MaxDocumentLen = 8 << 20
	descriptorTag  = "onion-relay-descriptor-v1"
	relayListTag   = "onion-relay-list-v1"
)

// Errors from checking descriptors and lists.
var (
	// ErrSignature is the one opaque error for a signature that does not verify.
	ErrSignature = errors.New("onion: bad signature")
	// ErrListExpired means a correctly signed list is outside its validity
	// window: fetch a fresh one (or fix the clock).
	ErrListExpired = errors.New("onion: relay list is not valid now")
)

// Fingerprint names a relay: the upper-case hex of the first 20 bytes of
// SHA-256 of its ed25519 identity key.
func Fingerprint(identity []byte) string {
	sum := sha256.Sum256(identity)
	return strings.ToUpper(hex.EncodeToString(sum[:20]))
}

// RelayDescriptor is what a relay publishes about itself. It holds public
// keys only.
type RelayDescriptor struct {
	Nickname    string `json:"nickname"`
	Address     string `json:"address"`      // host:port where the relay accepts links
	IdentityKey []byte `json:"identity_key"` // ed25519 public key (JSON: base64)
	OnionKey    []byte `json:"onion_key"`    // X25519 public key (JSON: base64)
	Exit        bool   `json:"exit"`
	Published   int64  `json:"published"` // Unix seconds
	// Bandwidth is the relay's advertised bandwidth in bytes/s (0: none
	// advertised). Family lists the fingerprints of the relays its
	// operator also runs (a family holds only relays that list each
	// other). ExitPolicy summarises an exit's policy (PolicySummary;
	// "" on an exit: every port). All three are signed when set (§7.1).
	Bandwidth  int64    `json:"bandwidth,omitempty"`
	Family     []string `json:"family,omitempty"`
	ExitPolicy string   `json:"exit_policy,omitempty"`
	Signature  []byte   `json:"signature"` // ed25519 by IdentityKey over SignedBytes
	// Weight is the path-selection weight the authorities give the relay:
	// its advertised bandwidth capped by them (§7.4, §8). A relay does not
	// sign it (it is set on the list, which the authorities sign); 0 on a
	// descriptor as published.
	Weight int64 `json:"weight,omitempty"`
}

// Fingerprint is the relay's fingerprint.
func (d *RelayDescriptor) Fingerprint() string { return Fingerprint(d.IdentityKey) }

// SignedBytes is the exact byte string the identity key signs: a tag, then
// each field length-prefixed (PROTOCOL.md §7.1).
func (d *RelayDescriptor) SignedBytes() []byte {
	b := []byte(descriptorTag)
	for _, f := range [][]byte{[]byte(d.Nickname), []byte(d.Address), d.IdentityKey, d.OnionKey} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	if d.Exit {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(d.Published))
	if d.Bandwidth == 0 && len(d.Family) == 0 && d.ExitPolicy == "" {
		return b // a descriptor without them signs what revision 3 signed
	}
	b = binary.BigEndian.AppendUint64(b, uint64(d.Bandwidth))
	b = append(b, byte(len(d.Family))) // Check bounds it to MaxFamily
	for _, fp := range d.Family {
		b = binary.BigEndian.AppendUint16(b, uint16(len(fp)))
		b = append(b, fp...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(d.ExitPolicy)))
	return append(b, d.ExitPolicy...)
}

// Sign fills in d.IdentityKey and d.Signature.
func (d *RelayDescriptor) Sign(identity ed25519.PrivateKey) {
	d.IdentityKey = append([]byte(nil), identity.Public().(ed25519.PublicKey)...)
	d.Signature = ed25519.Sign(identity, d.SignedBytes())
}

// Check validates the fields and the signature. It does not judge freshness.
func (d *RelayDescriptor) Check() error {
	if err := checkNickname(d.Nickname); err != nil {
		return err
	}
	if _, _, err := SplitHostPort(d.Address); err != nil {
		return fmt.Errorf("descriptor address: %w", err)
	}
	if len(d.IdentityKey) != ed25519.PublicKeySize || len(d.OnionKey) != KeyLen {
		return errors.New("onion: descriptor keys must be 32 bytes")
	}
	if err := d.checkExtensions(); err != nil {
		return err
	}
	if len(d.Signature) != ed25519.SignatureSize ||
		!ed25519.Verify(d.IdentityKey, d.SignedBytes(), d.Signature) {
		return ErrSignature
	}
	return nil
}

func checkNickname(n string) error {
	if n == "" || len(n) > MaxNicknameLen {
		return fmt.Errorf("onion: nickname must be 1-%d characters", MaxNicknameLen)
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("onion: nickname %q: only letters, digits, '-' and '_'", n)
		}
	}
	return nil
}

// RelayList is the directory's view of the live relays.
type RelayList struct {
	ValidAfter int64             `json:"valid_after"` // Unix seconds
	ValidUntil int64             `json:"valid_until"`
	Relays     []RelayDescriptor `json:"relays"`
}

// SignedRelayList is the relay list as served: Document is the list's JSON
// text, and Signature is ed25519 by the directory key over
// relayListTag | Document (PROTOCOL.md §7.2).
type SignedRelayList struct {
	Document  string `json:"document"`
	Signature []byte `json:"signature"`
}

// SignRelayList encodes and signs l.
func SignRelayList(l RelayList, key ed25519.PrivateKey) (SignedRelayList, error) {
	doc, err := json.Marshal(l)
	if err != nil {
		return SignedRelayList{}, err
	}
	msg := append([]byte(relayListTag), doc...)
	return SignedRelayList{Document: string(doc), Signature: ed25519.Sign(key, msg)}, nil
}

// Clock skew tolerated when judging a list's validity window.
const MaxClockSkew = 5 * time.Minute

// Open verifies s against the directory's public key, decodes it, checks its
// validity window against now and checks every descriptor's own signature.
// A descriptor that fails is an error for the whole list: a directory that
// signs a forged descriptor is not to be trusted with the others either.
func (s SignedRelayList) Open(dirKey ed25519.PublicKey, now time.Time) (RelayList, error) {
	if len(dirKey) != ed25519.PublicKeySize || len(s.Signature) != ed25519.SignatureSize {
		return RelayList{}, ErrSignature
	}
	if len(s.Document) > MaxDocumentLen {
		return RelayList{}, fmt.Errorf("onion: relay list of %d bytes", len(s.Document))
	}
	if !ed25519.Verify(dirKey, append([]byte(relayListTag), s.Document...), s.Signature) {
		return RelayList{}, ErrSignature
	}
	var l RelayList
	if err := json.Unmarshal([]byte(s.Document), &l); err != nil {
		return RelayList{}, fmt.Errorf("onion: relay list: %w", err)
	}
	if l.ValidAfter > l.ValidUntil {
		return RelayList{}, errors.New("onion: relay list ends before it starts")
	}
	t := now.Unix()
	skew := int64(MaxClockSkew / time.Second)
	if t+skew < l.ValidAfter || t-skew > l.ValidUntil {
		return RelayList{}, fmt.Errorf("%w: valid %s to %s, now %s", ErrListExpired,
			time.Unix(l.ValidAfter, 0).UTC().Format(time.RFC3339),
			time.Unix(l.ValidUntil, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	seen := make(map[string]bool, len(l.Relays))
	for i := range l.Relays {
		if err := l.Relays[i].Check(); err != nil {
			return RelayList{}, fmt.Errorf("relay %d in list: %w", i, err)
		}
		fp := l.Relays[i].Fingerprint()
		if seen[fp] {
			return RelayList{}, fmt.Errorf("onion: relay %s listed twice", fp)
		}
		seen[fp] = true
	}
	return l, nil
}
