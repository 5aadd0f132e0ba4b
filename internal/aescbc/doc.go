// Package aescbc is AES-128 in CBC mode, with a bulk amd64 path.
//
// The standard library runs CBC one block per call (an assembly AES round
// function behind a Go loop, plus an XOR call per block), which makes
// fernet's cipher the largest cost on the data path (docs/PERFORMANCE.md).
// On amd64 with AES-NI this package runs whole buffers in assembly: the
// round keys stay in registers, and decryption, which CBC lets run in
// parallel, works on four blocks at a time. Elsewhere it is crypto/cipher's
// CBC over crypto/aes. Both paths are checked against crypto/cipher.
package aescbc
