package circuit

// Links, PROTOCOL.md §2: a preface each way, then cells.

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"onion/onion"
)

// Link defaults.
const (
	DefaultQueueLen     = 256              // cells waiting for the writer
	DefaultWriteTimeout = 30 * time.Second // a peer that reads nothing for this long loses the link
	DefaultCellTimeout  = 30 * time.Second // a cell begun must arrive whole within this
	prefaceTimeout      = 10 * time.Second
	readBufferSize      = 64 << 10
	// recordReadBufferSize is the read buffer above a conn that reads
	// whole records into buffers of its own (TLS, see readBufferFor).
	recordReadBufferSize = 4 << 10
	// flatLimit bounds the buffer that a batch is copied into for a conn
	// without vectored writes (TLS): a batch larger goes out in pieces.
	flatLimit = 256 << 10
	// A batch is small, so a cell of a quiet circuit that arrives during a
	// write goes out in the next one; 8 full cells per writev still keep
	// the syscalls per byte low.
	maxBatchCells = 32
	maxBatchBytes = 8 * onion.MaxCellPayload
)

// ErrLinkClosed is returned by Send after the link closed.
var ErrLinkClosed = errors.New("circuit: link closed")

// Link carries cells over one connection. ReadCell must be called from one
// goroutine only (the link's reader); Send may be called from any goroutine.
//
// Writes combine: a Send that finds nobody writing writes its cell itself,
// at once (no hand-off to another goroutine on the latency path); cells sent
// meanwhile wait in a bounded queue, one per circuit, and go out in small
// vectored writes (at most maxBatchCells cells, maxBatchBytes of payload),
// by a writer goroutine if more arrived during the inline write. Each batch
// is filled from the quietest circuits first (sched.go), and the socket is
// asked to hold little unsent data (tuneSocket), so the queue stays here,
// where it is ordered, and not in the kernel, where it is not: a cell of a
// quiet circuit waits for at most one batch however busy the link is.
type Link struct {
	conn         net.Conn
	r            *bufio.Reader
	done         chan struct{}
	writerDone   chan struct{}
	kick         chan struct{} // wakes the writer goroutine; capacity 1
	writeTimeout time.Duration
	cellTimeout  time.Duration
	queueLen     int
	idleTimeout  atomic.Int64 // nanoseconds; 0: wait for the next cell for ever
	// vectored: conn writes net.Buffers in one system call (TCP). Any
	// other conn (TLS above all) gets each batch copied into a pooled
	// buffer and written with one Write, so that a batch is a few full
	// TLS records and not two small records per cell.
	vectored bool

	closeOnce sync.Once
	mu        sync.Mutex
	space     sync.Cond    // signalled when the queue drains or the link closes
	pending   sched        // cells waiting to be written, per circuit (sched.go); guarded by mu
	spare     []onion.Cell // the previous batch's backing array, for reuse; guarded by mu
	writing   bool         // a goroutine owns the conn for writing; guarded by mu
	err       error        // why the link closed; guarded by mu
}

// Handshake exchanges prefaces on a fresh connection and returns the Link.
// Both sides write the preface and read the peer's at the same time, so
// neither waits on the other even over a conn with no buffer (net.Pipe,
// where a write completes only when the peer reads). The exchange is bounded
// by a 10 s deadline. On error the caller closes conn.
func Handshake(conn net.Conn) (*Link, error) { return HandshakeWithin(conn, prefaceTimeout) }

// HandshakeWithin is Handshake with the exchange bounded by d instead: a
// relay chooses how long a connection may stay before its preface.
func HandshakeWithin(conn net.Conn, d time.Duration) (*Link, error) {
	conn.SetDeadline(time.Now().Add(d))
	werr := make(chan error, 1)
	go func() {
		_, err := io.WriteString(conn, onion.LinkPreface)
		werr <- err
	}()
	// The preface is read from conn itself, exactly its 8 bytes: the link's
	// 64 KiB read buffer is allocated only for a peer that sent it.
	if err := onion.ReadPreface(conn); err != nil {
		conn.SetWriteDeadline(time.Unix(1, 0)) // a peer that does not read must not hold the writer
		<-werr
		return nil, err
	}
	if err := <-werr; err != nil {
		return nil, fmt.Errorf("write preface: %w", err)
	}
	conn.SetDeadline(time.Time{})
	return newLink(conn, bufio.NewReaderSize(conn, readBufferFor(conn))), nil
}

// readBufferFor sizes the read buffer of a link over conn. Over a socket
// it is large, so that one read system call brings many cells. A TLS conn
// reads and opens whole records into buffers of its own and copies out of
// them, so a large buffer above it saves no system call and costs one more
// copy of every byte: a small one holds small cells whole (no deadline to
// set for them, see readCell), and the payload of a large cell, read with
// an empty buffer, is copied by TLS straight into the cell (bufio reads
// directly into a destination at least as large as its buffer).
func readBufferFor(conn net.Conn) int {
	if _, ok := conn.(interface{ ConnectionState() tls.ConnectionState }); ok {
		return recordReadBufferSize
	}
	return readBufferSize
}

func newLink(conn net.Conn, r *bufio.Reader) *Link {
	l := &Link{
		conn:         conn,
		r:            r,
		done:         make(chan struct{}),
		writerDone:   make(chan struct{}),
		kick:         make(chan struct{}, 1),
		writeTimeout: DefaultWriteTimeout,
		cellTimeout:  DefaultCellTimeout,
		queueLen:     DefaultQueueLen,
		vectored:     isVectored(conn),
		pending:      newSched(time.Now()),
	}
	tuneSocket(conn)
	l.space.L = &l.mu
	go l.writer()
	return l
}

// RemoteAddr is the peer's address (for debug logs only: it may be a client IP).
func (l *Link) RemoteAddr() net.Addr { return l.conn.RemoteAddr() }

// ErrIdle is the read error of a link that stayed silent past its idle timeout.
var ErrIdle = errors.New("circuit: link idle")

// SetIdleTimeout bounds how long ReadCell waits for the first byte of the
// next cell; 0 (the default) waits for ever. A relay sets it while a link
// carries no circuits, so a peer that connects and says nothing does not
// hold a link open for ever.
func (l *Link) SetIdleTimeout(d time.Duration) { l.idleTimeout.Store(int64(d)) }

// ReadCell reads the next cell. The payload is owned by the caller; a large
// one is in a pooled buffer that the caller may hand back with onion.Recycle. Once a
// cell has begun, the rest of it must arrive within the cell timeout: a
// peer that stalls mid-cell (or sends a byte a second) loses the link
// rather than holding its reader.
func (l *Link) ReadCell() (onion.Cell, error) {
	c, err := l.readCell()
	if err != nil {
		l.closeWith(fmt.Errorf("read: %w", err))
		return onion.Cell{}, err
	}
	return c, nil
}

func (l *Link) readCell() (onion.Cell, error) {
	idle := time.Duration(l.idleTimeout.Load())
	if idle > 0 {
		l.conn.SetReadDeadline(time.Now().Add(idle))
	}
	if _, err := l.r.Peek(1); err != nil {
		if idle > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("%w: nothing for %v", ErrIdle, idle)
		}
		return onion.Cell{}, err
	}
	// A cell already buffered whole needs no deadline (and no syscall).
	if n := l.r.Buffered(); n >= onion.CellHeaderLen {
		hdr, _ := l.r.Peek(onion.CellHeaderLen) // buffered: cannot block or fail
		if n >= onion.CellHeaderLen+int(hdr[5])<<8+int(hdr[6]) {
			if idle > 0 {
				l.conn.SetReadDeadline(time.Time{})
			}
			return onion.ReadCellPooled(l.r)
		}
	}
	l.conn.SetReadDeadline(time.Now().Add(l.cellTimeout))
	c, err := onion.ReadCellPooled(l.r)
	if err == nil {
		l.conn.SetReadDeadline(time.Time{})
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("cell not complete after %v: %w", l.cellTimeout, err)
	}
	return c, err
}

// ErrCellTooBig is returned by Send for a payload that cannot be framed.
var ErrCellTooBig = errors.New("circuit: cell payload too big")

// Send writes c, or queues it behind the cells already waiting. It blocks
// while the queue is full (and, when it writes itself, until the kernel has
// taken the cell) and fails once the link is closed. Cells from one
// goroutine go out in the order sent. The caller must not touch c.Payload
// afterwards, nor send the same pooled payload twice: once written, it goes
// back to onion's buffer pool.
func (l *Link) Send(c onion.Cell) error { return l.send(c, 0) }

// SendOrigin is Send for the end of a circuit where its cells are made
// (the client, an exit, a hidden service): it also waits while
// OriginQueueLen cells of the circuit are queued already. The sender of a
// bulk stream then waits at its source, not in the link's queue, and a
// cell of another stream on the circuit, sealed meanwhile, is not queued
// behind a long run of bulk cells. A relay that forwards cells must not use
// it: its reader serves every circuit of a link, and would stall them all.
func (l *Link) SendOrigin(c onion.Cell) error { return l.send(c, OriginQueueLen) }

// OriginQueueLen bounds the cells of one circuit queued on its first link
// by SendOrigin.
const OriginQueueLen = 8

// send is Send; perCirc > 0 also waits while that many cells of c's
// circuit are queued.
func (l *Link) send(c onion.Cell, perCirc int) error {
	if len(c.Payload) > onion.MaxCellPayload {
		return fmt.Errorf("%w: %d bytes", ErrCellTooBig, len(c.Payload))
	}
	l.mu.Lock()
	for l.err == nil && (l.pending.n >= l.queueLen || perCirc > 0 && l.pending.waiting(c.CircID) >= perCirc) {
		l.space.Wait()
	}
	if l.err != nil {
		err := l.err
		l.mu.Unlock()
		return err
	}
	l.pending.push(c)
	if l.writing {
		l.mu.Unlock()
		return nil // the goroutine writing now takes it next
	}
	l.writing = true
	batch := l.takeLocked()
	l.mu.Unlock()

	err := l.write(batch)
	if l.finish(batch, err) {
		select { // still owned: the writer goroutine carries on
		case l.kick <- struct{}{}:
		default:
		}
	}
	if err != nil {
		return l.Err()
	}
	return nil
}

// finish ends the write of batch: it keeps batch's array for reuse, closes
// the link if err, and reports whether more cells queued meanwhile, in which
// case the caller still owns writing; otherwise writing is handed back.
func (l *Link) finish(batch []onion.Cell, err error) (more bool) {
	l.mu.Lock()
	l.spare = batch[:0]
	more = err == nil && l.err == nil && l.pending.n > 0
	l.writing = more
	l.mu.Unlock()
	if err != nil {
		l.closeWith(fmt.Errorf("write: %w", err))
	}
	return more
}

// takeLocked returns the next batch of queued cells. l.mu is held.
func (l *Link) takeLocked() []onion.Cell {
	batch := l.pending.take(l.spare[:0], maxBatchCells, maxBatchBytes, time.Now())
	l.spare = nil
	l.space.Broadcast()
	return batch
}

// write puts batch on the wire in one vectored write (writev on TCP) and
// drops its references to the payloads.
func (l *Link) write(batch []onion.Cell) error {
	if len(batch) == 0 {
		return nil // the link closed and dropped the queue
	}
	l.conn.SetWriteDeadline(time.Now().Add(l.writeTimeout))
	var err error
	if l.vectored {
		err = l.writeVectored(batch)
	} else {
		err = l.writeFlat(batch)
	}
	for i, c := range batch {
		onion.Recycle(c.Payload) // Send's caller gave up the payload
		batch[i] = onion.Cell{}
	}
	return err
}

func (l *Link) writeVectored(batch []onion.Cell) error {
	hdrs := make([]byte, onion.CellHeaderLen*len(batch))
	bufs := make(net.Buffers, 0, 2*len(batch))
	for i, c := range batch {
		h := onion.AppendCellHeader(hdrs[i*onion.CellHeaderLen:i*onion.CellHeaderLen], c)
		bufs = append(bufs, h)
		if len(c.Payload) > 0 {
			bufs = append(bufs, c.Payload)
		}
	}
	_, err := bufs.WriteTo(l.conn)
	return err
}

// flatBufs holds the buffers of writeFlat: shared by all links, so that
// an idle link holds none.
var flatBufs = sync.Pool{New: func() any { return new([]byte) }}

// writeFlat copies batch into a pooled buffer and writes it, flatLimit at
// a time.
func (l *Link) writeFlat(batch []onion.Cell) error {
	bp := flatBufs.Get().(*[]byte)
	defer flatBufs.Put(bp)
	buf := (*bp)[:0]
	defer func() { *bp = buf[:0] }()
	if n := flatLen(batch); cap(buf) < n {
		buf = make([]byte, 0, n) // grown once, not cell by cell
	}
	for _, c := range batch {
		if len(buf) > 0 && len(buf)+onion.CellHeaderLen+len(c.Payload) > flatLimit {
			if _, err := l.conn.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		buf = onion.AppendCellHeader(buf, c)
		buf = append(buf, c.Payload...)
	}
	_, err := l.conn.Write(buf)
	return err
}

// flatLen is the size of writeFlat's buffer for batch: its cells with
// their headers, flatLimit at most (unless one cell is larger).
func flatLen(batch []onion.Cell) int {
	n := 0
	for _, c := range batch {
		m := onion.CellHeaderLen + len(c.Payload)
		if n > 0 && n+m > flatLimit {
			break
		}
		n += m
	}
	return n
}

// isVectored reports whether conn writes net.Buffers with writev.
func isVectored(conn net.Conn) bool {
	switch conn.(type) {
	case *net.TCPConn, *net.UnixConn:
		return true
	}
	return false
}

// Done is closed when the link closes.
func (l *Link) Done() <-chan struct{} { return l.done }

// Err says why the link closed (nil while it is open).
func (l *Link) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Close closes the link. It is idempotent.
func (l *Link) Close() error {
	l.closeWith(ErrLinkClosed)
	<-l.writerDone
	return nil
}

func (l *Link) closeWith(err error) {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.err = fmt.Errorf("%w: %w", ErrLinkClosed, err)
		if errors.Is(err, ErrLinkClosed) {
			l.err = err
		}
		l.pending.drain() // never written: dropped, as the link is
		l.space.Broadcast()
		l.mu.Unlock()
		close(l.done)
		l.conn.Close()
	})
}

// writer takes over when cells queued up behind an inline write: it writes
// batches until the queue is empty, then hands writing back to Send.
func (l *Link) writer() {
	defer close(l.writerDone)
	for {
		select {
		case <-l.kick:
		case <-l.done:
			return
		}
		for more := true; more; {
			l.mu.Lock()
			batch := l.takeLocked()
			l.mu.Unlock()
			more = l.finish(batch, l.write(batch))
		}
	}
}
