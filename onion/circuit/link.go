package circuit

// Links, PROTOCOL.md §2: a preface each way, then cells.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"onion/onion"
)

// Link defaults.
const (
	DefaultQueueLen     = 256              // cells waiting for the writer
	DefaultWriteTimeout = 30 * time.Second // a peer that reads nothing for this long loses the link
	prefaceTimeout      = 10 * time.Second
	readBufferSize      = 64 << 10
	writeBufferSize     = 64 << 10
)

// ErrLinkClosed is returned by Send after the link closed.
var ErrLinkClosed = errors.New("circuit: link closed")

// Link carries cells over one connection. ReadCell must be called from one
// goroutine only (the link's reader); Send may be called from any goroutine.
// A writer goroutine drains a bounded queue into the connection, batching
// cells into one write while more are queued.
type Link struct {
	conn         net.Conn
	r            *bufio.Reader
	queue        chan onion.Cell
	done         chan struct{}
	writerDone   chan struct{}
	writeTimeout time.Duration

	closeOnce sync.Once
	mu        sync.Mutex
	err       error // why the link closed; guarded by mu
}

// Handshake exchanges prefaces on a fresh connection and returns the Link.
// Both sides write the preface and read the peer's at the same time, so
// neither waits on the other even over a conn with no buffer (net.Pipe,
// where a write completes only when the peer reads). The exchange is bounded
// by a deadline. On error the caller closes conn.
func Handshake(conn net.Conn) (*Link, error) {
	conn.SetDeadline(time.Now().Add(prefaceTimeout))
	werr := make(chan error, 1)
	go func() {
		_, err := io.WriteString(conn, onion.LinkPreface)
		werr <- err
	}()
	r := bufio.NewReaderSize(conn, readBufferSize)
	if err := onion.ReadPreface(r); err != nil {
		conn.SetWriteDeadline(time.Unix(1, 0)) // a peer that does not read must not hold the writer
		<-werr
		return nil, err
	}
	if err := <-werr; err != nil {
		return nil, fmt.Errorf("write preface: %w", err)
	}
	conn.SetDeadline(time.Time{})
	return newLink(conn, r), nil
}

func newLink(conn net.Conn, r *bufio.Reader) *Link {
	l := &Link{
		conn:         conn,
		r:            r,
		queue:        make(chan onion.Cell, DefaultQueueLen),
		done:         make(chan struct{}),
		writerDone:   make(chan struct{}),
		writeTimeout: DefaultWriteTimeout,
	}
	go l.writer()
	return l
}

// RemoteAddr is the peer's address (for debug logs only: it may be a client IP).
func (l *Link) RemoteAddr() net.Addr { return l.conn.RemoteAddr() }

// ReadCell reads the next cell. The payload is freshly allocated and owned by
// the caller.
func (l *Link) ReadCell() (onion.Cell, error) {
	c, err := onion.ReadCell(l.r, nil)
	if err != nil {
		l.closeWith(fmt.Errorf("read: %w", err))
		return onion.Cell{}, err
	}
	return c, nil
}

// ErrCellTooBig is returned by Send for a payload that cannot be framed.
var ErrCellTooBig = errors.New("circuit: cell payload too big")

// Send queues c for writing. It blocks while the queue is full and fails
// once the link is closed. The caller must not touch c.Payload afterwards.
func (l *Link) Send(c onion.Cell) error {
	if len(c.Payload) > onion.MaxCellPayload {
		return fmt.Errorf("%w: %d bytes", ErrCellTooBig, len(c.Payload))
	}
	select {
	case <-l.done:
		return l.Err()
	default:
	}
	select {
	case l.queue <- c:
		return nil
	case <-l.done:
		return l.Err()
	}
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
		l.mu.Unlock()
		close(l.done)
		l.conn.Close()
	})
}

// writer drains the queue. It flushes only when the queue is empty, so a
// burst of cells goes out in few syscalls.
func (l *Link) writer() {
	defer close(l.writerDone)
	w := bufio.NewWriterSize(l.conn, writeBufferSize)
	var buf []byte
	for {
		var c onion.Cell
		select {
		case c = <-l.queue:
		case <-l.done:
			return
		}
		l.conn.SetWriteDeadline(time.Now().Add(l.writeTimeout))
		buf = onion.AppendCell(buf[:0], c)
		_, err := w.Write(buf)
		if err == nil && len(l.queue) == 0 {
			err = w.Flush()
		}
		if err != nil {
			l.closeWith(fmt.Errorf("write: %w", err))
			return
		}
	}
}
