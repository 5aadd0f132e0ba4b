// Package keyfile stores a process's long-term secret keys in its data
// directory: one key per file, created with mode 0600 inside a 0700
// directory, and refused when anyone but the owner could read it. It knows
// nothing of what the keys are for.
package keyfile

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const seedLen = 32

// Ed25519 loads the ed25519 key in path, creating it if the file does not exist.
func Ed25519(path string) (ed25519.PrivateKey, error) {
	seed, err := loadOrCreate(path)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// X25519 loads the X25519 key in path, creating it if the file does not exist.
func X25519(path string) (*ecdh.PrivateKey, error) {
	seed, err := loadOrCreate(path)
	if err != nil {
		return nil, err
	}
	return ecdh.X25519().NewPrivateKey(seed)
}

func loadOrCreate(path string) ([]byte, error) {
	seed, err := load(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return seed, err
	}
	seed = make([]byte, seedLen)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("key directory: %w", err)
	}
	// Write a temporary file, sync it, then link it into place: a crash never
	// leaves a half-written key, and os.Link fails if the name exists, so two
	// processes sharing a data dir agree on one key instead of overwriting.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(seed) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return load(path) // another process won the race: use its key
		}
		return nil, fmt.Errorf("create key file: %w", err)
	}
	return seed, nil
}

// CheckPrivate refuses a secret file (what names it: "key file", "users
// file"...) that anyone but its owner could read.
func CheckPrivate(what, path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s %s has mode %04o: others can read it; run chmod 600 %s",
			what, path, st.Mode().Perm(), path)
	}
	return nil
}

func load(path string) ([]byte, error) {
	if err := CheckPrivate("key file", path); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != seedLen {
		return nil, fmt.Errorf("key file %s is not a base64 32-byte key", path)
	}
	return seed, nil
}

// LoadX25519 loads the X25519 key in path; unlike X25519 it never creates one.
func LoadX25519(path string) (*ecdh.PrivateKey, error) {
	seed, err := load(path)
	if err != nil {
		return nil, err
	}
	return ecdh.X25519().NewPrivateKey(seed)
}
