package aescbc

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"unsafe"
)

// KeySize is the only key size: fernet's signing and encryption keys are 16
// bytes each.
const KeySize = 16

// BlockSize is AES's block size.
const BlockSize = aes.BlockSize

// Cipher holds one AES-128 key, expanded for both directions. It is safe for
// concurrent use: it is never written after New.
type Cipher struct {
	enc   [11 * BlockSize]byte // round keys, assembly path
	dec   [11 * BlockSize]byte // equivalent inverse round keys, assembly path
	block cipher.Block         // the generic path
}

// New expands a 16-byte key.
func New(key []byte) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("aescbc: key is %d bytes, want %d", len(key), KeySize)
	}
	c := &Cipher{}
	if useAsm {
		expandKey(key, &c.enc, &c.dec)
		return c, nil
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	c.block = b
	return c, nil
}

// Encrypt CBC-encrypts src into dst (which may be src itself, but must not
// otherwise overlap it: that panics) under iv. len(src) must be a multiple of BlockSize
// and dst at least as long.
func (c *Cipher) Encrypt(iv *[BlockSize]byte, dst, src []byte) {
	check(dst, src)
	if len(src) == 0 {
		return
	}
	if useAsm {
		chain := *iv
		encryptCBC(&c.enc, &chain, dst[:len(src)], src)
		return
	}
	cipher.NewCBCEncrypter(c.block, iv[:]).CryptBlocks(dst, src)
}

// EncryptSHA256 CBC-encrypts buf[off:] in place under iv, as Encrypt does,
// and meanwhile compresses whole 64-byte blocks from the start of buf
// (which then holds ciphertext) into the SHA-256 state st: the
// compression function alone, no padding and no length. It returns how
// many bytes of buf it compressed: a multiple of 64, 0 where it compressed
// none; buf[n:] is left for the caller to hash. With the assembly (amd64
// with AES-NI and the SHA extensions) the two overlap in one loop, which
// is what makes encrypt-then-MAC cheaper than an encryption and then a
// hash; elsewhere it encrypts and returns 0. len(buf)-off must be a
// multiple of BlockSize.
func (c *Cipher) EncryptSHA256(iv *[BlockSize]byte, buf []byte, off int, st *[8]uint32) int {
	if off < 0 || off > len(buf) {
		panic("aescbc: offset outside the buffer")
	}
	ct := buf[off:]
	chunks := len(ct) / 64
	if !useSHA || chunks == 0 || len(ct)%BlockSize != 0 {
		c.Encrypt(iv, ct, ct) // panics on a partial block, as Encrypt does
		return 0
	}
	chain := *iv
	encryptSHA256(&c.enc, &chain, buf, off, chunks, st)
	if rest := ct[64*chunks:]; len(rest) > 0 {
		encryptCBC(&c.enc, &chain, rest, rest)
	}
	return 64 * chunks
}

// Decrypt CBC-decrypts src into dst (which may be src itself, but must not
// otherwise overlap it: that panics) under iv. len(src) must be a multiple of BlockSize
// and dst at least as long.
func (c *Cipher) Decrypt(iv *[BlockSize]byte, dst, src []byte) {
	check(dst, src)
	if len(src) == 0 {
		return
	}
	if useAsm {
		chain := *iv
		decryptCBC(&c.dec, &chain, dst[:len(src)], src)
		return
	}
	cipher.NewCBCDecrypter(c.block, iv[:]).CryptBlocks(dst, src)
}

// check panics on misuse, as crypto/cipher's CBC does: these are
// programming errors, never input from a peer.
func check(dst, src []byte) {
	if len(src)%BlockSize != 0 {
		panic("aescbc: input not full blocks")
	}
	if len(dst) < len(src) {
		panic("aescbc: output smaller than input")
	}
	if inexactOverlap(dst[:len(src)], src) {
		panic("aescbc: invalid buffer overlap")
	}
}

// inexactOverlap reports whether x and y share memory without starting at
// the same byte. Working in place is fine; any other overlap would make the
// loops read blocks they have already overwritten. (crypto/internal/alias's
// InexactOverlap, which crypto/cipher uses, has the same meaning.)
func inexactOverlap(x, y []byte) bool {
	if len(x) == 0 || len(y) == 0 || &x[0] == &y[0] {
		return false
	}
	x0, y0 := uintptr(unsafe.Pointer(&x[0])), uintptr(unsafe.Pointer(&y[0]))
	return x0 <= y0+uintptr(len(y)-1) && y0 <= x0+uintptr(len(x)-1)
}
