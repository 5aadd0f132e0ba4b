package aescbc

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"testing"
)

// shaState is SHA-256's chaining state after prefix and data (together a
// whole number of 64-byte blocks), read from the standard library's
// marshalled digest: magic (4 bytes), then the eight state words.
func shaState(t *testing.T, prefix, data []byte) [8]uint32 {
	t.Helper()
	if (len(prefix)+len(data))%64 != 0 {
		t.Fatalf("shaState: %d bytes, not whole blocks", len(prefix)+len(data))
	}
	h := sha256.New()
	h.Write(prefix)
	h.Write(data)
	b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var st [8]uint32
	for i := range st {
		st[i] = binary.BigEndian.Uint32(b[4+4*i:])
	}
	return st
}

// TestEncryptSHA256: for offsets 0 (the hash starts with the ciphertext),
// 25 (a fernet token's header) and 71 (more than a block of header), and
// every length from 0 to 40 blocks, the buffer is encrypted as
// crypto/cipher does, the state advanced exactly by the whole blocks it
// reports (as crypto/sha256 would, from a state that is not SHA-256's
// initial one, as an HMAC's inner hash starts), and the IV left alone.
func TestEncryptSHA256(t *testing.T) {
	t.Logf("stitched assembly in use: %v", useSHA)
	prefix := make([]byte, 64)
	rand.Read(prefix)
	start := shaState(t, prefix, nil)
	for k := 0; k < 4; k++ {
		key := make([]byte, KeySize)
		rand.Read(key)
		c, err := New(key)
		if err != nil {
			t.Fatal(err)
		}
		std, _ := aes.NewCipher(key)
		for _, off := range []int{0, 25, 71} {
			for n := 0; n <= 40*BlockSize; n += BlockSize {
				var iv [BlockSize]byte
				rand.Read(iv[:])
				ivCopy := iv
				buf := make([]byte, off+n)
				rand.Read(buf)
				want := bytes.Clone(buf)
				cipher.NewCBCEncrypter(std, iv[:]).CryptBlocks(want[off:], want[off:])

				st := start
				hashed := c.EncryptSHA256(&iv, buf, off, &st)
				if !bytes.Equal(buf, want) {
					t.Fatalf("key %d, offset %d, %d bytes: encryption differs from crypto/cipher", k, off, n)
				}
				if wantHashed := 64 * (n / 64); useSHA && hashed != wantHashed || !useSHA && hashed != 0 {
					t.Fatalf("key %d, offset %d, %d bytes: hashed %d bytes", k, off, n, hashed)
				}
				if got, want := st, shaState(t, prefix, want[:hashed]); got != want {
					t.Fatalf("key %d, offset %d, %d bytes: state after %d bytes differs from crypto/sha256", k, off, n, hashed)
				}
				if iv != ivCopy {
					t.Fatalf("key %d, offset %d, %d bytes: the IV was changed", k, off, n)
				}
			}
		}
	}
}

func BenchmarkEncryptSHA256_16K(b *testing.B) {
	key := make([]byte, KeySize)
	buf := make([]byte, 25+16384)
	var iv [BlockSize]byte
	var st [8]uint32
	c, _ := New(key)
	b.SetBytes(16384)
	for b.Loop() {
		c.EncryptSHA256(&iv, buf, 25, &st)
	}
}

// BenchmarkEncryptThenSHA256_16K is the same work in two passes: the
// encryption, then the standard library's SHA-256 over the buffer.
func BenchmarkEncryptThenSHA256_16K(b *testing.B) {
	key := make([]byte, KeySize)
	buf := make([]byte, 25+16384)
	var iv [BlockSize]byte
	c, _ := New(key)
	h := sha256.New()
	b.SetBytes(16384)
	for b.Loop() {
		c.Encrypt(&iv, buf[25:], buf[25:])
		h.Reset()
		h.Write(buf[:16384])
	}
}
