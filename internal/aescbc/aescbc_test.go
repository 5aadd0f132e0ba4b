package aescbc

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"strings"
	"testing"
)

// TestAgainstStdlib: every length from 0 to 40 blocks, in place and not,
// encrypts and decrypts exactly as crypto/cipher's CBC over crypto/aes does,
// and leaves the caller's IV alone.
func TestAgainstStdlib(t *testing.T) {
	for k := 0; k < 8; k++ {
		key := make([]byte, KeySize)
		rand.Read(key)
		c, err := New(key)
		if err != nil {
			t.Fatal(err)
		}
		std, _ := aes.NewCipher(key)
		for n := 0; n <= 40*BlockSize; n += BlockSize {
			var iv [BlockSize]byte
			rand.Read(iv[:])
			ivCopy := iv
			pt := make([]byte, n)
			rand.Read(pt)

			want := make([]byte, n)
			cipher.NewCBCEncrypter(std, iv[:]).CryptBlocks(want, pt)
			got := make([]byte, n)
			c.Encrypt(&iv, got, pt)
			if !bytes.Equal(got, want) {
				t.Fatalf("key %d, %d bytes: Encrypt differs from crypto/cipher", k, n)
			}
			inPlace := bytes.Clone(pt)
			c.Encrypt(&iv, inPlace, inPlace)
			if !bytes.Equal(inPlace, want) {
				t.Fatalf("key %d, %d bytes: in-place Encrypt differs", k, n)
			}

			dec := make([]byte, n)
			c.Decrypt(&iv, dec, want)
			if !bytes.Equal(dec, pt) {
				t.Fatalf("key %d, %d bytes: Decrypt does not invert", k, n)
			}
			c.Decrypt(&iv, inPlace, inPlace)
			if !bytes.Equal(inPlace, pt) {
				t.Fatalf("key %d, %d bytes: in-place Decrypt does not invert", k, n)
			}
			if iv != ivCopy {
				t.Fatalf("key %d, %d bytes: the IV was changed", k, n)
			}
		}
	}
}

// TestKnownAnswer: the CBC-AES128 vector of NIST SP 800-38A, F.2.1/F.2.2.
func TestKnownAnswer(t *testing.T) {
	key := unhex(t, "2b7e151628aed2a6abf7158809cf4f3c")
	var iv [BlockSize]byte
	copy(iv[:], unhex(t, "000102030405060708090a0b0c0d0e0f"))
	pt := unhex(t, "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
	ct := unhex(t, "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7")
	c, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(pt))
	c.Encrypt(&iv, got, pt)
	if !bytes.Equal(got, ct) {
		t.Fatalf("Encrypt = %x\nwant %x", got, ct)
	}
	c.Decrypt(&iv, got, ct)
	if !bytes.Equal(got, pt) {
		t.Fatalf("Decrypt = %x\nwant %x", got, pt)
	}
}

// TestBadInput: a wrong key size is an error; partial blocks, a short dst
// and a dst that overlaps src without being src (as crypto/cipher refuses)
// panic with their own message; dst longer than src, starting at src, is in
// place and fine.
func TestBadInput(t *testing.T) {
	if _, err := New(make([]byte, 32)); err == nil {
		t.Fatal("New accepted a 32-byte key")
	}
	c, _ := New(make([]byte, KeySize))
	var iv [BlockSize]byte
	buf := make([]byte, 8*BlockSize)
	for _, tc := range []struct {
		name, want string
		f          func()
	}{
		{"partial block", "full blocks", func() { c.Encrypt(&iv, make([]byte, 32), make([]byte, 17)) }},
		{"short dst", "smaller", func() { c.Decrypt(&iv, make([]byte, 16), make([]byte, 32)) }},
		{"encrypt dst a block ahead", "overlap", func() { c.Encrypt(&iv, buf[16:80], buf[0:64]) }},
		{"decrypt dst a block ahead", "overlap", func() { c.Decrypt(&iv, buf[16:80], buf[0:64]) }},
		{"encrypt dst a block behind", "overlap", func() { c.Encrypt(&iv, buf[0:64], buf[16:80]) }},
		{"decrypt dst a block behind", "overlap", func() { c.Decrypt(&iv, buf[0:64], buf[16:80]) }},
		{"decrypt dst one byte ahead", "overlap", func() { c.Decrypt(&iv, buf[1:65], buf[0:64]) }},
		{"decrypt last byte shared", "overlap", func() { c.Decrypt(&iv, buf[63:127], buf[0:64]) }},
		{"in place, longer dst", "", func() { c.Decrypt(&iv, buf, buf[:64]) }},
		{"adjacent", "", func() { c.Encrypt(&iv, buf[64:128], buf[0:64]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				switch {
				case tc.want == "" && r != nil:
					t.Errorf("panic %v", r)
				case tc.want != "" && !strings.Contains(msg, tc.want):
					t.Errorf("panic %v, want one saying %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b := make([]byte, len(s)/2)
	for i := range b {
		var v byte
		for _, ch := range s[2*i : 2*i+2] {
			v <<= 4
			switch {
			case ch >= '0' && ch <= '9':
				v |= byte(ch - '0')
			default:
				v |= byte(ch-'a') + 10
			}
		}
		b[i] = v
	}
	return b
}

func BenchmarkEncrypt16K(b *testing.B) { benchCBC(b, true, false) }
func BenchmarkDecrypt16K(b *testing.B) { benchCBC(b, false, false) }

func BenchmarkStdlibEncrypt16K(b *testing.B) { benchCBC(b, true, true) }
func BenchmarkStdlibDecrypt16K(b *testing.B) { benchCBC(b, false, true) }

func benchCBC(b *testing.B, enc, stdlib bool) {
	key := make([]byte, KeySize)
	buf := make([]byte, 16384)
	var iv [BlockSize]byte
	c, _ := New(key)
	std, _ := aes.NewCipher(key)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		switch {
		case stdlib && enc:
			cipher.NewCBCEncrypter(std, iv[:]).CryptBlocks(buf, buf)
		case stdlib:
			cipher.NewCBCDecrypter(std, iv[:]).CryptBlocks(buf, buf)
		case enc:
			c.Encrypt(&iv, buf, buf)
		default:
			c.Decrypt(&iv, buf, buf)
		}
	}
}

// FuzzAgainstStdlib: any key, IV and whole blocks encrypt and decrypt as
// crypto/cipher's CBC does, into another buffer and in place. Its seed
// corpus, testdata/fuzz/FuzzAgainstStdlib, has the edge lengths: none, one
// block, unaligned, three, four (the decrypt loop's width) and five blocks,
// a full DATA cell's exit layer and the largest token a cell can carry.
func FuzzAgainstStdlib(f *testing.F) {
	f.Add(make([]byte, KeySize), make([]byte, BlockSize), make([]byte, 5*BlockSize))
	f.Fuzz(func(t *testing.T, key, ivb, data []byte) {
		if len(key) != KeySize || len(ivb) != BlockSize {
			return
		}
		data = data[:len(data)/BlockSize*BlockSize]
		var iv [BlockSize]byte
		copy(iv[:], ivb)
		c, err := New(key)
		if err != nil {
			t.Fatal(err)
		}
		std, _ := aes.NewCipher(key)
		want := make([]byte, len(data))
		cipher.NewCBCEncrypter(std, iv[:]).CryptBlocks(want, data)
		got := make([]byte, len(data))
		c.Encrypt(&iv, got, data)
		if !bytes.Equal(got, want) {
			t.Fatal("Encrypt differs from crypto/cipher")
		}
		inPlace := bytes.Clone(data)
		c.Encrypt(&iv, inPlace, inPlace)
		if !bytes.Equal(inPlace, want) {
			t.Fatal("in-place Encrypt differs from crypto/cipher")
		}
		cipher.NewCBCDecrypter(std, iv[:]).CryptBlocks(want, data)
		c.Decrypt(&iv, got, data)
		if !bytes.Equal(got, want) {
			t.Fatal("Decrypt differs from crypto/cipher")
		}
		copy(inPlace, data)
		c.Decrypt(&iv, inPlace, inPlace)
		if !bytes.Equal(inPlace, want) {
			t.Fatal("in-place Decrypt differs from crypto/cipher")
		}

		// EncryptSHA256 behind a header of 0-79 bytes (the IV's first byte
		// picks it): the same ciphertext, and the state of crypto/sha256.
		off := int(ivb[0]) % 80
		buf := append(bytes.Repeat([]byte{0xa5}, off), data...)
		cipher.NewCBCEncrypter(std, iv[:]).CryptBlocks(want, data)
		var zero [64]byte
		st := shaState(t, zero[:], nil)
		hashed := c.EncryptSHA256(&iv, buf, off, &st)
		if !bytes.Equal(buf[off:], want) {
			t.Fatal("EncryptSHA256 differs from crypto/cipher")
		}
		if st != shaState(t, zero[:], buf[:hashed]) {
			t.Fatalf("EncryptSHA256: the state after %d bytes differs from crypto/sha256", hashed)
		}
	})
}
