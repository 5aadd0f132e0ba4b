package bench

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// TestRoundsInterleave: rounds takes one sample of each op per round, in
// order, so every op sees the same stretch of time.
func TestRoundsInterleave(t *testing.T) {
	r := &runner{prog: newProgress(nil, false)}
	var order []int
	op := func(i int) sampler {
		return func(context.Context) (float64, error) {
			order = append(order, i)
			return float64(10*len(order) + i), nil
		}
	}
	xs, failed, err := r.rounds(t.Context(), reps{n: 3, budget: time.Minute, timeout: time.Second}, []sampler{op(0), op(1)})
	if err != nil || failed != -1 {
		t.Fatalf("rounds = %d, %v", failed, err)
	}
	if !slices.Equal(order, []int{0, 1, 0, 1, 0, 1}) {
		t.Fatalf("order %v, want the ops alternating", order)
	}
	if !slices.Equal(xs[0], []float64{10, 30, 50}) || !slices.Equal(xs[1], []float64{21, 41, 61}) {
		t.Fatalf("samples %v", xs)
	}
}

// TestRoundsStopAtError: the first error ends the rounds and names the op
// that failed; the samples taken before it are kept.
func TestRoundsStopAtError(t *testing.T) {
	r := &runner{prog: newProgress(nil, false)}
	calls := 0
	boom := errors.New("boom")
	ok := func(context.Context) (float64, error) { calls++; return 1, nil }
	failSecond := func(context.Context) (float64, error) {
		calls++
		if calls > 3 {
			return 0, boom
		}
		return 2, nil
	}
	xs, failed, err := r.rounds(t.Context(), reps{n: 5, budget: time.Minute, timeout: time.Second}, []sampler{ok, failSecond})
	if !errors.Is(err, boom) || failed != 1 {
		t.Fatalf("rounds = %d, %v; want op 1 and boom", failed, err)
	}
	if len(xs[0]) != 2 || len(xs[1]) != 1 {
		t.Fatalf("samples kept: %d and %d, want 2 and 1", len(xs[0]), len(xs[1]))
	}
}
