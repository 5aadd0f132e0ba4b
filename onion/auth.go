package onion

// Challenge-response authentication to a hidden service, PROTOCOL.md §12.
// The password never travels: the client derives a verifier from it with
// scrypt and answers a fresh challenge with an HMAC under that verifier; the
// service, which stores only verifiers, answers with its own HMAC so a fake
// service learns nothing and is caught.

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/crypto/scrypt"
)

// Auth sizes and bounds.
const (
	AuthNonceLen    = 32
	AuthProofLen    = sha256.Size
	AuthSaltLen     = 16
	AuthVerifierLen = 32
	MaxUserLen      = 64
	// AuthLogN bounds: scrypt N = 1<<logN with r=8, p=1. 15 costs ~32 MiB
	// and tens of milliseconds. A client answers no challenge outside
	// [MinAuthLogN, MaxAuthLogN]: above, a service would make it spend
	// too much; below, a service that received a proof could test
	// password guesses offline too cheaply. 14 (16 MiB) leaves a service
	// one step below the default and costs a guesser 16 times what the
	// old floor of 10 did.
	DefaultAuthLogN  = 15
	MinAuthLogN      = 14
	MaxAuthLogN      = 18
	authChallengeLen = 1 + AuthNonceLen
	saltTag          = "onion-auth-salt-v1"
	clientProofTag   = "onion-auth-client-v1"
	serverProofTag   = "onion-auth-server-v1"
)

// ErrBadAuth is the error for a malformed auth message.
var ErrBadAuth = errors.New("onion: malformed auth message")

// ErrAuthCost is the error for a challenge whose scrypt cost is outside
// [MinAuthLogN, MaxAuthLogN]: well formed, but no client may answer it.
var ErrAuthCost = errors.New("onion: scrypt cost refused")

// AuthSalt is the scrypt salt for user at the service with key serviceKey.
// It is derived, not stored or sent, so the challenge carries nothing
// user-specific and needs no extra round trip; binding it to the service key
// and user makes every verifier unique across services and users.
func AuthSalt(serviceKey []byte, user string) []byte {
	h := sha256.New()
	h.Write([]byte(saltTag))
	h.Write(serviceKey)
	h.Write([]byte(user))
	return h.Sum(nil)[:AuthSaltLen]
}

// DeriveVerifier turns a password into the verifier the service stores.
func DeriveVerifier(serviceKey []byte, user, password string, logN uint8) ([]byte, error) {
	if logN < MinAuthLogN || logN > MaxAuthLogN {
		return nil, fmt.Errorf("onion: scrypt cost 2^%d out of range", logN)
	}
	return scrypt.Key([]byte(password), AuthSalt(serviceKey, user), 1<<logN, 8, 1, AuthVerifierLen)
}

// AuthChallenge is what the service sends after BEGIN: the scrypt cost and a
// fresh nonce.
type AuthChallenge struct {
	LogN  uint8
	Nonce [AuthNonceLen]byte
}

// MarshalBinary encodes c: logN | nonce.
func (c AuthChallenge) MarshalBinary() ([]byte, error) {
	return append([]byte{c.LogN}, c.Nonce[:]...), nil
}

// UnmarshalBinary decodes b into c. A cost out of bounds is ErrAuthCost.
func (c *AuthChallenge) UnmarshalBinary(b []byte) error {
	if len(b) != authChallengeLen {
		return fmt.Errorf("%w: challenge", ErrBadAuth)
	}
	if b[0] < MinAuthLogN || b[0] > MaxAuthLogN {
		return fmt.Errorf("%w: the service asks for 2^%d, clients answer only 2^%d to 2^%d",
			ErrAuthCost, b[0], MinAuthLogN, MaxAuthLogN)
	}
	c.LogN = b[0]
	copy(c.Nonce[:], b[1:])
	return nil
}

// AuthProof is the client's answer.
type AuthProof struct {
	User  string
	Nonce [AuthNonceLen]byte // the client's nonce: the service's proof covers it too
	Proof [AuthProofLen]byte
}

// MarshalBinary encodes p: len(user) 1 | user | nonce | proof.
func (p AuthProof) MarshalBinary() ([]byte, error) {
	if err := checkUser(p.User); err != nil {
		return nil, err
	}
	b := append([]byte{byte(len(p.User))}, p.User...)
	b = append(b, p.Nonce[:]...)
	return append(b, p.Proof[:]...), nil
}

// UnmarshalBinary decodes b into p.
func (p *AuthProof) UnmarshalBinary(b []byte) error {
	if len(b) < 1 || len(b) != 1+int(b[0])+AuthNonceLen+AuthProofLen {
		return fmt.Errorf("%w: proof of %d bytes", ErrBadAuth, len(b))
	}
	n := int(b[0]) // int first: 1+b[0] in byte arithmetic wraps at 255
	user := string(b[1 : 1+n])
	if err := checkUser(user); err != nil {
		return err
	}
	p.User = user
	copy(p.Nonce[:], b[1+len(user):])
	copy(p.Proof[:], b[1+len(user)+AuthNonceLen:])
	return nil
}

func checkUser(u string) error {
	if u == "" || len(u) > MaxUserLen {
		return fmt.Errorf("%w: user name must be 1-%d bytes", ErrBadAuth, MaxUserLen)
	}
	for i := 0; i < len(u); i++ {
		if u[i] < 0x21 || u[i] > 0x7e {
			return fmt.Errorf("%w: user name must be printable ASCII without spaces", ErrBadAuth)
		}
	}
	return nil
}

// CheckUserName reports whether u is a valid user name.
func CheckUserName(u string) error { return checkUser(u) }

// AuthResult is the service's verdict. When OK, Proof is the service's
// proof that it holds the verifier.
type AuthResult struct {
	OK    bool
	Proof [AuthProofLen]byte
}

// MarshalBinary encodes r: 1 | proof, or 0.
func (r AuthResult) MarshalBinary() ([]byte, error) {
	if !r.OK {
		return []byte{0}, nil
	}
	return append([]byte{1}, r.Proof[:]...), nil
}

// UnmarshalBinary decodes b into r.
func (r *AuthResult) UnmarshalBinary(b []byte) error {
	switch {
	case len(b) == 1 && b[0] == 0:
		*r = AuthResult{}
	case len(b) == 1+AuthProofLen && b[0] == 1:
		r.OK = true
		copy(r.Proof[:], b[1:])
	default:
		return fmt.Errorf("%w: result of %d bytes", ErrBadAuth, len(b))
	}
	return nil
}

// ClientProof is HMAC-SHA256(verifier, tag | service key | challenge nonce |
// client nonce | len(user) as one byte | user).
func ClientProof(verifier, serviceKey []byte, c AuthChallenge, p AuthProof) [AuthProofLen]byte {
	return authMAC(clientProofTag, verifier, serviceKey, c, p)
}

// ServerProof is the same MAC under another tag: the service's answer.
func ServerProof(verifier, serviceKey []byte, c AuthChallenge, p AuthProof) [AuthProofLen]byte {
	return authMAC(serverProofTag, verifier, serviceKey, c, p)
}

func authMAC(tag string, verifier, serviceKey []byte, c AuthChallenge, p AuthProof) [AuthProofLen]byte {
	m := hmac.New(sha256.New, verifier)
	m.Write([]byte(tag))
	m.Write(serviceKey)
	m.Write(c.Nonce[:])
	m.Write(p.Nonce[:])
	m.Write([]byte{byte(len(p.User))})
	m.Write([]byte(p.User))
	var out [AuthProofLen]byte
	m.Sum(out[:0])
	return out
}

// ProofEqual compares two proofs in constant time.
func ProofEqual(a, b [AuthProofLen]byte) bool { return hmac.Equal(a[:], b[:]) }
