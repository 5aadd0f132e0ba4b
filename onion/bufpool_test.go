package onion

import "testing"

// TestRecycleKeepsOnlyPooledBuffers: a buffer from the pool comes back for
// reuse; a slice that does not start at a pooled array's start, or has
// another capacity, is never put in the pool (it may alias live data).
func TestRecycleKeepsOnlyPooledBuffers(t *testing.T) {
	if got := getBuf(PoolBufCap + 1); cap(got) == PoolBufCap {
		t.Fatalf("getBuf(%d) came from the pool", PoolBufCap+1)
	}
	b := getBuf(100)
	if len(b) != 100 || cap(b) != PoolBufCap {
		t.Fatalf("getBuf(100): len %d cap %d", len(b), cap(b))
	}
	if cap(b[5:]) == PoolBufCap {
		t.Fatal("a slice past the start has the pooled capacity")
	}
	Recycle(b[5:])            // ignored
	Recycle(make([]byte, 10)) // ignored
	Recycle(nil)              // ignored
	Recycle(b)
}

func TestSealRecycledBufferIsClean(t *testing.T) {
	// A recycled buffer full of junk must yield the same token fields as a
	// fresh one: version, zero timestamp, and an opening that round-trips.
	junk := getBuf(PoolBufCap)
	for i := range junk {
		junk[i] = 0xff
	}
	Recycle(junk)
	var k [32]byte
	s, o := NewSealer(k), NewOpener(k)
	tok, err := s.Seal(KindMessage, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if tok[0] != tokenVersion {
		t.Fatalf("version byte %#x", tok[0])
	}
	for i := 1; i < ivOffset; i++ {
		if tok[i] != 0 {
			t.Fatalf("timestamp byte %d is %#x, want 0", i, tok[i])
		}
	}
	kind, body, err := o.Open(tok)
	if err != nil || kind != KindMessage || string(body) != "hello" {
		t.Fatalf("Open = %v %q %v", kind, body, err)
	}
}
