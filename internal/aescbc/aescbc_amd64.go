//go:build amd64 && !purego

package aescbc

import "golang.org/x/sys/cpu"

// useAsm needs AES-NI only: besides the AES instructions, the assembly uses
// SSE and SSE2 (MOVUPS, MOVAPS, SHUFPS, PSHUFD, PXOR), which every amd64
// CPU has, and nothing from SSSE3 or SSE4.1.
var useAsm = cpu.X86.HasAES

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
