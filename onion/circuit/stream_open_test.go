package circuit_test

// Tests of a client stream until CONNECTED (stream_open.go): BEGIN on first
// use, what a kept stream keeps, the lost state and the move to another
// circuit, Fail, OnAnswer, and closing before the answer. MoveTo stands in
// for Circuit.Attach so that a recorder sees every message, in order;
// TestAttachMovesLostStream goes through real circuits.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion"
	"onion/onion/circuit"
)

const openTarget = "example.com:80"

var errGone = errors.New("circuit gone")

// newClient makes a client stream to openTarget that keeps what it writes
// until CONNECTED if keep, and places it on out as stream id; with out nil
// it stays on no circuit.
func newClient(t *testing.T, out circuit.MsgSender, id uint16, keep bool) *circuit.Stream {
	t.Helper()
	s, err := circuit.NewClientStream(openTarget)
	if err != nil {
		t.Fatal(err)
	}
	if keep {
		s.KeepUntilConnected()
	}
	if out != nil {
		if err := s.MoveTo(id, out, nil); err != nil {
			t.Fatalf("MoveTo: %v", err)
		}
	}
	return s
}

func beginOn(id uint16) onion.RelayMsg {
	return onion.RelayMsg{Cmd: onion.RelayBegin, Stream: id, Body: []byte(openTarget)}
}

func dataOn(id uint16, b []byte) onion.RelayMsg {
	return onion.RelayMsg{Cmd: onion.RelayData, Stream: id, Body: b}
}

func endOn(id uint16, r onion.EndReason) onion.RelayMsg {
	return onion.RelayMsg{Cmd: onion.RelayEnd, Stream: id, Body: []byte{byte(r)}}
}

func connectedOn(id uint16) onion.RelayMsg {
	return onion.RelayMsg{Cmd: onion.RelayConnected, Stream: id}
}

// beginThen is BEGIN on stream id followed by b in DATA messages of at
// most MaxData bytes: how a stream sends what it kept.
func beginThen(id uint16, b []byte) []onion.RelayMsg {
	return append([]onion.RelayMsg{beginOn(id)}, split(id, b)...)
}

func split(id uint16, b []byte) []onion.RelayMsg {
	var ms []onion.RelayMsg
	for len(b) > 0 {
		n := min(len(b), onion.MaxData)
		ms = append(ms, dataOn(id, b[:n]))
		b = b[n:]
	}
	return ms
}

// wantSent checks that rec sent exactly want, in that order, and forgets it.
func wantSent(t *testing.T, rec *recorder, want ...onion.RelayMsg) {
	t.Helper()
	got := rec.take()
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		same = got[i].Cmd == want[i].Cmd && got[i].Stream == want[i].Stream && bytes.Equal(got[i].Body, want[i].Body)
	}
	if !same {
		t.Fatalf("sent %s\nwant %s", describe(got), describe(want))
	}
}

func describe(ms []onion.RelayMsg) string {
	if len(ms) == 0 {
		return "nothing"
	}
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%v/%d", m.Cmd, m.Stream)
		switch {
		case m.Cmd == onion.RelayEnd && len(m.Body) == 1:
			fmt.Fprintf(&b, "(%v)", onion.EndReason(m.Body[0]))
		case m.Cmd == onion.RelayData:
			fmt.Fprintf(&b, "(%d bytes %q...)", len(m.Body), m.Body[:min(len(m.Body), 4)])
		case len(m.Body) > 0:
			fmt.Fprintf(&b, "(%q)", m.Body)
		}
	}
	return b.String()
}

type ioResult struct {
	n   int
	b   []byte // what a Read read
	err error
}

// goWrite writes p in the background.
func goWrite(s *circuit.Stream, p []byte) <-chan ioResult {
	ch := make(chan ioResult, 1)
	go func() {
		n, err := s.Write(p)
		ch <- ioResult{n: n, err: err}
	}()
	return ch
}

// goRead reads up to n bytes in the background.
func goRead(s *circuit.Stream, n int) <-chan ioResult {
	ch := make(chan ioResult, 1)
	go func() {
		b := make([]byte, n)
		n, err := s.Read(b)
		ch <- ioResult{n: n, b: b[:n], err: err}
	}()
	return ch
}

// goCall runs f in the background.
func goCall(f func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

// wantWaiting fails if the call reporting on ch has returned. It runs in a
// synctest bubble: once every goroutine there is blocked, a call that has
// not returned is waiting for good.
func wantWaiting[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	synctest.Wait()
	select {
	case r := <-ch:
		t.Fatalf("%s returned %+v, want it to wait", what, r)
	default:
	}
}

func wantLost(t *testing.T, s *circuit.Stream, cause error) {
	t.Helper()
	err := s.WaitConnected(context.Background())
	var lost *circuit.LostError
	if !errors.As(err, &lost) || !errors.Is(err, cause) {
		t.Fatalf("WaitConnected = %v, want a *LostError wrapping %v", err, cause)
	}
	if s.Failed() || s.Err() != nil {
		t.Fatalf("lost stream: Failed %v, Err %v; want neither", s.Failed(), s.Err())
	}
}

// TestBeginOnFirstUse: a placed stream sends nothing until it is used; then
// BEGIN goes out once, ahead of anything else.
func TestBeginOnFirstUse(t *testing.T) {
	for _, tc := range []struct {
		name string
		use  func(s *circuit.Stream)
		want []onion.RelayMsg
	}{
		{"placed only", func(*circuit.Stream) {}, nil},
		{"WaitConnected", func(s *circuit.Stream) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			s.WaitConnected(ctx)
		}, nil},
		{"Write", func(s *circuit.Stream) { s.Write([]byte("hello")) },
			[]onion.RelayMsg{beginOn(9), dataOn(9, []byte("hello"))}},
		{"Write twice", func(s *circuit.Stream) { s.Write([]byte("a")); s.Write([]byte("b")) },
			[]onion.RelayMsg{beginOn(9), dataOn(9, []byte("a")), dataOn(9, []byte("b"))}},
		{"Write past MaxData", func(s *circuit.Stream) { s.Write(bytes.Repeat([]byte("w"), onion.MaxData+1)) },
			beginThen(9, bytes.Repeat([]byte("w"), onion.MaxData+1))},
		{"Read", func(s *circuit.Stream) {
			s.SetReadDeadline(time.Now().Add(time.Second))
			s.Read(make([]byte, 1))
		}, []onion.RelayMsg{beginOn(9)}},
		{"Begin", func(s *circuit.Stream) { s.Begin() }, []onion.RelayMsg{beginOn(9)}},
		{"Begin twice", func(s *circuit.Stream) { s.Begin(); s.Begin() }, []onion.RelayMsg{beginOn(9)}},
		{"Begin then Write", func(s *circuit.Stream) { s.Begin(); s.Write([]byte("x")) },
			[]onion.RelayMsg{beginOn(9), dataOn(9, []byte("x"))}},
		{"CloseWrite", func(s *circuit.Stream) { s.CloseWrite() },
			[]onion.RelayMsg{beginOn(9), endOn(9, onion.EndDone)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				s := newClient(t, rec, 9, false)
				tc.use(s)
				wantSent(t, rec, tc.want...)
			})
		})
	}
}

// TestKeepUntilConnected: a kept stream sends what it writes before
// CONNECTED and keeps it too, up to KeepLimit; a writer past that waits for
// CONNECTED, then goes on. Once connected it keeps nothing, and KeepLimit
// no longer holds writes back. A stream that does not keep never waits for
// CONNECTED to write.
func TestKeepUntilConnected(t *testing.T) {
	t.Run("kept", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := &recorder{}
			s := newClient(t, rec, 9, true)
			msg := bytes.Repeat([]byte("k"), circuit.KeepLimit+100)
			wrote := goWrite(s, msg)
			wantWaiting(t, wrote, "Write past KeepLimit before CONNECTED")
			wantSent(t, rec, beginThen(9, msg[:circuit.KeepLimit])...)
			if n := s.KeptLen(); n != circuit.KeepLimit {
				t.Fatalf("kept %d bytes, want KeepLimit (%d)", n, circuit.KeepLimit)
			}

			mustDeliver(t, s, connectedOn(9))
			if r := <-wrote; r.n != len(msg) || r.err != nil {
				t.Fatalf("Write after CONNECTED = %d, %v; want %d, nil", r.n, r.err, len(msg))
			}
			wantSent(t, rec, dataOn(9, msg[circuit.KeepLimit:]))
			if n := s.KeptLen(); n != 0 {
				t.Fatalf("kept %d bytes after CONNECTED", n)
			}
			if n, err := s.Write(make([]byte, 2*circuit.KeepLimit)); n != 2*circuit.KeepLimit || err != nil {
				t.Fatalf("Write after CONNECTED = %d, %v", n, err)
			}
			if got := dataBytes(rec.take()); got != 2*circuit.KeepLimit || s.KeptLen() != 0 {
				t.Fatalf("after CONNECTED: sent %d bytes, kept %d; want %d sent, none kept", got, s.KeptLen(), 2*circuit.KeepLimit)
			}
		})
	})
	t.Run("kept, write deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := &recorder{}
			s := newClient(t, rec, 9, true)
			start := time.Now()
			s.SetWriteDeadline(start.Add(time.Second))
			n, err := s.Write(make([]byte, circuit.KeepLimit+1))
			if n != circuit.KeepLimit || !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != time.Second {
				t.Fatalf("Write past KeepLimit = %d, %v after %v; want KeepLimit, os.ErrDeadlineExceeded after 1s", n, err, time.Since(start))
			}
		})
	})
	t.Run("not kept", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := &recorder{}
			s := newClient(t, rec, 9, false)
			if n, err := s.Write(make([]byte, 2*circuit.KeepLimit)); n != 2*circuit.KeepLimit || err != nil {
				t.Fatalf("Write before CONNECTED = %d, %v", n, err)
			}
			if got := dataBytes(rec.take()); got != 2*circuit.KeepLimit || s.KeptLen() != 0 {
				t.Fatalf("sent %d bytes, kept %d; want %d sent, none kept", got, s.KeptLen(), 2*circuit.KeepLimit)
			}
		})
	})
}

// TestAbortBeforeConnected: a kept stream whose circuit fails before
// CONNECTED is lost: WaitConnected says so with the circuit's error, reads
// and writes wait (under their deadlines) rather than fail, and nothing is
// sent. A stream that does not keep fails as any stream does, and so does a
// kept one once connected.
func TestAbortBeforeConnected(t *testing.T) {
	t.Run("kept: lost", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := &recorder{}
			s := newClient(t, rec, 9, true)
			s.Begin()
			rec.take()
			s.Abort(errGone)
			wantLost(t, s, errGone)
			select {
			case <-s.Done():
				t.Fatal("Done closed on a lost stream")
			default:
			}

			start := time.Now()
			s.SetDeadline(start.Add(time.Second))
			if _, err := s.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != time.Second {
				t.Fatalf("Read while lost = %v after %v; want os.ErrDeadlineExceeded after 1s", err, time.Since(start))
			}
			// A write within KeepLimit is kept at once; past it, the writer
			// waits too.
			s.SetDeadline(start.Add(2 * time.Second))
			n, err := s.Write(make([]byte, circuit.KeepLimit+1))
			if n != circuit.KeepLimit || !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != 2*time.Second {
				t.Fatalf("Write while lost = %d, %v after %v; want KeepLimit, os.ErrDeadlineExceeded after 2s", n, err, time.Since(start))
			}
			wantSent(t, rec)
			wantLost(t, s, errGone)
		})
	})
	for _, tc := range []struct {
		name      string
		keep      bool
		connected bool
	}{
		{"not kept: fails", false, false},
		{"kept, connected: fails", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				s := newClient(t, rec, 9, tc.keep)
				s.Begin()
				if tc.connected {
					mustDeliver(t, s, connectedOn(9))
				}
				rec.take()
				reading := goRead(s, 1)
				wantWaiting(t, reading, "Read")
				s.Abort(errGone)
				if r := <-reading; r.err != errGone {
					t.Fatalf("blocked Read = %v, want %v", r.err, errGone)
				}
				if _, err := s.Write([]byte("x")); err != errGone {
					t.Fatalf("Write = %v, want %v", err, errGone)
				}
				if err := s.WaitConnected(context.Background()); !tc.connected && err != errGone {
					t.Fatalf("WaitConnected = %v, want %v", err, errGone)
				}
				if !s.Failed() {
					t.Fatal("Failed is false after Abort")
				}
				<-s.Done()
				s.Close()
				wantSent(t, rec)
			})
		})
	}
}

// TestMoveSendsBeginThenKept: a lost stream moved to another circuit sends
// BEGIN there with the same target and its new id, then every byte it
// kept, those sent on the old circuit and those written while lost, in
// order and cut at MaxData; the old circuit hears nothing more. CONNECTED
// on the new circuit lets a read waiting since the loss get its data.
func TestMoveSendsBeginThenKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old, rec := &recorder{}, &recorder{}
		s := newClient(t, old, 3, true)
		before := bytes.Repeat([]byte("a"), 20000)
		if _, err := s.Write(before); err != nil {
			t.Fatal(err)
		}
		wantSent(t, old, beginThen(3, before)...)
		s.Abort(errGone)

		reading := goRead(s, 100)
		during := bytes.Repeat([]byte("b"), 30000)
		if n, err := s.Write(during); n != len(during) || err != nil {
			t.Fatalf("Write while lost = %d, %v; want it kept", n, err)
		}
		wantWaiting(t, reading, "Read while lost")
		wantSent(t, old)

		if err := s.MoveTo(9, rec, nil); err != nil {
			t.Fatalf("MoveTo: %v", err)
		}
		wantSent(t, rec, beginThen(9, append(before, during...))...)
		wantSent(t, old)
		if s.ID() != 9 {
			t.Fatalf("ID after the move = %d, want 9", s.ID())
		}
		mustDeliver(t, s, connectedOn(9), dataOn(9, []byte("reply")))
		if err := s.WaitConnected(context.Background()); err != nil {
			t.Fatalf("WaitConnected after the move: %v", err)
		}
		if r := <-reading; string(r.b) != "reply" || r.err != nil {
			t.Fatalf("Read = %q, %v; want %q", r.b, r.err, "reply")
		}
		s.Write([]byte("more"))
		wantSent(t, rec, dataOn(9, []byte("more")))
	})
}

// TestMoveLetsWaitingWriterOn: a writer that waits for room to keep more
// while lost still waits once moved (the new exit has not answered), and
// goes on, on the new circuit, at CONNECTED.
func TestMoveLetsWaitingWriterOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old, rec := &recorder{}, &recorder{}
		s := newClient(t, old, 3, true)
		s.Begin()
		old.take()
		s.Abort(errGone)
		msg := bytes.Repeat([]byte("w"), circuit.KeepLimit+5000)
		wrote := goWrite(s, msg)
		wantWaiting(t, wrote, "Write past KeepLimit while lost")

		if err := s.MoveTo(9, rec, nil); err != nil {
			t.Fatalf("MoveTo: %v", err)
		}
		wantSent(t, rec, beginThen(9, msg[:circuit.KeepLimit])...)
		wantWaiting(t, wrote, "Write past KeepLimit, moved, before CONNECTED")
		mustDeliver(t, s, connectedOn(9))
		if r := <-wrote; r.n != len(msg) || r.err != nil {
			t.Fatalf("Write = %d, %v; want %d, nil", r.n, r.err, len(msg))
		}
		wantSent(t, rec, split(9, msg[circuit.KeepLimit:])...)
		wantSent(t, old)
	})
}

// TestMoveResetsSendWindow: on the new circuit the kept bytes are all the
// exit has had, so a writer may send StreamWindow less those before it
// waits for SENDME, and exactly the granted amount after.
func TestMoveResetsSendWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old, rec := &recorder{}, &recorder{}
		s := newClient(t, old, 3, true)
		const kept = 30000
		s.Write(make([]byte, kept))
		old.take()
		s.Abort(errGone)
		if err := s.MoveTo(9, rec, nil); err != nil {
			t.Fatalf("MoveTo: %v", err)
		}
		if got := dataBytes(rec.take()); got != kept {
			t.Fatalf("the move sent %d bytes, want %d", got, kept)
		}
		mustDeliver(t, s, connectedOn(9))

		wrote := goWrite(s, make([]byte, onion.StreamWindow))
		wantWaiting(t, wrote, "Write of StreamWindow after kept bytes")
		if got := dataBytes(rec.take()); got != onion.StreamWindow-kept {
			t.Fatalf("sent %d bytes before waiting for window, want StreamWindow-%d = %d", got, kept, onion.StreamWindow-kept)
		}
		mustDeliver(t, s, onion.RelayMsg{Cmd: onion.RelaySendme, Stream: 9, Body: onion.Uint32Body(kept)})
		if r := <-wrote; r.err != nil {
			t.Fatalf("Write after SENDME: %v", r.err)
		}
		if got := dataBytes(rec.take()); got != kept {
			t.Fatalf("sent %d bytes after SENDME %d", got, kept)
		}
	})
}

// TestMoveUnusedStream: a stream that was never used sends nothing when it
// moves, and BEGIN on its first use there; one written to before it had a
// circuit sends BEGIN and what it kept when placed; one that does not keep
// waits, unplaced, for a circuit to write on.
func TestMoveUnusedStream(t *testing.T) {
	t.Run("lost before use", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			old, rec := &recorder{}, &recorder{}
			s := newClient(t, old, 3, true)
			s.Abort(errGone)
			wantLost(t, s, errGone)
			if err := s.MoveTo(9, rec, nil); err != nil {
				t.Fatalf("MoveTo: %v", err)
			}
			wantSent(t, rec)
			s.Write([]byte("hi"))
			wantSent(t, rec, beginOn(9), dataOn(9, []byte("hi")))
			wantSent(t, old)
		})
	})
	t.Run("kept, written before placed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := &recorder{}
			s := newClient(t, nil, 0, true)
			var lost *circuit.LostError
			if err := s.WaitConnected(context.Background()); !errors.As(err, &lost) {
				t.Fatalf("WaitConnected on no circuit = %v, want a *LostError", err)
			}
			if n, err := s.Write([]byte("early")); n != 5 || err != nil {
				t.Fatalf("Write on no circuit = %d, %v; want it kept", n, err)
			}
			if err := s.MoveTo(9, rec, nil); err != nil {
				t.Fatalf("MoveTo: %v", err)
			}
			wantSent(t, rec, beginOn(9), dataOn(9, []byte("early")))
		})
	})
	t.Run("not kept, written before placed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := &recorder{}
			s := newClient(t, nil, 0, false)
			wrote := goWrite(s, []byte("hi"))
			wantWaiting(t, wrote, "Write on no circuit")
			if err := s.MoveTo(9, rec, nil); err != nil {
				t.Fatalf("MoveTo: %v", err)
			}
			if r := <-wrote; r.n != 2 || r.err != nil {
				t.Fatalf("Write once placed = %d, %v", r.n, r.err)
			}
			wantSent(t, rec, beginOn(9), dataOn(9, []byte("hi")))
		})
	})
}

// brokenSender is a circuit that fails every send.
type brokenSender struct{}

var errBroken = errors.New("broken circuit")

func (brokenSender) SendMsg(onion.RelayMsg) error { return errBroken }

// TestMoveToFailingCircuit: a move whose BEGIN cannot be sent leaves the
// stream lost again, with that error, and it moves on intact.
func TestMoveToFailingCircuit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old, rec := &recorder{}, &recorder{}
		s := newClient(t, old, 3, true)
		s.Write([]byte("req"))
		s.Abort(errGone)
		if err := s.MoveTo(5, brokenSender{}, nil); err != nil {
			t.Fatalf("MoveTo a failing circuit: %v", err)
		}
		wantLost(t, s, errBroken)
		if err := s.MoveTo(9, rec, nil); err != nil {
			t.Fatalf("MoveTo: %v", err)
		}
		wantSent(t, rec, beginOn(9), dataOn(9, []byte("req")))
	})
}

// TestMoveRefused: only a lost stream moves; a failed or closed one cannot.
func TestMoveRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		prep func(t *testing.T, s *circuit.Stream)
		want error // nil: any error
	}{
		{"placed", func(*testing.T, *circuit.Stream) {}, nil},
		{"connected", func(t *testing.T, s *circuit.Stream) { s.Begin(); mustDeliver(t, s, connectedOn(3)) }, nil},
		{"lost, then failed", func(t *testing.T, s *circuit.Stream) { s.Abort(errGone); s.Fail(errBroken) }, net.ErrClosed},
		{"lost, then closed", func(t *testing.T, s *circuit.Stream) { s.Abort(errGone); s.Close() }, net.ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				old, rec := &recorder{}, &recorder{}
				s := newClient(t, old, 3, true)
				tc.prep(t, s)
				err := s.MoveTo(9, rec, nil)
				if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Fatalf("MoveTo = %v, want an error (%v)", err, tc.want)
				}
				if s.ID() != 3 {
					t.Fatalf("ID after a refused move = %d, want 3", s.ID())
				}
				wantSent(t, rec)
			})
		})
	}
}

// TestFail: Fail tells the far end (END reset) only if it heard of the
// stream: not before BEGIN, not while lost. Afterwards reads and writes
// (waiting ones too) return the error, Failed is true, and the stream is
// released from its circuit.
func TestFail(t *testing.T) {
	gaveUp := errors.New("given up")
	for _, tc := range []struct {
		name string
		keep bool
		read bool // a Read waits when Fail comes (a first use: BEGIN, unless lost)
		prep func(t *testing.T, s *circuit.Stream)
		want []onion.RelayMsg
	}{
		{"before BEGIN", false, false, func(*testing.T, *circuit.Stream) {}, nil},
		{"after BEGIN", false, true, func(_ *testing.T, s *circuit.Stream) { s.Begin() },
			[]onion.RelayMsg{endOn(9, onion.EndReset)}},
		{"after CONNECTED", false, true, func(t *testing.T, s *circuit.Stream) { s.Begin(); mustDeliver(t, s, connectedOn(9)) },
			[]onion.RelayMsg{endOn(9, onion.EndReset)}},
		{"kept, after BEGIN", true, true, func(_ *testing.T, s *circuit.Stream) { s.Write([]byte("x")) },
			[]onion.RelayMsg{endOn(9, onion.EndReset)}},
		{"kept, lost before use", true, true, func(_ *testing.T, s *circuit.Stream) { s.Abort(errGone) }, nil},
		{"kept, lost after BEGIN", true, true, func(_ *testing.T, s *circuit.Stream) { s.Write([]byte("x")); s.Abort(errGone) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				released := make(chan struct{})
				s, err := circuit.NewClientStream(openTarget)
				if err != nil {
					t.Fatal(err)
				}
				if tc.keep {
					s.KeepUntilConnected()
				}
				if err := s.MoveTo(9, rec, func() { close(released) }); err != nil {
					t.Fatal(err)
				}
				tc.prep(t, s)
				var reading <-chan ioResult
				if tc.read {
					reading = goRead(s, 1)
					wantWaiting(t, reading, "Read")
				}
				rec.take()

				s.Fail(gaveUp)
				wantSent(t, rec, tc.want...)
				if tc.read {
					if r := <-reading; r.err != gaveUp {
						t.Fatalf("waiting Read = %v, want %v", r.err, gaveUp)
					}
				}
				if _, err := s.Read(make([]byte, 1)); err != gaveUp {
					t.Fatalf("Read = %v, want %v", err, gaveUp)
				}
				if _, err := s.Write([]byte("y")); err != gaveUp {
					t.Fatalf("Write = %v, want %v", err, gaveUp)
				}
				if !s.Failed() || s.Err() != gaveUp {
					t.Fatalf("Failed %v, Err %v; want true, %v", s.Failed(), s.Err(), gaveUp)
				}
				<-released
				s.Fail(errors.New("again"))
				s.Close()
				wantSent(t, rec)
				if s.Err() != gaveUp {
					t.Fatalf("Err after a second Fail = %v, want %v", s.Err(), gaveUp)
				}
			})
		})
	}
	t.Run("on no circuit", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newClient(t, nil, 0, true)
			s.Write([]byte("early"))
			s.Fail(gaveUp) // nowhere to send anything: must not try
			if err := s.WaitConnected(context.Background()); err != gaveUp {
				t.Fatalf("WaitConnected = %v, want %v", err, gaveUp)
			}
			<-s.Done()
		})
	})
}

// newAnswered is newClient for a kept stream whose OnAnswer reports what
// it hears on answers.
func newAnswered(t *testing.T, out circuit.MsgSender, id uint16) (s *circuit.Stream, answers chan error) {
	t.Helper()
	answers = make(chan error, 4)
	s = newClient(t, out, id, true)
	s.OnAnswer(func(err error) { answers <- err })
	return s, answers
}

// TestOnAnswer: f hears the exit's answer once: nil for CONNECTED, the
// *StreamError for an END instead, before a reader waiting on the stream
// sees it; nothing later, and not the loss of a circuit.
func TestOnAnswer(t *testing.T) {
	t.Run("CONNECTED", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, answers := newAnswered(t, &recorder{}, 9)
			s.Begin()
			mustDeliver(t, s, connectedOn(9), connectedOn(9), endOn(9, onion.EndRefused))
			if len(answers) != 1 {
				t.Fatalf("f ran %d times, want once", len(answers))
			}
			if err := <-answers; err != nil {
				t.Fatalf("f heard %v for CONNECTED, want nil", err)
			}
		})
	})
	t.Run("END refused", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, answers := newAnswered(t, &recorder{}, 9)
			type result struct {
				err   error
				heard int // answers f had heard when Read returned
			}
			done := make(chan result, 1)
			go func() {
				_, err := s.Read(make([]byte, 1))
				done <- result{err, len(answers)}
			}()
			synctest.Wait()
			mustDeliver(t, s, endOn(9, onion.EndRefused))
			r := <-done
			var se *circuit.StreamError
			if !errors.As(r.err, &se) || se.Reason != onion.EndRefused {
				t.Fatalf("Read = %v, want *StreamError(refused)", r.err)
			}
			if r.heard != 1 {
				t.Fatal("Read returned before f heard the END")
			}
			mustDeliver(t, s, endOn(9, onion.EndDone), connectedOn(9))
			if len(answers) != 1 {
				t.Fatalf("f ran %d times, want once", len(answers))
			}
			if err := <-answers; !errors.As(err, &se) || se.Reason != onion.EndRefused || !se.Remote {
				t.Fatalf("f heard %v, want a remote *StreamError(refused)", err)
			}
		})
	})
	t.Run("lost, moved, CONNECTED", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, answers := newAnswered(t, &recorder{}, 3)
			s.Begin()
			s.Abort(errGone)
			if len(answers) != 0 {
				t.Fatalf("f heard %v for a lost circuit", <-answers)
			}
			if err := s.MoveTo(9, &recorder{}, nil); err != nil {
				t.Fatal(err)
			}
			mustDeliver(t, s, connectedOn(9))
			if len(answers) != 1 || <-answers != nil {
				t.Fatal("f did not hear CONNECTED on the new circuit once")
			}
		})
	})
}

// TestCloseBeforeAnswer: Close tells the far end only about a stream it
// heard of, and then as before: END done, and END reset while the peer may
// still send.
func TestCloseBeforeAnswer(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep bool
		prep func(t *testing.T, s *circuit.Stream)
		want []onion.RelayMsg
	}{
		{"unused", false, func(*testing.T, *circuit.Stream) {}, nil},
		{"kept, unused", true, func(*testing.T, *circuit.Stream) {}, nil},
		{"begun", false, func(_ *testing.T, s *circuit.Stream) { s.Begin() },
			[]onion.RelayMsg{endOn(9, onion.EndDone), endOn(9, onion.EndReset)}},
		{"kept, written", true, func(_ *testing.T, s *circuit.Stream) { s.Write([]byte("x")) },
			[]onion.RelayMsg{endOn(9, onion.EndDone), endOn(9, onion.EndReset)}},
		{"begun, peer done", false, func(t *testing.T, s *circuit.Stream) { s.Begin(); mustDeliver(t, s, endOn(9, onion.EndDone)) },
			[]onion.RelayMsg{endOn(9, onion.EndDone)}},
		{"kept, lost", true, func(_ *testing.T, s *circuit.Stream) { s.Write([]byte("x")); s.Abort(errGone) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &recorder{}
				s := newClient(t, rec, 9, tc.keep)
				tc.prep(t, s)
				rec.take()
				if err := s.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				wantSent(t, rec, tc.want...)
				if _, err := s.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("Read after Close = %v", err)
				}
				if _, err := s.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("Write after Close = %v", err)
				}
				<-s.Done()
				wantSent(t, rec)
			})
		})
	}
	t.Run("on no circuit", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newClient(t, nil, 0, true)
			s.Write([]byte("early"))
			if err := s.Close(); err != nil { // nowhere to send: must not try
				t.Fatal(err)
			}
			if err := s.MoveTo(9, &recorder{}, nil); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("MoveTo after Close = %v, want net.ErrClosed", err)
			}
		})
	})
}

// TestCloseWriteWaitsForConnected: a kept stream half-closes only once
// connected (its END must not go out where the stream may yet move from),
// or fails at the write deadline; lost meanwhile, its END done goes out on
// the new circuit behind BEGIN and the kept bytes.
func TestCloseWriteWaitsForConnected(t *testing.T) {
	t.Run("until CONNECTED", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := &recorder{}
			s := newClient(t, rec, 9, true)
			s.Write([]byte("req"))
			wantSent(t, rec, beginOn(9), dataOn(9, []byte("req")))
			closing := goCall(s.CloseWrite)
			wantWaiting(t, closing, "CloseWrite before CONNECTED")
			wantSent(t, rec)
			mustDeliver(t, s, connectedOn(9))
			if err := <-closing; err != nil {
				t.Fatalf("CloseWrite after CONNECTED: %v", err)
			}
			wantSent(t, rec, endOn(9, onion.EndDone))
		})
	})
	t.Run("until the write deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := &recorder{}
			s := newClient(t, rec, 9, true)
			start := time.Now()
			s.SetWriteDeadline(start.Add(time.Second))
			if err := s.CloseWrite(); !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != time.Second {
				t.Fatalf("CloseWrite = %v after %v; want os.ErrDeadlineExceeded after 1s", err, time.Since(start))
			}
			wantSent(t, rec, beginOn(9))
		})
	})
	t.Run("across a move", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			old, rec := &recorder{}, &recorder{}
			s := newClient(t, old, 3, true)
			s.Write([]byte("req"))
			old.take()
			closing := goCall(s.CloseWrite)
			wantWaiting(t, closing, "CloseWrite before CONNECTED")
			s.Abort(errGone)
			wantWaiting(t, closing, "CloseWrite while lost")
			if err := s.MoveTo(9, rec, nil); err != nil {
				t.Fatal(err)
			}
			wantWaiting(t, closing, "CloseWrite, moved, before CONNECTED")
			wantSent(t, rec, beginOn(9), dataOn(9, []byte("req")))
			mustDeliver(t, s, connectedOn(9))
			if err := <-closing; err != nil {
				t.Fatalf("CloseWrite: %v", err)
			}
			wantSent(t, rec, endOn(9, onion.EndDone))
			wantSent(t, old)
			mustDeliver(t, s, dataOn(9, []byte("resp")), endOn(9, onion.EndDone))
			if got, err := io.ReadAll(s); string(got) != "resp" || err != nil {
				t.Fatalf("ReadAll = %q, %v", got, err)
			}
		})
	})
}

// TestAttachMovesLostStream: through real circuits, a kept stream whose
// circuit is destroyed before CONNECTED is lost, not failed; Attach on
// another circuit sends BEGIN and the kept bytes there under a new id, the
// stream carries on there, and the dead circuit has let it go.
func TestAttachMovesLostStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, fr, _ := startClient(t)
		c1, c2 := fr.create(cl), fr.create(cl)
		s, err := circuit.NewClientStream(openTarget)
		if err != nil {
			t.Fatal(err)
		}
		s.KeepUntilConnected()
		if err := c1.Attach(s); err != nil {
			t.Fatalf("Attach: %v", err)
		}
		fr.idle() // nothing before the first use
		s.Write([]byte("hello"))
		m := fr.msg(c1.ID())
		id1 := m.Stream
		if m.Cmd != onion.RelayBegin || string(m.Body) != openTarget || id1 == 0 {
			t.Fatalf("client sent %v %q on stream %d, want BEGIN %q", m.Cmd, m.Body, id1, openTarget)
		}
		if m := fr.msg(c1.ID()); m.Cmd != onion.RelayData || m.Stream != id1 || string(m.Body) != "hello" {
			t.Fatalf("client sent %v %q on stream %d, want DATA hello on %d", m.Cmd, m.Body, m.Stream, id1)
		}

		fr.peer.Send(onion.Cell{CircID: c1.ID(), Cmd: onion.CmdDestroy, Payload: []byte{byte(onion.DestroyLayer)}})
		<-c1.Done()
		wantLost(t, s, circuit.ErrCircuitClosed)
		s.Write([]byte(" world")) // kept
		if err := c1.Attach(s); err == nil {
			t.Fatal("Attach on the destroyed circuit succeeded")
		}
		fr.idle()

		if err := c2.Attach(s); err != nil {
			t.Fatalf("Attach on a second circuit: %v", err)
		}
		m = fr.msg(c2.ID())
		id2 := m.Stream
		if m.Cmd != onion.RelayBegin || string(m.Body) != openTarget || id2 == 0 || id2 != s.ID() {
			t.Fatalf("client sent %v %q on stream %d, want BEGIN %q on %d", m.Cmd, m.Body, id2, openTarget, s.ID())
		}
		if m := fr.msg(c2.ID()); m.Cmd != onion.RelayData || m.Stream != id2 || string(m.Body) != "hello world" {
			t.Fatalf("client sent %v %q on stream %d, want the kept DATA", m.Cmd, m.Body, m.Stream)
		}
		if err := c2.Attach(s); err == nil {
			t.Fatal("Attach of a stream that is on a circuit succeeded")
		}
		if n1, n2 := c1.NumStreams(), c2.NumStreams(); n1 != 0 || n2 != 1 {
			t.Fatalf("streams on the circuits: %d, %d; want 0, 1", n1, n2)
		}

		fr.send(c2.ID(), onion.RelayMsg{Cmd: onion.RelayConnected, Stream: id2})
		if err := s.WaitConnected(context.Background()); err != nil {
			t.Fatalf("WaitConnected on the second circuit: %v", err)
		}
		fr.send(c2.ID(), onion.RelayMsg{Cmd: onion.RelayData, Stream: id2, Body: []byte("hi")})
		b := make([]byte, 10)
		if n, err := s.Read(b); string(b[:n]) != "hi" || err != nil {
			t.Fatalf("Read = %q, %v", b[:n], err)
		}
		s.Close()
		for _, want := range []onion.EndReason{onion.EndDone, onion.EndReset} {
			if m := fr.msg(c2.ID()); m.Cmd != onion.RelayEnd || m.Stream != id2 || !bytes.Equal(m.Body, []byte{byte(want)}) {
				t.Fatalf("Close sent %v %x on stream %d, want END %v", m.Cmd, m.Body, m.Stream, want)
			}
		}
		synctest.Wait()
		if n := c2.NumStreams(); n != 0 {
			t.Fatalf("%d streams on the circuit after Close", n)
		}
		fr.idle()
	})
}

// slowSender is a recorder whose sends of cmd wait for release: a BEGIN
// still on its way to the circuit when another goroutine ends the stream.
type slowSender struct {
	recorder
	cmd     onion.RelayCmd
	release chan struct{}
}

func (g *slowSender) SendMsg(m onion.RelayMsg) error {
	if m.Cmd == g.cmd {
		<-g.release
	}
	return g.recorder.SendMsg(m)
}

// TestEndWaitsForBegin: an END never overtakes the BEGIN it ends, though
// the stream is closed, half-closed or given up while another goroutine's
// first use is still sending BEGIN: an exit that heard END first would
// open the stream BEGIN asks for and keep it.
func TestEndWaitsForBegin(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(s *circuit.Stream)
		want []onion.RelayMsg
	}{
		{"Close", func(s *circuit.Stream) { s.Close() },
			[]onion.RelayMsg{beginOn(9), endOn(9, onion.EndDone), endOn(9, onion.EndReset)}},
		{"CloseWrite", func(s *circuit.Stream) { s.CloseWrite() },
			[]onion.RelayMsg{beginOn(9), endOn(9, onion.EndDone)}},
		{"CloseWithReason", func(s *circuit.Stream) { s.CloseWithReason(onion.EndMisc) },
			[]onion.RelayMsg{beginOn(9), endOn(9, onion.EndMisc)}},
		{"Fail", func(s *circuit.Stream) { s.Fail(errors.New("given up")) },
			[]onion.RelayMsg{beginOn(9), endOn(9, onion.EndReset)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				out := &slowSender{cmd: onion.RelayBegin, release: make(chan struct{})}
				s := newClient(t, out, 9, false)
				begun := goCall(func() error { s.Begin(); return nil })
				synctest.Wait() // BEGIN is on its way
				ended := goCall(func() error { tc.end(s); return nil })
				synctest.Wait()
				close(out.release)
				<-begun
				<-ended
				wantSent(t, &out.recorder, tc.want...)
			})
		})
	}
}

// TestCloseWriteOnNoCircuit: a stream that does not keep what it writes
// and is on no circuit yet half-closes as it would write: once placed,
// behind BEGIN, or fails at the write deadline.
func TestCloseWriteOnNoCircuit(t *testing.T) {
	t.Run("until placed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := &recorder{}
			s := newClient(t, nil, 0, false)
			closing := goCall(s.CloseWrite)
			wantWaiting(t, closing, "CloseWrite on no circuit")
			if err := s.MoveTo(9, rec, nil); err != nil {
				t.Fatal(err)
			}
			if err := <-closing; err != nil {
				t.Fatalf("CloseWrite once placed: %v", err)
			}
			wantSent(t, rec, beginOn(9), endOn(9, onion.EndDone))
		})
	})
	t.Run("until the write deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := newClient(t, nil, 0, false)
			start := time.Now()
			s.SetWriteDeadline(start.Add(time.Second))
			if err := s.CloseWrite(); !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != time.Second {
				t.Fatalf("CloseWrite = %v after %v; want os.ErrDeadlineExceeded after 1s", err, time.Since(start))
			}
		})
	})
}

// TestLostStreamIgnoresLateAnswer: a CONNECTED that reaches the stream
// after its circuit lost it (the circuit's reader had it in hand while
// another goroutine closed the circuit) comes from a circuit that is gone:
// the stream stays lost, OnAnswer does not hear it, and what the stream
// writes is kept and moves on with it rather than vanish.
func TestLostStreamIgnoresLateAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old, rec := &recorder{}, &recorder{}
		s, answers := newAnswered(t, old, 3)
		s.Begin()
		old.take()
		s.Abort(errGone)
		mustDeliver(t, s, connectedOn(3))
		wantLost(t, s, errGone)
		if len(answers) != 0 {
			t.Fatalf("OnAnswer heard %v from the lost circuit", <-answers)
		}
		if n, err := s.Write([]byte("req")); n != 3 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		wantSent(t, old)
		if err := s.MoveTo(9, rec, nil); err != nil {
			t.Fatalf("MoveTo: %v", err)
		}
		wantSent(t, rec, beginOn(9), dataOn(9, []byte("req")))
	})
}

// TestSendControlOnNoCircuit: a control message on a stream that is on no
// circuit (not yet attached, or lost) fails with a *LostError instead of
// going nowhere.
func TestSendControlOnNoCircuit(t *testing.T) {
	s, err := circuit.NewClientStream("example.com:80")
	if err != nil {
		t.Fatal(err)
	}
	var lost *circuit.LostError
	if err := s.SendControl(onion.RelayAuthProof, []byte("x")); !errors.As(err, &lost) {
		t.Fatalf("SendControl on no circuit = %v, want a *LostError", err)
	}
}
