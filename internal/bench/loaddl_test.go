package bench

import (
	"context"
	"testing"
	"time"
)

// A paced reader takes at least its bytes over its rate, and a cancelled
// context ends its wait at once.
func TestPacer(t *testing.T) {
	p := pacer{rate: 10e6, start: time.Now()}
	for range 16 {
		if !p.wait(context.Background(), 64<<10) { // 1 MiB in all: >= 104 ms at 10 MB/s
			t.Fatal("wait reported a cancelled context")
		}
	}
	if d := time.Since(p.start); d < 100*time.Millisecond {
		t.Fatalf("1 MiB at 10 MB/s took %v, want >= 100ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	slow := pacer{rate: 1, start: time.Now()}
	if slow.wait(ctx, 1<<20) {
		t.Fatal("wait went on after its context ended")
	}
	if full := (pacer{}); !full.wait(ctx, 1<<20) {
		t.Fatal("an unpaced reader waited")
	}
}
