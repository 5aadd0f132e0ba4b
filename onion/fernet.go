package onion

// Raw fernet tokens, sealed and opened with internal/aescbc's AES-128-CBC
// (amd64 assembly, checked against crypto/cipher) and the standard
// library's HMAC-SHA256 (PROTOCOL.md §4.1). The format is fernet's, byte for
// byte, with the timestamp fixed at zero; the tests check every token
// against github.com/fernet/fernet-go both ways. fernet-go itself speaks
// base64 and allocates per call, which costs more than the cipher on this
// path (see docs/PERFORMANCE.md).

import (
	"crypto/aes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"

	"github.com/fernet/fernet-go"

	"onion/internal/aescbc"
)

const (
	tokenVersion = 0x80
	ivOffset     = 1 + 8 // version | timestamp
	ctOffset     = ivOffset + aes.BlockSize
)

// tokenKeys holds one fernet key's two halves, ready to use: bytes 0-15
// sign (HMAC-SHA256), bytes 16-31 encrypt (AES-128-CBC).
type tokenKeys struct {
	cbc *aescbc.Cipher
	mac hash.Hash
}

func newTokenKeys(k fernet.Key) tokenKeys {
	cbc, err := aescbc.New(k[16:32])
	if err != nil {
		panic("onion: AES-128 key: " + err.Error()) // 16 bytes always work
	}
	return tokenKeys{cbc: cbc, mac: hmac.New(sha256.New, k[0:16])}
}

// seal returns the raw token of hdr | body in a pooled buffer (see Recycle),
// encrypted in place.
func (t *tokenKeys) seal(hdr, body []byte) ([]byte, error) {
	n := len(hdr) + len(body)
	padded := (n/aes.BlockSize + 1) * aes.BlockSize
	tok := getBuf(ctOffset + padded + sha256.Size) // every byte is written below
	tok[0] = tokenVersion
	clear(tok[1:ivOffset]) // timestamp zero: no clock on the wire
	if _, err := rand.Read(tok[ivOffset:ctOffset]); err != nil {
		return nil, err
	}
	ct := tok[ctOffset : ctOffset+padded]
	copy(ct, hdr)
	copy(ct[len(hdr):], body)
	pad := byte(padded - n) // PKCS#7: always 1-16 bytes
	for i := n; i < padded; i++ {
		ct[i] = pad
	}
	t.cbc.Encrypt((*[aes.BlockSize]byte)(tok[ivOffset:ctOffset]), ct, ct)
	t.mac.Reset()
	t.mac.Write(tok[:ctOffset+padded])
	t.mac.Sum(tok[:ctOffset+padded])
	return tok, nil
}

// open checks a raw token's shape and MAC, then decrypts and unpads it into
// a new buffer (or, inPlace, into tok itself, which it then aliases). Every
// failure is the same false. A bad shape or MAC leaves tok untouched; once
// the MAC holds, an inPlace open has decrypted tok's ciphertext, so after a
// padding failure tok holds that plaintext: the caller must discard it.
func (t *tokenKeys) open(tok []byte, inPlace bool) ([]byte, bool) {
	if len(tok) < MinTokenLen || (len(tok)-TokenOverhead)%aes.BlockSize != 0 || tok[0] != tokenVersion {
		return nil, false
	}
	end := len(tok) - sha256.Size
	t.mac.Reset()
	t.mac.Write(tok[:end])
	var sum [sha256.Size]byte
	if !hmac.Equal(t.mac.Sum(sum[:0]), tok[end:]) { // constant time
		return nil, false
	}
	var pt []byte
	if inPlace {
		pt = tok[ctOffset:end]
	} else {
		pt = make([]byte, end-ctOffset)
	}
	t.cbc.Decrypt((*[aes.BlockSize]byte)(tok[ivOffset:ctOffset]), pt, tok[ctOffset:end])
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, false
	}
	for _, b := range pt[len(pt)-pad:] {
		if int(b) != pad {
			return nil, false
		}
	}
	return pt[:len(pt)-pad], true
}
