package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"

	"onion/client"
)

// failingConn delivers some bytes, then ends its reads with an error and
// reports Failed, as a stream whose circuit was torn down does.
type failingConn struct {
	net.Conn
	failed atomic.Bool
}

func (c *failingConn) Failed() bool { return c.failed.Load() }

func (c *failingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err == io.EOF {
		c.failed.Store(true)
		return n, errors.New("circuit torn down")
	}
	return n, err
}

// TestSOCKSFailedStreamResetsClient: a stream that dies mid-transfer must
// not look like a complete one to the application: it gets a TCP reset,
// not a clean EOF after the bytes that made it.
func TestSOCKSFailedStreamResetsClient(t *testing.T) {
	d := &socksFakeDialer{open: func(ctx context.Context, req client.DialRequest) (net.Conn, error) {
		a, b := net.Pipe()
		go func() {
			b.Write([]byte("partial"))
			b.Close() // the far side vanishes: failingConn turns this into an error
		}()
		return &failingConn{Conn: a}, nil
	}}
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	c, err := dialSOCKS(t, ts.addr, nil, "example.test:80")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if string(got) != "partial" || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("ReadAll = %q, %v; want the partial bytes, then connection reset", got, err)
	}
}
