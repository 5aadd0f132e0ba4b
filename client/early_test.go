package client

// Early replies (early.go): a destination that answered CONNECTED on the
// circuit gets its next stream at once, before the exit connects; a
// refusal then fails the stream and the next DialStream waits for the
// answer. The exit's connects are held on a gate, so "before" is forced,
// and synctest.Wait shows what is waiting.

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion"
	"onion/onion/circuit"
	"onion/onion/oniontest"
)

// reachedEcho returns a network and a manager whose circuit has reached
// the echo at echoAt(7).
func reachedEcho(t *testing.T) (*testNet, *Manager) {
	tn := startNet(t, 4, 1)
	m := tn.manager(t, newFakeClock(), nil)
	dialEcho(t, m, echoAt(7)).Close()
	return tn, m
}

type dialResult struct {
	c   net.Conn
	err error
}

// dialAsync runs DialStream in a goroutine; its result arrives on the channel.
func dialAsync(ctx context.Context, m *Manager, req DialRequest) <-chan dialResult {
	out := make(chan dialResult, 1)
	go func() {
		c, err := m.DialStream(ctx, req)
		out <- dialResult{c, err}
	}()
	return out
}

// isClosed reports whether ch is closed, without waiting.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// tryResult returns DialStream's result if it is there, without waiting.
func tryResult(res <-chan dialResult) (dialResult, bool) {
	select {
	case r := <-res:
		return r, true
	default:
		return dialResult{}, false
	}
}

// awaitResult waits for DialStream's result; a test that would wait for
// ever fails instead (fake time in the bubble: it fails at once).
func awaitResult(t *testing.T, res <-chan dialResult) dialResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(time.Hour):
		t.Fatal("DialStream never returned")
		return dialResult{}
	}
}

// TestEarlyReplyOnlyWhenReached: DialStream answers before the exit has
// connected only for a destination reached before on that circuit, with a
// deadline to bound the wait, and without WaitConnected. The stream works
// either way.
func TestEarlyReplyOnlyWhenReached(t *testing.T) {
	tests := []struct {
		name          string
		reached       bool
		waitConnected bool
		noDeadline    bool
		wantEarly     bool
	}{
		{"reached", true, false, false, true},
		{"never reached", false, false, false, false},
		{"WaitConnected", true, true, false, false},
		{"no deadline", true, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oniontest.CheckLeaks(t)
			synctest.Test(t, func(t *testing.T) {
				tn := startNet(t, 4, 1)
				m := tn.manager(t, newFakeClock(), func(c *Config) { c.WaitConnected = tt.waitConnected })
				dialEcho(t, m, echoAt(1)).Close() // a circuit
				if tt.reached {
					dialEcho(t, m, echoAt(7)).Close()
				}
				held, release := tn.dests.gate.HoldNext(t)
				ctx := stepContext(t)
				if tt.noDeadline {
					ctx = context.Background()
				}
				res := dialAsync(ctx, m, echoAt(7))
				synctest.Wait()
				r, early := tryResult(res)
				if early != tt.wantEarly {
					t.Fatalf("DialStream returned before the exit connected: %v, want %v", early, tt.wantEarly)
				}
				if tt.wantEarly && isClosed(held) {
					t.Fatal("exit connect began before the stream was used")
				}
				release()
				if !early {
					r = awaitResult(t, res)
				}
				if r.err != nil {
					t.Fatalf("DialStream: %v", r.err)
				}
				defer r.c.Close()
				roundTrip(t, r.c, "after the gate")
				if !isClosed(held) {
					t.Fatal("the exit's connect was never held")
				}
			})
		})
	}
}

// TestEarlyStreamWritesBeforeConnected: what the application writes to an
// early stream (and DialRequest.Early) goes out behind BEGIN and reaches
// the destination once the exit connects.
func TestEarlyStreamWritesBeforeConnected(t *testing.T) {
	oniontest.CheckLeaks(t)
	synctest.Test(t, func(t *testing.T) {
		tn, m := reachedEcho(t)
		held, release := tn.dests.gate.HoldNext(t)
		req := echoAt(7)
		req.Early = []byte("early|")
		c, err := m.DialStream(stepContext(t), req)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("written|")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if !isClosed(held) {
			t.Fatal("BEGIN did not reach the exit")
		}
		release()
		want := "early|written|"
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
			t.Fatalf("echo = %q, %v; want %q", got, err, want)
		}
	})
}

// TestEarlyReplyRefused: the reached destination now refuses. The early
// stream's first read fails with the exit's reason; the next DialStream
// waits for the answer and returns it as an *OpenError.
func TestEarlyReplyRefused(t *testing.T) {
	oniontest.CheckLeaks(t)
	synctest.Test(t, func(t *testing.T) {
		tn, m := reachedEcho(t)
		tn.dests.refuse("192.0.2.1:7")

		c, err := m.DialStream(stepContext(t), echoAt(7))
		if err != nil {
			t.Fatalf("DialStream to a reached destination = %v, want an early stream", err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(time.Minute))
		_, err = c.Read(make([]byte, 1))
		if se, ok := errors.AsType[*circuit.StreamError](err); !ok || se.Reason != onion.EndRefused || !se.Remote {
			t.Fatalf("read after the refusal = %v, want the exit's END(refused)", err)
		}

		held, release := tn.dests.gate.HoldNext(t)
		res := dialAsync(stepContext(t), m, echoAt(7))
		synctest.Wait()
		if _, done := tryResult(res); done || !isClosed(held) {
			t.Fatal("the next DialStream answered before the exit did")
		}
		release()
		r := awaitResult(t, res)
		if oe, ok := errors.AsType[*OpenError](r.err); !ok || oe.Reason != onion.EndRefused {
			t.Fatalf("next DialStream = %v, %v; want OpenError(refused)", r.c, r.err)
		}
		if circs := m.Circuits(); len(circs) != 1 {
			t.Fatalf("Circuits = %+v: a refusal is no reason for a new circuit", circs)
		}
	})
}
