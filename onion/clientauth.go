package onion

// Client authorization, PROTOCOL.md §11.9: a service that lists authorized
// client keys publishes a descriptor of revision 2, in which the meeting
// points and the end-to-end key are readable only by those clients (Tor v3
// client authorization, simplified). Each client gets an end-to-end key of
// its own, so the service can tell, from the first INTRODUCE, a client it
// authorized from anyone else and leave the rest unanswered.
//
// Every AES-256-GCM key here encrypts exactly one message (the per-client
// keys derive from a fresh ephemeral key, the cookie is fresh per
// descriptor), so the nonce is fixed at zero.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Client authorization sizes and bounds.
const (
	MaxAuthClients  = 64 // authorized clients of one service (a descriptor stays under 16 KiB)
	authPad         = 16 // the client list is padded with fake entries to a multiple of this
	AuthClientIDLen = 8
	cookieLen       = 32
	gcmTagLen       = 16
	// AuthClientSealedLen is one client entry's ciphertext: cookie | its e2e key, and the tag.
	AuthClientSealedLen = cookieLen + KeyLen + gcmTagLen
	maxSealedMeeting    = 8 << 10

	clientAuthInfo = "onion-client-auth-v1"
	clientE2EInfo  = "onion-client-e2e-v1"
)

// Errors a client gets from opening a revision-2 descriptor.
var (
	// ErrClientAuthRequired: the service admits authorized clients only,
	// and no client key is configured for its address.
	ErrClientAuthRequired = errors.New("onion: the service requires client authorization")
	// ErrClientAuthDenied: the client key given is not one the service lists.
	ErrClientAuthDenied = errors.New("onion: the service does not list this client key")
)

// ClientAuth is the encrypted part of a revision-2 descriptor.
type ClientAuth struct {
	Ephemeral []byte       `json:"ephemeral"` // X25519 public key, fresh per descriptor
	Clients   []AuthClient `json:"clients"`   // 16..MaxAuthClients entries, a multiple of 16
	Sealed    []byte       `json:"sealed"`    // the meeting points (JSON array) under the cookie
}

// AuthClient is one authorized client's entry (or a fake one).
type AuthClient struct {
	ID     []byte `json:"id"`     // AuthClientIDLen bytes
	Sealed []byte `json:"sealed"` // AuthClientSealedLen bytes
}

// clientSecret derives client C's entry id and key from the X25519 secret
// shared between the descriptor's ephemeral key and C.
func clientSecret(shared, serviceKey, eph, clientPub []byte) (id, key []byte) {
	info := clientAuthInfo + string(eph) + string(clientPub)
	okm, err := hkdf.Key(sha256.New, shared, serviceKey, info, AuthClientIDLen+32)
	if err != nil {
		panic(err) // only for lengths far beyond these
	}
	return okm[:AuthClientIDLen], okm[AuthClientIDLen:]
}

// ClientE2EKey is the end-to-end key a service with key serviceKey and
// e2e private key e2e answers client clientPub's handshakes with: one per
// client, derived, so nothing more is stored.
func ClientE2EKey(e2e *ecdh.PrivateKey, serviceKey, clientPub []byte) *ecdh.PrivateKey {
	okm, err := hkdf.Key(sha256.New, e2e.Bytes(), serviceKey, clientE2EInfo+string(clientPub), KeyLen)
	if err != nil {
		panic(err)
	}
	k, err := ecdh.X25519().NewPrivateKey(okm)
	if err != nil {
		panic(err) // any 32 bytes are an X25519 private key
	}
	return k
}

func randOrDefault(r io.Reader) io.Reader {
	if r == nil {
		return cryptorand.Reader
	}
	return r
}

func gcmSeal(key, plain []byte) []byte {
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	return aead.Seal(nil, make([]byte, aead.NonceSize()), plain, nil)
}

func gcmOpen(key, sealed []byte) ([]byte, error) {
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	return aead.Open(nil, make([]byte, aead.NonceSize()), sealed, nil)
}

// SealForClients turns d, signed or not, into its revision-2 form for the
// given authorized clients' X25519 public keys: it moves the meeting points
// and the e2e key into a fresh ClientAuth. Sign d afterwards.
func (d *ServiceDescriptor) SealForClients(rand io.Reader, e2e *ecdh.PrivateKey, serviceKey []byte, clients [][]byte) error {
	if n := len(clients); n < 1 || n > MaxAuthClients {
		return fmt.Errorf("onion: %d authorized clients, want 1-%d", n, MaxAuthClients)
	}
	eph, err := generateX25519(rand)
	if err != nil {
		return err
	}
	cookie := make([]byte, cookieLen)
	if _, err := io.ReadFull(randOrDefault(rand), cookie); err != nil {
		return err
	}
	plain, err := json.Marshal(d.MeetingPoints)
	if err != nil {
		return err
	}
	a := &ClientAuth{Ephemeral: eph.PublicKey().Bytes(), Sealed: gcmSeal(cookie, plain)}
	for _, c := range clients {
		pub, err := ecdh.X25519().NewPublicKey(c)
		if err != nil {
			return err
		}
		shared, err := eph.ECDH(pub)
		if err != nil {
			return fmt.Errorf("onion: client key: %w", err)
		}
		id, key := clientSecret(shared, serviceKey, a.Ephemeral, c)
		own := ClientE2EKey(e2e, serviceKey, c).PublicKey().Bytes()
		a.Clients = append(a.Clients, AuthClient{ID: id, Sealed: gcmSeal(key, append(append([]byte{}, cookie...), own...))})
	}
	for len(a.Clients)%authPad != 0 { // fakes: the count shows only a bound
		fake := make([]byte, AuthClientIDLen+AuthClientSealedLen)
		if _, err := io.ReadFull(randOrDefault(rand), fake); err != nil {
			return err
		}
		a.Clients = append(a.Clients, AuthClient{ID: fake[:AuthClientIDLen], Sealed: fake[AuthClientIDLen:]})
	}
	d.E2EKey, d.MeetingPoints, d.ClientAuth = nil, nil, a
	return nil
}

// OpenForClient is what a client does with a revision-2 descriptor that
// has passed CheckFor: with its key it finds its entry and returns the
// descriptor in revision-1 form (its own e2e key, the meeting points). A
// revision-1 descriptor is returned as it is. key nil gives
// ErrClientAuthRequired; a key without an entry, ErrClientAuthDenied.
func (d *ServiceDescriptor) OpenForClient(key *ecdh.PrivateKey) (ServiceDescriptor, error) {
	a := d.ClientAuth
	if a == nil {
		return *d, nil
	}
	if key == nil {
		return ServiceDescriptor{}, ErrClientAuthRequired
	}
	eph, err := ecdh.X25519().NewPublicKey(a.Ephemeral)
	if err != nil {
		return ServiceDescriptor{}, ErrClientAuthDenied
	}
	shared, err := key.ECDH(eph)
	if err != nil {
		return ServiceDescriptor{}, ErrClientAuthDenied
	}
	id, k := clientSecret(shared, d.ServiceKey, a.Ephemeral, key.PublicKey().Bytes())
	for _, c := range a.Clients {
		if subtle.ConstantTimeCompare(c.ID, id) != 1 {
			continue
		}
		if out, err := d.openEntry(c, k); err == nil {
			return out, nil
		}
	}
	return ServiceDescriptor{}, ErrClientAuthDenied
}

func (d *ServiceDescriptor) openEntry(c AuthClient, key []byte) (ServiceDescriptor, error) {
	inner, err := gcmOpen(key, c.Sealed)
	if err != nil {
		return ServiceDescriptor{}, err
	}
	if len(inner) != cookieLen+KeyLen { // Check bounds it; OpenForClient must not rely on that
		return ServiceDescriptor{}, ErrClientAuthDenied
	}
	plain, err := gcmOpen(inner[:cookieLen], d.ClientAuth.Sealed)
	if err != nil {
		return ServiceDescriptor{}, err
	}
	out := *d
	out.ClientAuth = nil
	out.E2EKey = inner[cookieLen:]
	if err := json.Unmarshal(plain, &out.MeetingPoints); err != nil {
		return ServiceDescriptor{}, fmt.Errorf("onion: sealed meeting points: %w", err)
	}
	if err := checkMeetingPoints(out.MeetingPoints); err != nil {
		return ServiceDescriptor{}, err
	}
	return out, nil
}

// check bounds every field of a.
func (a *ClientAuth) check() error {
	if len(a.Ephemeral) != KeyLen {
		return errors.New("onion: client auth: ephemeral key must be 32 bytes")
	}
	if n := len(a.Clients); n < authPad || n > MaxAuthClients || n%authPad != 0 {
		return fmt.Errorf("onion: client auth: %d entries, want a multiple of %d up to %d", n, authPad, MaxAuthClients)
	}
	for i, c := range a.Clients {
		if len(c.ID) != AuthClientIDLen || len(c.Sealed) != AuthClientSealedLen {
			return fmt.Errorf("onion: client auth: entry %d has the wrong size", i)
		}
	}
	if len(a.Sealed) <= gcmTagLen || len(a.Sealed) > maxSealedMeeting {
		return fmt.Errorf("onion: client auth: sealed meeting points of %d bytes", len(a.Sealed))
	}
	return nil
}

// appendSigned appends a's signed bytes (§11.9).
func (a *ClientAuth) appendSigned(b []byte) []byte {
	b = appendField(b, a.Ephemeral)
	b = append(b, uint8(len(a.Clients)))
	for _, c := range a.Clients {
		b = appendField(b, c.ID)
		b = appendField(b, c.Sealed)
	}
	return appendField(b, a.Sealed)
}
