package circuit_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion"
	"onion/onion/circuit"
)

// recorder is a MsgSender that keeps what a stream sends.
type recorder struct {
	mu   sync.Mutex
	msgs []onion.RelayMsg
}

func (r *recorder) SendMsg(m onion.RelayMsg) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m.Body = bytes.Clone(m.Body) // SendMsg must not keep the caller's buffer
	r.msgs = append(r.msgs, m)
	return nil
}

// take returns and forgets what was sent so far.
func (r *recorder) take() []onion.RelayMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.msgs
	r.msgs = nil
	return m
}

func newStream(out circuit.MsgSender) *circuit.Stream {
	return circuit.NewStream(7, out, nil, circuit.StreamAddr("local:1"), circuit.StreamAddr("remote:2"))
}

func data(n int) onion.RelayMsg {
	return onion.RelayMsg{Cmd: onion.RelayData, Stream: 7, Body: bytes.Repeat([]byte{'x'}, n)}
}

func sendme(n uint32) onion.RelayMsg {
	return onion.RelayMsg{Cmd: onion.RelaySendme, Stream: 7, Body: onion.Uint32Body(n)}
}

func end(r onion.EndReason) onion.RelayMsg {
	return onion.RelayMsg{Cmd: onion.RelayEnd, Stream: 7, Body: []byte{byte(r)}}
}

func mustDeliver(t *testing.T, s *circuit.Stream, ms ...onion.RelayMsg) {
	t.Helper()
	for _, m := range ms {
		if err := s.Deliver(m); err != nil {
			t.Fatalf("Deliver(%v, %d bytes): %v", m.Cmd, len(m.Body), err)
		}
	}
}

// fill delivers n bytes of DATA in full-size messages.
func fill(t *testing.T, s *circuit.Stream, n int) {
	t.Helper()
	for n > 0 {
		k := min(n, onion.MaxData)
		mustDeliver(t, s, data(k))
		n -= k
	}
}

func dataBytes(ms []onion.RelayMsg) int {
	n := 0
	for _, m := range ms {
		if m.Cmd == onion.RelayData {
			n += len(m.Body)
		}
	}
	return n
}

// TestWriteBlocksOnWindowUntilSendme: a writer may have StreamWindow bytes
// in flight; the next byte waits, durably, until a SENDME arrives, and then
// exactly the granted amount goes out.
func TestWriteBlocksOnWindowUntilSendme(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		s := newStream(rec)
		if n, err := s.Write(make([]byte, onion.StreamWindow)); err != nil || n != onion.StreamWindow {
			t.Fatalf("Write(StreamWindow) = %d, %v", n, err)
		}
		sent := rec.take()
		if got := dataBytes(sent); got != onion.StreamWindow {
			t.Fatalf("sent %d bytes of DATA, want %d", got, onion.StreamWindow)
		}
		for _, m := range sent {
			if len(m.Body) > onion.MaxData || m.Stream != 7 {
				t.Fatalf("DATA of %d bytes on stream %d", len(m.Body), m.Stream)
			}
		}

		done := make(chan error, 1)
		go func() {
			_, err := s.Write(make([]byte, 3000))
			done <- err
		}()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Write with no window returned %v, want it to block", err)
		default:
		}
		if got := rec.take(); len(got) != 0 {
			t.Fatalf("sent %v with no window", got)
		}

		mustDeliver(t, s, sendme(1000)) // part of what is needed
		synctest.Wait()
		if got := dataBytes(rec.take()); got != 1000 {
			t.Fatalf("after SENDME 1000: sent %d bytes, want 1000", got)
		}
		select {
		case err := <-done:
			t.Fatalf("Write returned %v with 2000 bytes left and no window", err)
		default:
		}
		mustDeliver(t, s, sendme(onion.SendmeThreshold))
		if err := <-done; err != nil {
			t.Fatalf("Write after SENDME: %v", err)
		}
		if got := dataBytes(rec.take()); got != 2000 {
			t.Fatalf("after second SENDME: sent %d bytes, want 2000", got)
		}
	})
}

// TestReadGrantsSendmeAtThreshold: a reader gives window back only once it
// has consumed SendmeThreshold bytes, and grants exactly what it consumed.
func TestReadGrantsSendmeAtThreshold(t *testing.T) {
	rec := &recorder{}
	s := newStream(rec)
	fill(t, s, onion.StreamWindow)
	if _, err := io.ReadFull(s, make([]byte, onion.SendmeThreshold-1)); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("sent %v before the threshold", got)
	}
	if _, err := io.ReadFull(s, make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	if len(got) != 1 || got[0].Cmd != onion.RelaySendme || got[0].Stream != 7 {
		t.Fatalf("after the threshold sent %v, want one SENDME", got)
	}
	if n, err := onion.ParseUint32Body(got[0].Body); err != nil || n != onion.SendmeThreshold+1 {
		t.Fatalf("SENDME grants %d (%v), want %d", n, err, onion.SendmeThreshold+1)
	}
	// The grant made room for exactly that many more bytes.
	fill(t, s, onion.SendmeThreshold+1)
	if err := s.Deliver(data(1)); !errors.Is(err, circuit.ErrProtocol) {
		t.Fatalf("DATA past the granted window: %v, want ErrProtocol", err)
	}
}

// TestDeliverRejectsWindowOverrun: a peer that sends more than StreamWindow
// unacknowledged bytes broke the protocol; the stream never buffers more.
func TestDeliverRejectsWindowOverrun(t *testing.T) {
	s := newStream(&recorder{})
	fill(t, s, onion.StreamWindow)
	if err := s.Deliver(data(1)); !errors.Is(err, circuit.ErrProtocol) {
		t.Fatalf("one byte past the window: %v, want ErrProtocol", err)
	}
	// An empty DATA does not overrun anything.
	if err := s.Deliver(data(0)); err != nil {
		t.Fatalf("empty DATA at a full window: %v", err)
	}
}

// TestDeliverRejectsBadControl: SENDME beyond the window, malformed SENDME
// and END bodies, and commands that do not belong on a stream are protocol
// errors.
func TestDeliverRejectsBadControl(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    onion.RelayMsg
		want error
	}{
		{"SENDME beyond window", sendme(1), circuit.ErrProtocol},
		{"SENDME of 4G", sendme(1<<32 - 1), circuit.ErrProtocol},
		{"SENDME short body", onion.RelayMsg{Cmd: onion.RelaySendme, Stream: 7, Body: []byte{0, 1}}, onion.ErrBadMessage},
		{"END empty", onion.RelayMsg{Cmd: onion.RelayEnd, Stream: 7}, circuit.ErrProtocol},
		{"END long", onion.RelayMsg{Cmd: onion.RelayEnd, Stream: 7, Body: []byte{1, 1}}, circuit.ErrProtocol},
		{"BEGIN", onion.RelayMsg{Cmd: onion.RelayBegin, Stream: 7, Body: []byte("a:1")}, circuit.ErrProtocol},
		{"EXTEND", onion.RelayMsg{Cmd: onion.RelayExtend, Stream: 7}, circuit.ErrProtocol},
		{"unknown", onion.RelayMsg{Cmd: 200, Stream: 7}, circuit.ErrProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := newStream(&recorder{}).Deliver(tc.m); !errors.Is(err, tc.want) {
				t.Fatalf("Deliver = %v, want %v", err, tc.want)
			}
		})
	}
	// A SENDME within what was spent is fine.
	s := newStream(&recorder{})
	if _, err := s.Write(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	mustDeliver(t, s, sendme(100))
	if err := s.Deliver(sendme(1)); !errors.Is(err, circuit.ErrProtocol) {
		t.Fatalf("SENDME one past what was spent: %v, want ErrProtocol", err)
	}
}

// TestHalfClose: after CloseWrite the peer reads EOF, and we keep reading
// what the peer still sends until its own END done.
func TestHalfClose(t *testing.T) {
	a, b := streamPair(t)
	if _, err := a.Write([]byte("request")); err != nil {
		t.Fatal(err)
	}
	if err := a.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Write([]byte("x")); err == nil {
		t.Fatal("Write after CloseWrite succeeded")
	}
	got, err := io.ReadAll(b)
	if err != nil || string(got) != "request" {
		t.Fatalf("peer read %q, %v; want %q then EOF", got, err, "request")
	}
	// The other direction is still open.
	if _, err := b.Write([]byte("response")); err != nil {
		t.Fatalf("peer Write after our CloseWrite: %v", err)
	}
	if err := b.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(a)
	if err != nil || string(got) != "response" {
		t.Fatalf("read after CloseWrite: %q, %v; want %q then EOF", got, err, "response")
	}
}

// TestEndDoneReadsBufferedThenEOF: END done arriving behind DATA does not
// cut the data short; io.EOF comes after the last byte, every time.
func TestEndDoneReadsBufferedThenEOF(t *testing.T) {
	rec := &recorder{}
	s := newStream(rec)
	mustDeliver(t, s, onion.RelayMsg{Cmd: onion.RelayData, Stream: 7, Body: []byte("hello ")},
		onion.RelayMsg{Cmd: onion.RelayData, Stream: 7, Body: []byte("world")}, end(onion.EndDone))
	buf := make([]byte, 4)
	var got []byte
	for {
		n, err := s.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
	}
	if string(got) != "hello world" {
		t.Fatalf("read %q", got)
	}
	if n, err := s.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read after EOF = %d, %v", n, err)
	}
	// Our direction is still open; no SENDME for a finished direction.
	if _, err := s.Write([]byte("still open")); err != nil {
		t.Fatalf("Write after peer's END done: %v", err)
	}
	for _, m := range rec.take() {
		if m.Cmd == onion.RelaySendme {
			t.Fatal("granted window after the peer finished")
		}
	}
}

// TestEndReasonIsStreamError: an END with a reason other than done aborts
// both directions with a *StreamError carrying the reason, after the bytes
// that arrived before it, and we never answer it.
func TestEndReasonIsStreamError(t *testing.T) {
	released := make(chan struct{})
	rec := &recorder{}
	s := circuit.NewStream(7, rec, func() { close(released) }, nil, nil)
	mustDeliver(t, s, onion.RelayMsg{Cmd: onion.RelayData, Stream: 7, Body: []byte("partial")}, end(onion.EndRefused))
	<-released // the circuit may forget the stream now

	var se *circuit.StreamError
	if _, err := s.Write([]byte("x")); !errors.As(err, &se) || se.Reason != onion.EndRefused || !se.Remote {
		t.Fatalf("Write = %v, want remote *StreamError(refused)", err)
	}
	got, err := io.ReadAll(s)
	if string(got) != "partial" || !errors.As(err, &se) || se.Reason != onion.EndRefused {
		t.Fatalf("ReadAll = %q, %v; want buffered bytes then *StreamError(refused)", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("answered the peer's END with %v", got)
	}
	// DATA that was already on its way is dropped, not an error.
	if err := s.Deliver(data(10)); err != nil {
		t.Fatalf("late DATA after END: %v", err)
	}
}

// TestCloseSendsEndReset: Close on an open stream tells the peer to reset
// it, once; afterwards reads and writes fail with net.ErrClosed and onClose
// has run exactly once.
func TestCloseSendsEndReset(t *testing.T) {
	var mu sync.Mutex
	closes := 0
	released := make(chan struct{})
	rec := &recorder{}
	s := circuit.NewStream(7, rec, func() {
		mu.Lock()
		closes++
		mu.Unlock()
		close(released)
	}, nil, nil)
	mustDeliver(t, s, data(10)) // unread bytes are discarded
	for range 3 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	// Like closing a TCP socket: END done (the peer reads what was written,
	// then EOF), then END reset (the peer was still sending; nobody reads).
	got := rec.take()
	if len(got) != 2 || got[0].Cmd != onion.RelayEnd || got[0].Stream != 7 ||
		!bytes.Equal(got[0].Body, []byte{byte(onion.EndDone)}) || !bytes.Equal(got[1].Body, []byte{byte(onion.EndReset)}) {
		t.Fatalf("Close sent %v, want END done then END reset, once", got)
	}
	if _, err := s.Read(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read after Close: %v, want net.ErrClosed", err)
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close: %v, want net.ErrClosed", err)
	}
	if err := s.CloseWrite(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("CloseWrite after Close: %v, want net.ErrClosed", err)
	}
	<-released
	<-s.Done()
	mustDeliver(t, s, end(onion.EndDone)) // the peer's answer, crossing ours
	mu.Lock()
	defer mu.Unlock()
	if closes != 1 {
		t.Fatalf("onClose ran %d times", closes)
	}
}

// TestCloseAfterBothEndsDone: a stream finished in both directions closes
// with END done (nothing to reset), and one finished by CloseWrite sends no
// second END.
func TestCloseAfterBothEndsDone(t *testing.T) {
	rec := &recorder{}
	s := newStream(rec)
	mustDeliver(t, s, end(onion.EndDone))
	s.Close()
	if got := rec.take(); len(got) != 1 || !bytes.Equal(got[0].Body, []byte{byte(onion.EndDone)}) {
		t.Fatalf("Close after peer's END done sent %v, want END done", got)
	}

	s = newStream(rec)
	s.CloseWrite()
	s.Close() // the peer has not finished: it must stop sending
	if got := rec.take(); len(got) != 2 || !bytes.Equal(got[0].Body, []byte{byte(onion.EndDone)}) || !bytes.Equal(got[1].Body, []byte{byte(onion.EndReset)}) {
		t.Fatalf("CloseWrite then Close sent %v, want END done, END reset", got)
	}

	s = newStream(rec)
	s.CloseWrite()
	mustDeliver(t, s, end(onion.EndDone))
	s.Close()
	if got := rec.take(); len(got) != 1 || !bytes.Equal(got[0].Body, []byte{byte(onion.EndDone)}) {
		t.Fatalf("CloseWrite, peer's END done, Close sent %v, want one END done", got)
	}
}

// TestCloseDeliversWrittenBytesFirst: what a stream wrote before Close
// reaches the peer intact, then EOF; the peer's own writes then fail.
func TestCloseDeliversWrittenBytesFirst(t *testing.T) {
	a, b := streamPair(t)
	msg := bytes.Repeat([]byte("0123456789"), 10000)
	if _, err := a.Write(msg); err != nil {
		t.Fatal(err)
	}
	a.Close()
	got, err := io.ReadAll(b)
	if !bytes.Equal(got, msg) || err != nil {
		t.Fatalf("ReadAll = %d bytes, %v; want %d bytes then EOF", len(got), err, len(msg))
	}
	var se *circuit.StreamError
	if _, err := b.Write([]byte("x")); !errors.As(err, &se) || se.Reason != onion.EndReset {
		t.Fatalf("Write to a closed peer: %v, want a reset StreamError", err)
	}
}

// TestAbort: the circuit's owner ends a stream locally; blocked reads and
// writes return its error and nothing is sent.
func TestAbort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		s := newStream(rec)
		s.Write(make([]byte, onion.StreamWindow))
		rec.take()
		errc := make(chan error, 2)
		go func() { _, err := s.Read(make([]byte, 1)); errc <- err }()
		go func() { _, err := s.Write([]byte("x")); errc <- err }()
		synctest.Wait()
		boom := errors.New("circuit gone")
		s.Abort(boom)
		for range 2 {
			if err := <-errc; err != boom {
				t.Fatalf("blocked call returned %v, want %v", err, boom)
			}
		}
		s.Close()
		if got := rec.take(); len(got) != 0 {
			t.Fatalf("aborted stream sent %v", got)
		}
	})
}

// TestDeadlines: a passed deadline fails Read and Write with
// os.ErrDeadlineExceeded (also when there is data or window), a deadline
// moved later lets a blocked call keep waiting, and a cleared deadline lets
// I/O work again.
func TestDeadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		s := newStream(rec)
		start := time.Now()

		s.SetReadDeadline(start.Add(time.Second))
		errc := make(chan error, 1)
		go func() { _, err := s.Read(make([]byte, 1)); errc <- err }()
		time.Sleep(500 * time.Millisecond)
		s.SetReadDeadline(start.Add(3 * time.Second)) // extend while blocked
		time.Sleep(time.Second)
		synctest.Wait()
		select {
		case err := <-errc:
			t.Fatalf("Read returned %v at %v, before its extended deadline", err, time.Since(start))
		default:
		}
		err := <-errc
		if !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != 3*time.Second {
			t.Fatalf("Read = %v after %v; want os.ErrDeadlineExceeded after 3s", err, time.Since(start))
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Read error %v is not a net.Error timeout", err)
		}

		// A passed deadline fails I/O even when it could complete at once.
		mustDeliver(t, s, data(5))
		s.SetDeadline(start)
		if n, err := s.Read(make([]byte, 10)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read with buffered data past deadline = %d, %v", n, err)
		}
		if n, err := s.Write([]byte("x")); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write with window past deadline = %d, %v", n, err)
		}
		if got := rec.take(); len(got) != 0 {
			t.Fatalf("sent %v past the deadline", got)
		}

		s.SetDeadline(time.Time{})
		if n, err := s.Read(make([]byte, 10)); n != 5 || err != nil {
			t.Fatalf("Read after clearing the deadline = %d, %v", n, err)
		}
		if n, err := s.Write([]byte("x")); n != 1 || err != nil {
			t.Fatalf("Write after clearing the deadline = %d, %v", n, err)
		}

		// A write waiting for window times out, having sent what fit.
		s.Write(make([]byte, onion.StreamWindow-1-10))
		rec.take()
		s.SetWriteDeadline(time.Now().Add(time.Second))
		n, err := s.Write(make([]byte, 20))
		if n != 10 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write past the window = %d, %v; want 10, os.ErrDeadlineExceeded", n, err)
		}
	})
}

// TestWaitConnected: CONNECTED completes the open, an END instead is a
// remote *StreamError, and a cancelled context ends the wait.
func TestWaitConnected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStream(&recorder{})
		errc := make(chan error, 1)
		go func() { errc <- s.WaitConnected(context.Background()) }()
		synctest.Wait()
		mustDeliver(t, s, onion.RelayMsg{Cmd: onion.RelayConnected, Stream: 7})
		if err := <-errc; err != nil {
			t.Fatalf("WaitConnected after CONNECTED: %v", err)
		}
		select {
		case <-s.Connected():
		default:
			t.Fatal("Connected not closed after CONNECTED")
		}
		mustDeliver(t, s, onion.RelayMsg{Cmd: onion.RelayConnected, Stream: 7}) // a repeat is harmless

		s = newStream(&recorder{})
		mustDeliver(t, s, end(onion.EndExitPolicy))
		var se *circuit.StreamError
		if err := s.WaitConnected(context.Background()); !errors.As(err, &se) || se.Reason != onion.EndExitPolicy || !se.Remote {
			t.Fatalf("WaitConnected after END = %v", err)
		}

		s = newStream(&recorder{})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		if err := s.WaitConnected(ctx); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != time.Minute {
			t.Fatalf("WaitConnected = %v after %v, want DeadlineExceeded after 1m", err, time.Since(start))
		}
	})
}

func TestStreamAddrs(t *testing.T) {
	s := newStream(&recorder{})
	if s.LocalAddr().String() != "local:1" || s.RemoteAddr().String() != "remote:2" || s.RemoteAddr().Network() != "onion" {
		t.Fatalf("addrs %v %v", s.LocalAddr(), s.RemoteAddr())
	}
	if s.ID() != 7 {
		t.Fatalf("ID = %d", s.ID())
	}
}
