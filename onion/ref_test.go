package onion_test

// Independent reference code for the vectors: the fernet token layout and the
// handshake derivation written out from the specification, from primitives
// only (no onion code, no fernet-go). A vector that both this file and the
// package reproduce pins the format rather than just the current code.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hexBytes is a []byte written in JSON as hex; spaces are allowed so that
// vectors can show their fields apart.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return err
	}
	*h = d
	return nil
}

func (h hexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

// readVectors decodes testdata/name into v.
func readVectors(tb testing.TB, name string, v any) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("testdata/%s: %v", name, err)
	}
}

// refToken builds a raw fernet token by the fernet spec:
// 0x80 | timestamp | IV | AES-128-CBC(PKCS#7(pt)) | HMAC-SHA256 over all before it,
// with key[0:16] the signing key and key[16:32] the encryption key.
func refToken(key [32]byte, version byte, ts uint64, iv [16]byte, pt []byte) []byte {
	padLen := aes.BlockSize - len(pt)%aes.BlockSize
	padded := append(append([]byte{}, pt...), bytes.Repeat([]byte{byte(padLen)}, padLen)...)
	block, err := aes.NewCipher(key[16:32])
	if err != nil {
		panic(err)
	}
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(ct, padded)
	tok := []byte{version}
	tok = binary.BigEndian.AppendUint64(tok, ts)
	tok = append(tok, iv[:]...)
	tok = append(tok, ct...)
	mac := hmac.New(sha256.New, key[0:16])
	mac.Write(tok)
	return mac.Sum(tok)
}

// refLayerPlaintext is the plaintext of one layer: seq (8, big-endian) | kind | body.
func refLayerPlaintext(seq uint64, kind byte, body []byte) []byte {
	pt := binary.BigEndian.AppendUint64(nil, seq)
	pt = append(pt, kind)
	return append(pt, body...)
}

// refHKDF is RFC 5869 HKDF-SHA256 written out with HMAC.
func refHKDF(ikm, salt, info []byte, n int) []byte {
	ext := hmac.New(sha256.New, salt)
	ext.Write(ikm)
	prk := ext.Sum(nil)
	var out, t []byte
	for i := byte(1); len(out) < n; i++ {
		m := hmac.New(sha256.New, prk)
		m.Write(t)
		m.Write(info)
		m.Write([]byte{i})
		t = m.Sum(nil)
		out = append(out, t...)
	}
	return out[:n]
}

// refHandshake is the relay side of the handshake from the specification:
// given the shared secrets it returns Forward, Backward and AUTH.
//
//	okm      = HKDF-SHA256(ikm = s1|s2|ID|B|X|Y, salt = "onion-ntor-v1", info = "onion-ntor-v1:keys", 96)
//	Forward  = okm[0:32], Backward = okm[32:64]
//	AUTH     = HMAC-SHA256(okm[64:96], "onion-ntor-v1:server"|ID|B|Y|X)
func refHandshake(s1, s2, id, b, x, y []byte) (fwd, bwd, auth []byte) {
	ikm := bytes.Join([][]byte{s1, s2, id, b, x, y}, nil)
	okm := refHKDF(ikm, []byte("onion-ntor-v1"), []byte("onion-ntor-v1:keys"), 96)
	m := hmac.New(sha256.New, okm[64:96])
	m.Write([]byte("onion-ntor-v1:server"))
	for _, p := range [][]byte{id, b, y, x} {
		m.Write(p)
	}
	return okm[0:32], okm[32:64], m.Sum(nil)
}

func mustX25519(seed []byte) *ecdh.PrivateKey {
	k, err := ecdh.X25519().NewPrivateKey(seed)
	if err != nil {
		panic(err)
	}
	return k
}

func mustECDH(priv *ecdh.PrivateKey, pub []byte) []byte {
	p, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		panic(err)
	}
	s, err := priv.ECDH(p)
	if err != nil {
		panic(fmt.Sprintf("ecdh: %v", err))
	}
	return s
}

// seqBytes returns n bytes start, start+1, start+2, ... for readable fixed inputs.
func seqBytes(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// flipBit returns a copy of b with bit i (counting from the first byte's MSB) flipped.
func flipBit(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i/8] ^= 0x80 >> (i % 8)
	return c
}

// refDescriptorSignedBytes is PROTOCOL.md §7.1 written out: the tag, then
// nickname, address, identity key and onion key each with a 2-byte
// big-endian length, then exit (1 byte) and published (8 bytes, big-endian).
func refDescriptorSignedBytes(nick, addr string, id, onionKey []byte, exit bool, published int64) []byte {
	b := []byte("onion-relay-descriptor-v1")
	for _, f := range [][]byte{[]byte(nick), []byte(addr), id, onionKey} {
		b = append(b, byte(len(f)>>8), byte(len(f)))
		b = append(b, f...)
	}
	if exit {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return binary.BigEndian.AppendUint64(b, uint64(published))
}
