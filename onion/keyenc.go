package onion

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
)

// EncodeKey is the text form of a public key used on the command line and in
// files: unpadded URL-safe base64 (43 characters for 32 bytes).
func EncodeKey(k []byte) string { return base64.RawURLEncoding.EncodeToString(k) }

// DecodeDirectoryKey parses a directory's public key as printed by
// `onion directory`.
func DecodeDirectoryKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("onion: directory key %q is not 43 characters of URL-safe base64", s)
	}
	return ed25519.PublicKey(b), nil
}
