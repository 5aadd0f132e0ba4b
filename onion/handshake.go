package onion

// The circuit-extension handshake, PROTOCOL.md §3. It is ntor-shaped: the
// client mixes an ephemeral X25519 exchange with the relay's published onion
// key, so only the holder of that key can derive the hop keys or the AUTH tag,
// and the hop keys stay secret even if the onion key leaks later.

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"

	"github.com/fernet/fernet-go"
)

// Handshake sizes.
const (
	KeyLen          = 32               // X25519 and ed25519 public keys
	CreateLen       = 3 * KeyLen       // ID | B | X
	CreatedLen      = KeyLen + authLen // Y | AUTH
	authLen         = sha256.Size      // HMAC-SHA256
	handshakeProtoc = "onion-ntor-v1"  // salt and domain separator
	keysInfo        = "onion-ntor-v1:keys"
	authPrefix      = "onion-ntor-v1:server"
)

// ErrHandshake is the one opaque error for a handshake that does not verify.
var ErrHandshake = errors.New("onion: handshake failed")

// ErrWrongRelayKeys means a CREATE named an identity or onion key that the
// relay does not hold.
var ErrWrongRelayKeys = errors.New("onion: CREATE names keys this relay does not hold")

// HopKeys are the two fernet keys a client shares with one hop of a circuit.
type HopKeys struct {
	Forward  fernet.Key // client -> relay
	Backward fernet.Key // relay -> client
}

// ClientHandshake is the client's state between CREATE and CREATED.
type ClientHandshake struct {
	id, onionKey [KeyLen]byte
	x            *ecdh.PrivateKey
}

// NewClientHandshake starts a handshake with the relay whose ed25519 identity
// key is id and X25519 onion key is onionKey. rand is the entropy source (nil
// means crypto/rand). It returns the CREATE payload.
func NewClientHandshake(rand io.Reader, id, onionKey []byte) (*ClientHandshake, []byte, error) {
	if len(id) != KeyLen || len(onionKey) != KeyLen {
		return nil, nil, errors.New("onion: relay keys must be 32 bytes")
	}
	x, err := generateX25519(rand)
	if err != nil {
		return nil, nil, err
	}
	h := &ClientHandshake{x: x}
	copy(h.id[:], id)
	copy(h.onionKey[:], onionKey)
	msg := make([]byte, 0, CreateLen)
	msg = append(msg, id...)
	msg = append(msg, onionKey...)
	msg = append(msg, x.PublicKey().Bytes()...)
	return h, msg, nil
}

// Finish checks the relay's CREATED payload and returns the hop keys. Any
// failure, malformed or forged, is ErrHandshake.
func (h *ClientHandshake) Finish(created []byte) (HopKeys, error) {
	if len(created) != CreatedLen {
		return HopKeys{}, ErrHandshake
	}
	yPub, err := ecdh.X25519().NewPublicKey(created[:KeyLen])
	if err != nil {
		return HopKeys{}, ErrHandshake
	}
	bPub, err := ecdh.X25519().NewPublicKey(h.onionKey[:])
	if err != nil {
		return HopKeys{}, ErrHandshake
	}
	s1, err1 := h.x.ECDH(yPub) // fails on a low-order point (all-zero secret)
	s2, err2 := h.x.ECDH(bPub)
	if err1 != nil || err2 != nil {
		return HopKeys{}, ErrHandshake
	}
	keys, auth := derive(s1, s2, h.id[:], h.onionKey[:], h.x.PublicKey().Bytes(), created[:KeyLen])
	// Constant time: the tag is a MAC an attacker could otherwise probe byte by byte.
	if subtle.ConstantTimeCompare(auth, created[KeyLen:]) != 1 {
		return HopKeys{}, ErrHandshake
	}
	return keys, nil
}

// RelayKeys are the long-term public and secret keys a relay answers CREATE with.
type RelayKeys struct {
	ID       []byte           // ed25519 identity public key
	OnionKey *ecdh.PrivateKey // X25519 onion key
}

// ServerHandshake answers a CREATE payload: it returns the CREATED payload
// and the hop keys. ErrWrongRelayKeys means the client expected other keys
// (a stale relay list); any other failure is ErrHandshake.
func ServerHandshake(rand io.Reader, k RelayKeys, create []byte) ([]byte, HopKeys, error) {
	if len(create) != CreateLen {
		return nil, HopKeys{}, ErrHandshake
	}
	id, b, xb := create[:KeyLen], create[KeyLen:2*KeyLen], create[2*KeyLen:]
	if !hmac.Equal(id, k.ID) || !hmac.Equal(b, k.OnionKey.PublicKey().Bytes()) {
		return nil, HopKeys{}, ErrWrongRelayKeys
	}
	xPub, err := ecdh.X25519().NewPublicKey(xb)
	if err != nil {
		return nil, HopKeys{}, ErrHandshake
	}
	y, err := generateX25519(rand)
	if err != nil {
		return nil, HopKeys{}, err
	}
	s1, err1 := y.ECDH(xPub)
	s2, err2 := k.OnionKey.ECDH(xPub)
	if err1 != nil || err2 != nil {
		return nil, HopKeys{}, ErrHandshake
	}
	yb := y.PublicKey().Bytes()
	keys, auth := derive(s1, s2, id, b, xb, yb)
	return append(yb, auth...), keys, nil
}

// derive turns the two shared secrets and the transcript into hop keys and
// the relay's AUTH tag (PROTOCOL.md §3.2).
func derive(s1, s2, id, b, x, y []byte) (HopKeys, []byte) {
	secret := make([]byte, 0, 6*KeyLen)
	for _, p := range [][]byte{s1, s2, id, b, x, y} {
		secret = append(secret, p...)
	}
	okm, err := hkdf.Key(sha256.New, secret, []byte(handshakeProtoc), keysInfo, 3*KeyLen)
	if err != nil {
		panic("onion: hkdf: " + err.Error()) // only for lengths over 255*32
	}
	var keys HopKeys
	copy(keys.Forward[:], okm[0:32])
	copy(keys.Backward[:], okm[32:64])
	mac := hmac.New(sha256.New, okm[64:96])
	mac.Write([]byte(authPrefix))
	for _, p := range [][]byte{id, b, y, x} {
		mac.Write(p)
	}
	return keys, mac.Sum(nil)
}

// GenerateOnionKey makes a new X25519 onion key.
func GenerateOnionKey(rand io.Reader) (*ecdh.PrivateKey, error) {
	return generateX25519(rand)
}

func generateX25519(rand io.Reader) (*ecdh.PrivateKey, error) {
	if rand == nil {
		return ecdh.X25519().GenerateKey(nil) // crypto/rand
	}
	var seed [KeyLen]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, err
	}
	return ecdh.X25519().NewPrivateKey(seed[:])
}
