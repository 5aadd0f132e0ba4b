package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"onion/internal/launch"
)

// TestRoutes drives the destination through the direct and the plain SOCKS5
// routes with the same operations the benchmark times.
func TestRoutes(t *testing.T) {
	d, err := startDest()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	plain := serveHop(t, HopSOCKS, "")
	// The hop floor's chain: SOCKS5 to three forwarders to the HTTP port
	// (a forwarder has one target, so the echo figure is not driven on it).
	floorHTTP := serveHop(t, HopSOCKS, serveHop(t, HopForward, serveHop(t, HopForward, serveHop(t, HopForward, d.httpAddr()))))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	const size = 1 << 20
	want, _ := io.ReadAll(newBlob(size))
	for name, rt := range map[string]route{"direct": {}, "plain": {socks: plain}, "floor": {socks: floorHTTP}} {
		c := rt.client("", "")
		resp, err := c.Get(d.blobURL(size))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: blob of %d bytes (err %v) differs from newBlob", name, len(got), err)
		}
		var counted int
		if secs, err := download(ctx, c, d.blobURL(size), size, func(n int) { counted += n }); err != nil || secs <= 0 || counted != size {
			t.Errorf("%s: download = %v s, %v, counted %d", name, secs, err, counted)
		}
		if _, err := download(ctx, c, d.blobURL(size-1), size, nil); !errors.Is(err, errShort) {
			t.Errorf("%s: short download err = %v, want errShort", name, err)
		}
		if secs, err := ttfb(ctx, c, d.tinyURL()); err != nil || secs <= 0 {
			t.Errorf("%s: ttfb = %v, %v", name, secs, err)
		}
		if secs, err := connectTime(ctx, rt.dialer("", ""), d.httpAddr()); err != nil || secs <= 0 {
			t.Errorf("%s: connect = %v, %v", name, secs, err)
		}
		if name == "floor" {
			continue // its chain ends at the HTTP port
		}
		if secs, err := echoTime(ctx, rt.dialer("", ""), d.echoAddr(), size, nil); err != nil || secs <= 0 {
			t.Errorf("%s: echo = %v, %v", name, secs, err)
		}
	}
	resp, err := http.Get("http://" + d.httpAddr() + "/blob/-1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /blob/-1: %s", resp.Status)
	}
}

func TestTogether(t *testing.T) {
	boom := errors.New("boom")
	_, err := together(t.Context(), 4, func(ctx context.Context, i int) error {
		if i == 2 {
			return boom
		}
		<-ctx.Done() // the others end only because the failure cancels them
		return ctx.Err()
	})
	if !errors.Is(err, boom) {
		t.Errorf("together err = %v, want boom", err)
	}
	secs, err := together(t.Context(), 3, func(context.Context, int) error { return nil })
	if err != nil || secs < 0 {
		t.Errorf("together = %v, %v", secs, err)
	}
}

func TestRepeatBudget(t *testing.T) {
	r := &runner{prog: newProgress(nil, false)}
	calls := 0
	xs, err := r.repeat(t.Context(), reps{n: 10, budget: 50 * time.Millisecond, timeout: time.Second},
		func(context.Context) (float64, error) {
			calls++
			time.Sleep(20 * time.Millisecond)
			return float64(calls), nil
		})
	// Two fit in the budget, a third would end at about 60 ms; a loaded
	// machine oversleeps, so fewer may fit, but never anywhere near all 10.
	if err != nil || len(xs) < 1 || len(xs) > 3 {
		t.Errorf("repeat = %v, %v; want 1-3 samples within a 50 ms budget, not all 10", xs, err)
	}
	boom := errors.New("boom")
	calls = 0
	xs, err = r.repeat(t.Context(), reps{n: 5, budget: time.Minute, timeout: time.Second},
		func(context.Context) (float64, error) {
			if calls++; calls == 2 {
				return 0, boom
			}
			return 1, nil
		})
	if !errors.Is(err, boom) || len(xs) != 1 || calls != 2 {
		t.Errorf("repeat = %v, %v after %d calls; want 1 sample and boom from the second", xs, err, calls)
	}
}

// serveHop runs ServeHop in this process until the test ends and returns
// its address.
func serveHop(t *testing.T, mode, target string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- ServeHop(ctx, mode, target, w)
		w.Close()
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("ServeHop %s: %v", mode, err)
	}
	go io.Copy(io.Discard, r)
	fields, err := launch.ParseReady(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	return fields["addr"]
}
