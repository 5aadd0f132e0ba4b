package circuit

import (
	"bytes"
	"testing"
)

// TestAppendChunkBoundsMemory: tiny bodies in big cell buffers (a peer
// sending one byte per cell) are copied together instead of pinning one
// buffer each; a full body is queued where it lies, without a copy; the
// bytes come out in order either way.
func TestAppendChunkBoundsMemory(t *testing.T) {
	var recv []chunk
	var want []byte
	for i := range 40000 {
		cell := make([]byte, 1000) // the buffer a 1-byte body arrived in
		cell[0] = byte(i)
		recv = appendChunk(recv, cell[:1], nil)
		want = append(want, byte(i))
	}
	held := 0
	for _, c := range recv {
		held += cap(c.b)
	}
	if held > 2*len(want)+coalesceLen {
		t.Fatalf("40000 one-byte bodies hold %d bytes in %d chunks", held, len(recv))
	}

	full := bytes.Repeat([]byte{7}, 16<<10)
	cell := append(make([]byte, 0, 20<<10), full...)
	recv = appendChunk(recv, cell, nil)
	if last := recv[len(recv)-1]; last.owned || &last.b[0] != &cell[0] {
		t.Fatal("a body that fills its buffer was copied")
	}
	want = append(want, full...)

	var got []byte
	for _, c := range recv {
		got = append(got, c.b...)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("bytes out of order")
	}
}
