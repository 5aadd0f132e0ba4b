// Package aescbc is AES-128 in CBC mode, with a bulk amd64 path.
//
// The standard library runs CBC one block per call (an assembly AES round
// function behind a Go loop, plus an XOR call per block), which makes
// fernet's cipher the largest cost on the data path (docs/PERFORMANCE.md).
// On amd64 with AES-NI this package runs whole buffers in assembly: the
// round keys stay in registers, and decryption, which CBC lets run in
// parallel, works on four blocks at a time. Elsewhere it is crypto/cipher's
// CBC over crypto/aes. Both paths are checked against crypto/cipher.
//
// CBC encryption cannot run in parallel, and neither can SHA-256, but they
// use different units of the CPU: EncryptSHA256 encrypts a buffer and
// compresses it with SHA-256 (the SHA extensions) in one loop, so that
// fernet's encrypt-then-MAC costs about the longer of the two rather than
// their sum. It is checked against crypto/cipher and crypto/sha256.
package aescbc
