package oniontest

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"sync"

	"onion/onion"
)

// Keys are a relay's long-term keys, derived from a name so that they are
// the same in every run.
type Keys struct {
	Identity ed25519.PrivateKey
	Onion    *ecdh.PrivateKey
}

// RelayKeys returns fixed keys for the relay called name.
func RelayKeys(name string) Keys {
	id := sha256.Sum256([]byte("oniontest identity " + name))
	ok := sha256.Sum256([]byte("oniontest onion " + name))
	k, err := ecdh.X25519().NewPrivateKey(ok[:])
	if err != nil {
		panic(err)
	}
	return Keys{Identity: ed25519.NewKeyFromSeed(id[:]), Onion: k}
}

// ID is the identity public key, as a CREATE names it.
func (k Keys) ID() []byte { return k.Identity.Public().(ed25519.PublicKey) }

// OnionPub is the onion public key, as a CREATE names it.
func (k Keys) OnionPub() []byte { return k.Onion.PublicKey().Bytes() }

// RelayKeys is what onion.ServerHandshake takes.
func (k Keys) RelayKeys() onion.RelayKeys { return onion.RelayKeys{ID: k.ID(), OnionKey: k.Onion} }

// Rand returns a deterministic entropy source, safe for concurrent use.
func Rand(seed byte) io.Reader {
	return &lockedReader{r: rand.NewChaCha8([32]byte{seed})}
}

type lockedReader struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
