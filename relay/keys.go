package relay

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"fmt"
	"path/filepath"

	"onion/internal/keyfile"
)

// LoadKeys loads the relay's identity key (identity.key) and onion key
// (onion.key) from dataDir, creating them (mode 0600) on first use.
func LoadKeys(dataDir string) (ed25519.PrivateKey, *ecdh.PrivateKey, error) {
	identity, err := keyfile.Ed25519(filepath.Join(dataDir, "identity.key"))
	if err != nil {
		return nil, nil, fmt.Errorf("identity key: %w", err)
	}
	onionKey, err := keyfile.X25519(filepath.Join(dataDir, "onion.key"))
	if err != nil {
		return nil, nil, fmt.Errorf("onion key: %w", err)
	}
	return identity, onionKey, nil
}
