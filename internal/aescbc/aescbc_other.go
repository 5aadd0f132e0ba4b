//go:build !amd64 || purego

package aescbc

const useAsm = false

func expandKey(key []byte, enc, dec *[11 * BlockSize]byte) { panic("unreachable") }
func encryptCBC(enc *[11 * BlockSize]byte, iv *[BlockSize]byte, dst, src []byte) {
	panic("unreachable")
}
func decryptCBC(dec *[11 * BlockSize]byte, iv *[BlockSize]byte, dst, src []byte) {
	panic("unreachable")
}

const useSHA = false

func encryptSHA256(enc *[11 * BlockSize]byte, iv *[BlockSize]byte, buf []byte, off, chunks int, state *[8]uint32) {
	panic("unreachable")
}
