//go:build amd64 && !purego

package aescbc

import "golang.org/x/sys/cpu"

var useAsm = cpu.X86.HasAES && cpu.X86.HasSSE41

// expandKey writes the AES-128 round keys for key into enc and the
// equivalent inverse cipher's round keys (InvMixColumns applied to rounds
// 1-9, in reverse order) into dec.
//
//go:noescape
func expandKey(key []byte, enc, dec *[11 * BlockSize]byte)

// encryptCBC encrypts src into dst, chaining from *iv, and leaves the last
// ciphertext block in *iv.
//
//go:noescape
func encryptCBC(enc *[11 * BlockSize]byte, iv *[BlockSize]byte, dst, src []byte)

// decryptCBC decrypts src into dst four blocks at a time, chaining from *iv,
// and leaves the last ciphertext block in *iv. dst may be src.
//
//go:noescape
func decryptCBC(dec *[11 * BlockSize]byte, iv *[BlockSize]byte, dst, src []byte)
