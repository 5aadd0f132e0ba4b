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
