package directory

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"

	"onion/internal/keyfile"
	"onion/onion"
)

// LoadKey loads the signing key from dataDir/directory.key, creating it on
// first use, and writes its public half to dataDir/directory.pub for
// operators and scripts to hand out.
func LoadKey(dataDir string) (ed25519.PrivateKey, error) {
	key, err := keyfile.Ed25519(filepath.Join(dataDir, "directory.key"))
	if err != nil {
		return nil, fmt.Errorf("directory key: %w", err)
	}
	pub := onion.EncodeKey(key.Public().(ed25519.PublicKey))
	if err := os.WriteFile(filepath.Join(dataDir, "directory.pub"), []byte(pub+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write directory public key: %w", err)
	}
	return key, nil
}
