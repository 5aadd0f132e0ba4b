package circuit_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion"
	"onion/onion/circuit"
	"onion/onion/oniontest"
)

// The Link tests run in synctest bubbles: timeouts are fake time, and a
// goroutine a Link leaks (its writer, a preface write) would be left blocked
// when the test returns, which synctest.Test reports as a deadlock.

// linkPair runs Handshake on both ends of a net.Pipe.
func linkPair(t *testing.T) (a, b *circuit.Link) {
	t.Helper()
	ca, cb := net.Pipe()
	type res struct {
		l   *circuit.Link
		err error
	}
	ch := make(chan res, 1)
	go func() {
		l, err := circuit.Handshake(cb)
		ch <- res{l, err}
	}()
	a, err := circuit.Handshake(ca)
	if err != nil {
		t.Fatalf("Handshake: %v", err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatalf("Handshake (other end): %v", r.err)
	}
	t.Cleanup(func() { a.Close(); r.l.Close() })
	return a, r.l
}

// TestLinkPairOverPipe: two Links handshake over a synchronous net.Pipe
// (neither end's preface write can complete before the other reads) and
// carry cells both ways, in order, including a full-size one. A Send may
// write inline, which over net.Pipe waits for the reader, so the sends run
// beside the reads.
func TestLinkPairOverPipe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := linkPair(t)
		cells := []onion.Cell{
			{CircID: 1, Cmd: onion.CmdCreate, Payload: bytes.Repeat([]byte{1}, onion.CreateLen)},
			{CircID: 1, Cmd: onion.CmdRelay, Payload: bytes.Repeat([]byte{2}, onion.MaxCellPayload)},
			{CircID: 0xffffffff, Cmd: onion.CmdDestroy, Payload: []byte{3}},
			{CircID: 2, Cmd: onion.CmdRelay},
		}
		sent := make(chan error, 1)
		go func() {
			for _, c := range cells {
				if err := a.Send(c); err != nil {
					sent <- err
					return
				}
			}
			sent <- nil
		}()
		for _, want := range cells {
			got, err := b.ReadCell()
			if err != nil || got.CircID != want.CircID || got.Cmd != want.Cmd || !bytes.Equal(got.Payload, want.Payload) {
				t.Fatalf("ReadCell = %v %d %d bytes, %v; want %v %d %d bytes",
					got.Cmd, got.CircID, len(got.Payload), err, want.Cmd, want.CircID, len(want.Payload))
			}
		}
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		go func() { sent <- b.Send(onion.Cell{CircID: 9, Cmd: onion.CmdCreated, Payload: []byte("back")}) }()
		if got, err := a.ReadCell(); err != nil || string(got.Payload) != "back" {
			t.Fatalf("ReadCell the other way = %+v, %v", got, err)
		}
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
	})
}

// TestHandshakeRejectsHTTP: a peer that speaks HTTP is told apart from a
// broken cell: Handshake fails with ErrBadPreface at once, not at a timeout.
func TestHandshakeRejectsHTTP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		defer theirs.Close()
		go io.Copy(io.Discard, theirs) // read whatever our end writes
		go theirs.Write([]byte("GET / HTTP/1.1\r\nHost: relay\r\n\r\n"))
		start := time.Now()
		l, err := circuit.Handshake(ours)
		if !errors.Is(err, onion.ErrBadPreface) || l != nil {
			t.Fatalf("Handshake = %v, %v; want ErrBadPreface", l, err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("Handshake took %v to reject HTTP", d)
		}
		ours.Close()
	})
}

// TestHandshakeBadPrefaceFromNonReader: a peer that sends garbage and never
// reads cannot hold Handshake (or its preface write) until the timeout.
func TestHandshakeBadPrefaceFromNonReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		defer theirs.Close()
		go theirs.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
		start := time.Now()
		if _, err := circuit.Handshake(ours); !errors.Is(err, onion.ErrBadPreface) {
			t.Fatalf("Handshake = %v, want ErrBadPreface", err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("Handshake took %v to reject a peer that does not read", d)
		}
		ours.Close()
	})
}

// TestHandshakeSilentPeerTimesOut: a peer that connects and never speaks
// does not hold a handshake forever.
func TestHandshakeSilentPeerTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		defer theirs.Close()
		go io.Copy(io.Discard, theirs)
		start := time.Now()
		_, err := circuit.Handshake(ours)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Handshake with a silent peer = %v, want os.ErrDeadlineExceeded", err)
		}
		if d := time.Since(start); d < time.Second || d > time.Minute {
			t.Fatalf("Handshake gave up after %v", d)
		}
		ours.Close()
	})
}

// TestHandshakeWithinBound: a relay chooses how long a connection may
// stay before its preface.
func TestHandshakeWithinBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		defer theirs.Close()
		go io.Copy(io.Discard, theirs)
		start := time.Now()
		if _, err := circuit.HandshakeWithin(ours, 3*time.Second); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("HandshakeWithin with a silent peer = %v, want os.ErrDeadlineExceeded", err)
		}
		if d := time.Since(start); d != 3*time.Second {
			t.Fatalf("HandshakeWithin gave up after %v, want 3s", d)
		}
		ours.Close()
	})
}

// TestHandshakeHoldsNoBufferBeforePreface: a connection whose peer has not
// sent the preface holds no read buffer yet: at 64 KiB each, connections
// that never say anything would cost a relay as much as real links.
func TestHandshakeHoldsNoBufferBeforePreface(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 32
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			ours, theirs := net.Pipe()
			go io.Copy(io.Discard, theirs)
			go theirs.Write([]byte("NOTONION"))
			if _, err := circuit.Handshake(ours); !errors.Is(err, onion.ErrBadPreface) {
				t.Fatalf("Handshake = %v, want ErrBadPreface", err)
			}
			ours.Close()
			theirs.Close()
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 16<<10 {
			t.Fatalf("a refused preface allocated %d bytes", per)
		}
	})
}

// TestSendFailsWhenPeerNeverReads: a peer that stops reading cannot make
// Send block forever: once the writer has waited DefaultWriteTimeout the
// link closes and Send fails with ErrLinkClosed.
func TestSendFailsWhenPeerNeverReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		peer := oniontest.NewPeer(t, theirs)
		peer.Timeout = time.Hour
		lc := make(chan *circuit.Link, 1)
		go func() {
			l, err := circuit.Handshake(ours)
			if err != nil {
				t.Error(err)
			}
			lc <- l
		}()
		peer.Preface()
		l := <-lc
		defer l.Close()

		start := time.Now()
		var err error
		sent := 0
		for err == nil {
			err = l.Send(onion.Cell{CircID: 1, Cmd: onion.CmdRelay, Payload: make([]byte, 1000)})
			sent++
		}
		d := time.Since(start)
		if !errors.Is(err, circuit.ErrLinkClosed) || !errors.Is(l.Err(), os.ErrDeadlineExceeded) {
			t.Fatalf("Send = %v, link error %v; want ErrLinkClosed from a write timeout", err, l.Err())
		}
		if d < circuit.DefaultWriteTimeout || d > 2*circuit.DefaultWriteTimeout {
			t.Fatalf("Send failed after %v (%d cells), want about %v", d, sent, circuit.DefaultWriteTimeout)
		}
		select {
		case <-l.Done():
		default:
			t.Fatal("Done not closed after the write timeout")
		}
	})
}

// TestLinkCloseIdempotent: Close can be called any number of times, from
// many goroutines; afterwards Send and ReadCell fail and Err says closed.
func TestLinkCloseIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := linkPair(t)
		readErr := make(chan error, 1)
		go func() {
			_, err := a.ReadCell() // blocked in a read when Close comes
			readErr <- err
		}()
		synctest.Wait()
		done := make(chan struct{})
		for range 4 {
			go func() { a.Close(); done <- struct{}{} }()
		}
		for range 4 {
			<-done
		}
		if err := a.Close(); err != nil {
			t.Fatalf("Close again: %v", err)
		}
		if err := <-readErr; err == nil {
			t.Fatal("ReadCell blocked across Close returned no error")
		}
		if err := a.Send(onion.Cell{CircID: 1, Cmd: onion.CmdRelay}); !errors.Is(err, circuit.ErrLinkClosed) {
			t.Fatalf("Send after Close = %v", err)
		}
		if !errors.Is(a.Err(), circuit.ErrLinkClosed) {
			t.Fatalf("Err = %v", a.Err())
		}
		// The other end sees the close as the end of its link.
		if _, err := b.ReadCell(); err != io.EOF {
			t.Fatalf("peer ReadCell after Close = %v, want io.EOF", err)
		}
		<-b.Done()
		if err := b.Send(onion.Cell{CircID: 1, Cmd: onion.CmdRelay}); !errors.Is(err, circuit.ErrLinkClosed) {
			t.Fatalf("peer Send after its link closed = %v", err)
		}
	})
}

// TestLinkTruncatedFrame: a frame cut off mid-payload closes the link with
// io.ErrUnexpectedEOF; it is not mistaken for a short cell.
func TestLinkTruncatedFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ours, theirs := net.Pipe()
		peer := oniontest.NewPeer(t, theirs)
		lc := make(chan *circuit.Link, 1)
		go func() {
			l, _ := circuit.Handshake(ours)
			lc <- l
		}()
		peer.Preface()
		l := <-lc
		defer l.Close()
		wire := onion.AppendCell(nil, onion.Cell{CircID: 3, Cmd: onion.CmdRelay, Payload: make([]byte, 500)})
		go func() {
			peer.WriteErr(wire[:100])
			theirs.Close()
		}()
		if _, err := l.ReadCell(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("ReadCell of a truncated frame = %v, want io.ErrUnexpectedEOF", err)
		}
		<-l.Done()
	})
}

// TestLinkQueuesBehindInlineWrite: while one Send is writing (here blocked,
// since nobody reads the pipe yet), other Sends queue and return at once;
// the queued cells then go out behind it, in order.
func TestLinkQueuesBehindInlineWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := linkPair(t)
		first := make(chan error, 1)
		go func() { first <- a.Send(onion.Cell{CircID: 1, Cmd: onion.CmdRelay, Payload: []byte("first")}) }()
		synctest.Wait() // the first Send is blocked in its write
		for i := uint32(2); i <= 20; i++ {
			if err := a.Send(onion.Cell{CircID: i, Cmd: onion.CmdRelay, Payload: []byte{byte(i)}}); err != nil {
				t.Fatal(err)
			}
		}
		for i := uint32(1); i <= 20; i++ {
			got, err := b.ReadCell()
			if err != nil || got.CircID != i {
				t.Fatalf("cell %d: got circuit %d, %v", i, got.CircID, err)
			}
		}
		if err := <-first; err != nil {
			t.Fatal(err)
		}
	})
}

// linkToRaw returns a Link whose peer is a raw conn the test drives byte by byte.
func linkToRaw(t *testing.T) (*circuit.Link, net.Conn) {
	t.Helper()
	ours, theirs := net.Pipe()
	go io.Copy(io.Discard, theirs) // the peer reads whatever we send
	go theirs.Write([]byte(onion.LinkPreface))
	l, err := circuit.Handshake(ours)
	if err != nil {
		t.Fatalf("Handshake: %v", err)
	}
	t.Cleanup(func() { l.Close(); theirs.Close() })
	return l, theirs
}

// TestLinkPeerTricklesCell: a peer that starts a cell and then sends one
// byte a second loses the link once the cell timeout passes, instead of
// holding the reader (and every circuit on the link) for as long as it likes.
func TestLinkPeerTricklesCell(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, theirs := linkToRaw(t)
		hdr := onion.AppendCellHeader(nil, onion.Cell{CircID: 1, Cmd: onion.CmdRelay, Payload: make([]byte, 1000)})
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			theirs.Write(hdr)
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
				if _, err := theirs.Write([]byte{0}); err != nil {
					return
				}
			}
		}()
		start := time.Now()
		_, err := l.ReadCell()
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("ReadCell from a trickling peer = %v, want a deadline error", err)
		}
		if d := time.Since(start); d != circuit.DefaultCellTimeout {
			t.Fatalf("gave up after %v, want %v", d, circuit.DefaultCellTimeout)
		}
		select {
		case <-l.Done():
		default:
			t.Fatal("link still open")
		}
	})
}

// TestLinkIdleTimeout: with an idle timeout set, a silent peer loses the
// link after it (ErrIdle); a cell that arrives in time is read as usual.
func TestLinkIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, theirs := linkToRaw(t)
		l.SetIdleTimeout(time.Minute)
		go func() {
			time.Sleep(59 * time.Second)
			theirs.Write(onion.AppendCell(nil, onion.Cell{CircID: 7, Cmd: onion.CmdRelay, Payload: []byte("in time")}))
		}()
		if c, err := l.ReadCell(); err != nil || string(c.Payload) != "in time" {
			t.Fatalf("ReadCell = %+v, %v", c, err)
		}
		start := time.Now()
		_, err := l.ReadCell()
		if !errors.Is(err, circuit.ErrIdle) {
			t.Fatalf("ReadCell from a silent peer = %v, want ErrIdle", err)
		}
		if d := time.Since(start); d != time.Minute {
			t.Fatalf("gave up after %v, want 1m", d)
		}
	})
}
