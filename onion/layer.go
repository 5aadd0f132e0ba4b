package onion

// One fernet layer with its sequence number, PROTOCOL.md §4.

import (
	"crypto/aes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/fernet/fernet-go"
)

// Layer sizes. A token is raw fernet: version 0x80 | timestamp 8 | IV 16 |
// AES-128-CBC ciphertext (PKCS#7, at least one block) | HMAC-SHA256 32.
const (
	TokenOverhead  = 1 + 8 + aes.BlockSize + sha256.Size // 57
	MinTokenLen    = TokenOverhead + aes.BlockSize       // an empty plaintext still pads to one block
	LayerHeaderLen = 8 + 1                               // sequence number | kind
)

// LayerKind says what a layer's body is.
type LayerKind uint8

// Layer kinds.
const (
	// KindMessage: the body is a relay message for (forward) or from
	// (backward) the hop that owns this layer.
	KindMessage LayerKind = 1
	// KindForward: the body is the next hop's token (forward), or a token
	// that came from the next hop (backward).
	KindForward LayerKind = 2
)

func (k LayerKind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindForward:
		return "forward"
	}
	return fmt.Sprintf("LayerKind(%d)", uint8(k))
}

// Errors from opening a layer. ErrLayer is opaque on purpose: a failed MAC,
// bad padding, a wrong key and a truncated token all look the same.
var (
	ErrLayer    = errors.New("onion: layer failed authentication")
	ErrSequence = errors.New("onion: layer out of sequence (replayed, reordered or dropped cell)")
)

// TokenLen is the length of the raw token that seals a plaintext of n bytes.
func TokenLen(n int) int {
	return TokenOverhead + (n/aes.BlockSize+1)*aes.BlockSize
}

// SealedLen is the token length of a layer whose body is n bytes.
func SealedLen(n int) int { return TokenLen(LayerHeaderLen + n) }

// Sealer adds layers in one direction of one hop. It numbers them 0, 1, 2...
// It is not safe for concurrent use: one goroutine (or a lock held by the
// caller) owns each direction.
type Sealer struct {
	t   tokenKeys
	seq uint64
}

// NewSealer returns a Sealer that starts at sequence number 0.
func NewSealer(k fernet.Key) *Sealer { return &Sealer{t: newTokenKeys(k)} }

// Seal returns the raw fernet token of seq | kind | body and advances the
// sequence number.
func (s *Sealer) Seal(kind LayerKind, body []byte) ([]byte, error) {
	var hdr [LayerHeaderLen]byte
	binary.BigEndian.PutUint64(hdr[0:8], s.seq)
	hdr[8] = byte(kind)
	tok, err := s.t.seal(hdr[:], body)
	if err != nil {
		return nil, fmt.Errorf("seal layer: %w", err)
	}
	s.seq++
	return tok, nil
}

// SealMessage is Seal of m's encoding, without building that encoding
// first: the relay message header joins the layer header and the body is
// copied once, straight into the token.
func (s *Sealer) SealMessage(m RelayMsg) ([]byte, error) {
	if len(m.Body) > MaxBody || m.Cmd == RelayData && len(m.Body) > MaxData {
		return nil, fmt.Errorf("%w: %v body of %d bytes", ErrBadMessage, m.Cmd, len(m.Body))
	}
	var hdr [LayerHeaderLen + RelayHeaderLen]byte
	binary.BigEndian.PutUint64(hdr[0:8], s.seq)
	hdr[8] = byte(KindMessage)
	hdr[9] = byte(m.Cmd)
	binary.BigEndian.PutUint16(hdr[10:12], m.Stream)
	tok, err := s.t.seal(hdr[:], m.Body)
	if err != nil {
		return nil, fmt.Errorf("seal layer: %w", err)
	}
	s.seq++
	return tok, nil
}

// Opener removes layers in one direction of one hop and checks that their
// sequence numbers run 0, 1, 2... Like Sealer, one goroutine owns it.
type Opener struct {
	t   tokenKeys
	seq uint64
}

// NewOpener returns an Opener that expects sequence number 0 first.
func NewOpener(k fernet.Key) *Opener { return &Opener{t: newTokenKeys(k)} }

// Open authenticates and decrypts a raw token, checks its sequence number and
// returns the kind and body. The body is a new buffer owned by the caller.
// After an error the Opener must not be used again: the circuit is dead.
func (o *Opener) Open(token []byte) (LayerKind, []byte, error) {
	return o.open(token, false)
}

// OpenInPlace is Open decrypting into token itself: the body aliases token,
// whose ciphertext is overwritten with plaintext as soon as the MAC holds.
// A malformed token or a failed MAC leaves token untouched; a later failure
// (padding, sequence number, kind) leaves it decrypted. Either way a failed
// token is spent: callers drop it with the circuit or session. The data path
// uses OpenInPlace for cells it owns, saving a copy per layer.
func (o *Opener) OpenInPlace(token []byte) (LayerKind, []byte, error) {
	return o.open(token, true)
}

func (o *Opener) open(token []byte, inPlace bool) (LayerKind, []byte, error) {
	// No timestamp check (TTL 0): replay protection is the sequence number,
	// and relays on different machines need not agree on the time.
	pt, ok := o.t.open(token, inPlace)
	if !ok || len(pt) < LayerHeaderLen {
		return 0, nil, ErrLayer
	}
	if seq := binary.BigEndian.Uint64(pt[0:8]); seq != o.seq {
		return 0, nil, fmt.Errorf("%w: got %d, want %d", ErrSequence, seq, o.seq)
	}
	kind := LayerKind(pt[8])
	if kind != KindMessage && kind != KindForward {
		return 0, nil, fmt.Errorf("%w: unknown kind %d", ErrLayer, pt[8])
	}
	o.seq++
	return kind, pt[LayerHeaderLen:], nil
}
