package onion

// Buffers for cells and tokens, reused instead of allocated per cell: a
// 16 KiB cell is sealed and read at every hop, and allocating (and zeroing)
// each one showed up as several percent of the CPU of a download
// (docs/PERFORMANCE.md).

import "sync"

// PoolBufCap is the capacity of a pooled buffer: a full data cell with its
// three layers fits.
const PoolBufCap = 20 << 10

var bufPool = sync.Pool{New: func() any { return new([PoolBufCap]byte) }}

// getBuf returns a buffer of length n, pooled when n fits. Its contents are
// whatever was there before: the caller overwrites all n bytes.
func getBuf(n int) []byte {
	if n > PoolBufCap {
		return make([]byte, n)
	}
	return bufPool.Get().(*[PoolBufCap]byte)[:n]
}

// Recycle hands buf back for reuse by a later seal or read. Only buffers
// that came from the pool (capacity PoolBufCap, starting at the start of
// the pooled array) are kept; anything else is left to the garbage
// collector. The caller must hold the only reference to buf and every slice
// of it: a buffer recycled while still in use would be overwritten.
func Recycle(buf []byte) {
	if cap(buf) != PoolBufCap {
		return
	}
	bufPool.Put((*[PoolBufCap]byte)(buf[:PoolBufCap]))
}
