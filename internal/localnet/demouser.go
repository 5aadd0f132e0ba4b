package localnet

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"onion/hiddenserver"
	"onion/internal/keyfile"
)

// Files of the hidden server's data dir. serviceKeyFile is the key file
// `onion hiddenserver` loads from its --data-dir: the users entry is bound
// to that key, so up must use the same one.
const (
	demoUserName   = "demo"
	usersFile      = "users"
	passwordFile   = "demo-password"
	serviceKeyFile = "service.key"
)

// demoUser returns the demo account of the hidden server whose data dir is
// dir. Its password is made once and kept in dir; the users entry is
// written every time, so the two always agree (a kept data dir from an
// older run, a deleted users file).
func demoUser(dir string) (user, password string, err error) {
	// The key first: loading it creates dir, where the password is kept.
	key, err := keyfile.Ed25519(filepath.Join(dir, serviceKeyFile))
	if err != nil {
		return "", "", fmt.Errorf("service key: %w", err)
	}
	pw, err := demoPassword(filepath.Join(dir, passwordFile))
	if err != nil {
		return "", "", err
	}
	pub := key.Public().(ed25519.PublicKey)
	if err := hiddenserver.AddUser(filepath.Join(dir, usersFile), pub, demoUserName, pw); err != nil {
		return "", "", err
	}
	return demoUserName, pw, nil
}

// demoPassword returns the password kept in path, making and keeping a
// fresh one when there is none.
func demoPassword(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b)), nil
	}
	raw := make([]byte, 9) // 72 bits, 12 characters: a demo login, not a vault
	rand.Read(raw)         // never fails: it panics if the system cannot give randomness
	pw := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", err
	}
	return pw, nil
}
