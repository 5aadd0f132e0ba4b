//go:build amd64 && !purego

package aescbc

import "golang.org/x/sys/cpu"

// useSHA adds the SHA extensions (and the SSSE3, SSE4.1 and AVX moves and
// shuffles of the standard library's SHA-NI rounds) to useAsm's AES-NI.
var useSHA = useAsm && cpu.X86.HasAVX && cpu.X86.HasSSSE3 && cpu.X86.HasSSE41 && cpuidSHA()

// encryptSHA256 encrypts buf[off:off+64*chunks] in place, chaining from
// *iv (left holding the last ciphertext block), and compresses
// buf[:64*chunks] into state as it goes. chunks >= 1.
//
//go:noescape
func encryptSHA256(enc *[11 * BlockSize]byte, iv *[BlockSize]byte, buf []byte, off, chunks int, state *[8]uint32)

// cpuidSHA reports CPUID's SHA extensions flag (leaf 7, EBX bit 29).
func cpuidSHA() bool
