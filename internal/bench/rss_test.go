package bench

import (
	"context"
	"errors"
	"testing"
)

// script returns a read func that yields readings of relay1 in turn, and
// counts the reads.
func script(values ...int64) (func() (rssReading, error), *int) {
	n := new(int)
	return func() (rssReading, error) {
		v := values[min(*n, len(values)-1)]
		*n++
		if v < 0 {
			return nil, errors.New("gone")
		}
		return rssReading{"relay1": v, "relay2": 7}, nil
	}, n
}

func TestSettle(t *testing.T) {
	ctx := t.Context()
	read, n := script(10, 12, 15, 15, 99)
	got, ok, err := settle(ctx, read, 1, 10)
	if err != nil || !ok || got["relay1"] != 15 || *n != 4 {
		t.Errorf("settle = %v, %v, %v after %d reads; want relay1 15, settled, after 4", got, ok, err, *n)
	}

	read, n = script(1, 2, 3, 4, 5, 6)
	got, ok, err = settle(ctx, read, 1, 4)
	if err != nil || ok || got["relay1"] != 4 || *n != 4 {
		t.Errorf("never equal: %v, %v, %v after %d reads; want the 4th reading, unsettled", got, ok, err, *n)
	}

	read, _ = script(1, -1)
	if _, _, err := settle(ctx, read, 1, 10); err == nil {
		t.Error("a failed read: no error")
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	read, _ = script(1, 2, 3)
	if _, ok, err := settle(cancelled, read, 1<<40, 10); !errors.Is(err, context.Canceled) || ok {
		t.Errorf("cancelled: %v, %v", ok, err)
	}
}
