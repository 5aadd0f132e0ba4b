package linktls

// One write per batch: crypto/tls writes each record (16 KiB at most) to
// the connection on its own, so a link's batch of cells (onion/circuit
// copies a batch into one Write) would cost a system call, and a wake-up
// of the reader, per record. batchConn holds the records of one Write and
// writes them together.

import (
	"bufio"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
)

// batchConn sits under the TLS conn. While batching, what TLS writes is
// kept; flush writes it at once. Outside a batch (the handshake, an alert
// from Close or Read) it writes through.
type batchConn struct {
	net.Conn
	r        *bufio.Reader // reads of TLS: see Read
	mu       sync.Mutex
	batching bool
	buf      *[]byte // from batchBufs while batching
}

// batchBufs holds the batch buffers, shared by all links: an idle link
// holds none.
var batchBufs = sync.Pool{New: func() any { return new([]byte) }}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.batching {
		*b.buf = append(*b.buf, p...)
		return len(p), nil
	}
	return b.Conn.Write(p)
}

// readBufferSize is the buffer between TLS and the socket. crypto/tls
// reads a record at a time into a buffer about one record long, so a
// 16 KiB cell (two records with its layers) cost about two read system
// calls; through this buffer one call brings up to four cells, as a plain
// link's buffer does.
const readBufferSize = 64 << 10

// Read reads for TLS through the buffer.
func (b *batchConn) Read(p []byte) (int, error) { return b.r.Read(p) }

func newBatchConn(conn net.Conn) *batchConn {
	return &batchConn{Conn: conn, r: bufio.NewReaderSize(conn, readBufferSize)}
}

// begin starts a batch of about n bytes: the buffer is grown once, not
// record by record (a pooled buffer is new again after the garbage
// collector empties the pool).
func (b *batchConn) begin(n int) {
	b.mu.Lock()
	b.batching = true
	b.buf = batchBufs.Get().(*[]byte)
	if cap(*b.buf) < n {
		*b.buf = make([]byte, 0, n)
	}
	b.mu.Unlock()
}

// recordOverhead is what TLS 1.3 adds to each record of application data
// with AES-GCM or ChaCha20-Poly1305: a 5-byte header, the inner content
// type and a 16-byte tag.
const (
	recordOverhead = 5 + 1 + 16
	maxRecordData  = 1 << 14
)

// sealedLen is about how many bytes n bytes of application data take as
// full TLS records.
func sealedLen(n int) int { return n + (n/maxRecordData+1)*recordOverhead }

// NetConn is the connection under TLS, so that code tuning a link's
// socket (onion/circuit's TCP_NOTSENT_LOWAT) finds it through *tls.Conn's
// own NetConn: without it a TLS link's socket kept its default, megabytes
// of unsent data, where a plain link's holds 128 KiB.
func (b *batchConn) NetConn() net.Conn { return b.Conn }

// flush writes what the batch holds and ends it.
func (b *batchConn) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batching = false
	buf := b.buf
	b.buf = nil
	var err error
	if len(*buf) > 0 {
		_, err = b.Conn.Write(*buf)
	}
	*buf = (*buf)[:0]
	batchBufs.Put(buf)
	return err
}

// Conn is a link's TLS connection: each Write goes out in one write to
// the connection under it, however many records it takes.
type Conn struct {
	*tls.Conn
	under   *batchConn
	wmu     sync.Mutex  // one batch at a time
	writing atomic.Bool // a Write is under way (held by wmu's holder)
}

func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.writing.Store(true)
	defer c.writing.Store(false)
	c.under.begin(sealedLen(len(p)))
	n, err := c.Conn.Write(p)
	if ferr := c.under.flush(); err == nil && ferr != nil {
		return 0, ferr // the peer got none of it
	}
	return n, err
}

// Close closes the link. During a Write (a peer that reads nothing holds
// it for up to the link's write timeout) it closes the connection under
// TLS first, as crypto/tls does for a Close during its own Write: the
// close_notify alert would wait behind the write, and Close must break
// it, not wait for it.
func (c *Conn) Close() error {
	if c.writing.Load() {
		c.under.Conn.Close()
	}
	return c.Conn.Close()
}
