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
	"encoding"
	"encoding/binary"
	"hash"
	"sync"

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
	// inner and outer are SHA-256's states after HMAC's first block, the
	// key XOR ipad and XOR opad: every MAC, sealed or checked, starts its
	// two hashes from them (macDigest.hmac).
	inner, outer [8]uint32
}

func newTokenKeys(k fernet.Key) tokenKeys {
	cbc, err := aescbc.New(k[16:32])
	if err != nil {
		panic("onion: AES-128 key: " + err.Error()) // 16 bytes always work
	}
	t := tokenKeys{cbc: cbc}
	var ipad, opad [sha256.BlockSize]byte
	copy(ipad[:], k[0:16])
	copy(opad[:], k[0:16])
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	t.inner, t.outer = blockState(ipad[:]), blockState(opad[:])
	return t
}

// HMAC runs from saved states, through the standard library's SHA-256
// digest marshalled and unmarshalled (its documented binary form: magic,
// the eight state words, the buffered block, the length), so that seal's
// aescbc.EncryptSHA256 can hash the token while it encrypts it. (This is
// how crypto/hmac resets itself too; one digest from a pool serves every
// key, where an hmac.Hash per key would hold two.)
const (
	shaMagic         = "sha\x03"
	shaMarshaledSize = len(shaMagic) + 8*4 + sha256.BlockSize + 8
)

// macDigest is a SHA-256 digest that is resumed from a saved state for
// each hash, with the buffers for that (on the heap already, where the
// digest's interface would have moved them). It carries nothing from one
// MAC to the next.
type macDigest struct {
	h     hash.Hash
	state [shaMarshaledSize]byte
	sum   [sha256.Size]byte
}

var macDigests = sync.Pool{New: func() any { return &macDigest{h: sha256.New()} }}

// blockState is SHA-256's state after one 64-byte block.
func blockState(block []byte) [8]uint32 {
	h := sha256.New()
	h.Write(block)
	b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil || len(b) != shaMarshaledSize || string(b[:len(shaMagic)]) != shaMagic {
		panic("onion: SHA-256 state: unexpected marshalled form")
	}
	var st [8]uint32
	for i := range st {
		st[i] = binary.BigEndian.Uint32(b[len(shaMagic)+4*i:])
	}
	return st
}

// resume sets the digest to the SHA-256 state st after n bytes (a
// multiple of the block size).
func (s *macDigest) resume(st *[8]uint32, n int) {
	b := s.state[:]
	clear(b)
	copy(b, shaMagic)
	for i, w := range st {
		binary.BigEndian.PutUint32(b[len(shaMagic)+4*i:], w)
	}
	binary.BigEndian.PutUint64(b[shaMarshaledSize-8:], uint64(n))
	if err := s.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(b); err != nil {
		panic("onion: SHA-256 state: " + err.Error()) // blockState checked the form
	}
}

// hmac returns HMAC-SHA256 of msg under t's key, in s's buffer (valid
// until s goes back to the pool). st is the inner hash's state after its
// key block and msg[:hashed], hashed a multiple of the block size: t.inner
// and 0 for a MAC computed here from the start.
func (s *macDigest) hmac(t *tokenKeys, st *[8]uint32, hashed int, msg []byte) []byte {
	s.resume(st, sha256.BlockSize+hashed)
	s.h.Write(msg[hashed:])
	inner := s.h.Sum(s.sum[:0])
	s.resume(&t.outer, sha256.BlockSize)
	s.h.Write(inner)
	return s.h.Sum(s.sum[:0])
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
	// Encrypt-then-MAC in one pass where the hardware allows: the inner
	// hash takes in what EncryptSHA256 compressed while it encrypted, then
	// the rest of the token, and the outer hash its sum.
	end := ctOffset + padded
	st := t.inner
	hashed := t.cbc.EncryptSHA256((*[aes.BlockSize]byte)(tok[ivOffset:ctOffset]), tok[:end], ctOffset, &st)
	s := macDigests.Get().(*macDigest)
	defer macDigests.Put(s)
	copy(tok[end:], s.hmac(t, &st, hashed, tok[:end]))
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
	s := macDigests.Get().(*macDigest)
	ok := hmac.Equal(s.hmac(t, &t.inner, 0, tok[:end]), tok[end:]) // constant time
	macDigests.Put(s)
	if !ok {
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
