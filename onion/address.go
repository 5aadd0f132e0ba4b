package onion

// Onion addresses, PROTOCOL.md §11 (hidden services).
//
// An onion address names a hidden service by its ed25519 public key:
//
//	address  = base32(PUBKEY | CHECKSUM | VERSION) ".onion"
//	CHECKSUM = SHA3-256("onion-address-checksum" | PUBKEY | VERSION)[0:2]
//	VERSION  = 0x01
//
// base32 is RFC 4648's alphabet in lower case without padding; the 35 bytes
// encode to exactly 56 characters, with no spare bits, so each key has one
// spelling (apart from letter case, which is ignored).

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha3"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// Address layout.
const (
	AddressSuffix = ".onion"
	// AddressLen is the length of a whole address, suffix included.
	AddressLen = addressLabelLen + len(AddressSuffix)

	addressVersion     = 0x01
	addressLabelLen    = 56 // base32 of the 35 bytes below, with no bits to spare
	addressBytes       = ed25519.PublicKeySize + checksumLen + 1
	checksumLen        = 2
	addressChecksumTag = "onion-address-checksum"
)

// ErrBadAddress is wrapped by every error ParseAddress returns.
var ErrBadAddress = errors.New("onion: bad onion address")

var addressEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// EncodeAddress returns the onion address of the service key pub, in lower
// case and with the ".onion" suffix. It panics if pub is not 32 bytes.
func EncodeAddress(pub ed25519.PublicKey) string {
	if len(pub) != ed25519.PublicKeySize {
		panic(fmt.Sprintf("onion: EncodeAddress of a %d-byte key", len(pub)))
	}
	raw := make([]byte, 0, addressBytes)
	raw = append(raw, pub...)
	raw = append(raw, addressChecksum(pub, addressVersion)...)
	raw = append(raw, addressVersion)
	return addressEncoding.EncodeToString(raw) + AddressSuffix
}

func addressChecksum(pub []byte, version byte) []byte {
	h := sha3.New256()
	h.Write([]byte(addressChecksumTag))
	h.Write(pub)
	h.Write([]byte{version})
	return h.Sum(nil)[:checksumLen]
}

// IsOnionHost reports whether host is meant as an onion address: it ends in
// ".onion" (any letter case, with or without a final dot). Such a host must
// never be resolved or sent to an exit, even when ParseAddress refuses it.
func IsOnionHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	return len(host) >= len(AddressSuffix) && asciiLower(host[len(host)-len(AddressSuffix):]) == AddressSuffix
}

// ParseAddress returns the service key an onion address names. It accepts
// upper or lower case and requires the ".onion" suffix. Every error wraps
// ErrBadAddress and says what is wrong; a mistyped character shows up as a
// checksum mismatch rather than as a connection to another service. The
// error never repeats the address, which is for the caller to show or not.
func ParseAddress(s string) (ed25519.PublicKey, error) {
	pub, err := parseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadAddress, err)
	}
	return pub, nil
}

func parseAddress(s string) (ed25519.PublicKey, error) {
	label, ok := strings.CutSuffix(asciiLower(s), AddressSuffix)
	if !ok {
		return nil, fmt.Errorf("does not end in %q", AddressSuffix)
	}
	if len(label) != addressLabelLen {
		return nil, fmt.Errorf("%d characters before %q, want %d", len(label), AddressSuffix, addressLabelLen)
	}
	// Checked by hand: the base32 decoder would skip '\r' and '\n'.
	for i := 0; i < len(label); i++ {
		if c := label[i]; !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return nil, fmt.Errorf("character %d is not base32 (a-z, 2-7)", i+1)
		}
	}
	raw, err := addressEncoding.DecodeString(label)
	if err != nil || len(raw) != addressBytes {
		return nil, errors.New("not base32")
	}
	pub, sum, version := raw[:ed25519.PublicKeySize], raw[ed25519.PublicKeySize:addressBytes-1], raw[addressBytes-1]
	if version != addressVersion {
		return nil, fmt.Errorf("unknown version %d", version)
	}
	if !bytes.Equal(sum, addressChecksum(pub, version)) {
		return nil, errors.New("checksum mismatch: a typo?")
	}
	if smallOrder(pub) {
		return nil, errors.New("the key is a small-order point that anyone can sign for")
	}
	return ed25519.PublicKey(pub), nil
}

// smallOrderPoints are the encodings of the eight points of order 1, 2, 4
// and 8, with the sign bit of x cleared (libsodium's blocklist). A service
// key among them lets anyone forge its signatures; no real key is one.
var smallOrderPoints = [][ed25519.PublicKeySize]byte{
	{0x00},     // y = 0, order 4
	{0x01},     // y = 1, the identity
	ones(0xec), // y = p-1, order 2
	ones(0xed), // y = p, a non-canonical 0
	ones(0xee), // y = p+1, a non-canonical 1
	{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, // order 8
		0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
	{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, // order 8
		0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
}

// ones is first followed by 0xff bytes and a final 0x7f: p-1, p and p+1
// little-endian for first = 0xec, 0xed, 0xee.
func ones(first byte) [ed25519.PublicKeySize]byte {
	var k [ed25519.PublicKeySize]byte
	for i := range k {
		k[i] = 0xff
	}
	k[0], k[len(k)-1] = first, 0x7f
	return k
}

// smallOrder reports whether the 32-byte key pub encodes a point of small
// order, ignoring the sign bit.
func smallOrder(pub []byte) bool {
	var k [ed25519.PublicKeySize]byte
	copy(k[:], pub)
	k[len(k)-1] &= 0x7f
	for _, p := range smallOrderPoints {
		if k == p {
			return true
		}
	}
	return false
}

// asciiLower lowers ASCII letters only: Unicode case folding would let
// other characters (the Kelvin sign, say) pass as letters of an address.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
