package circuit

import (
	"crypto/tls"
	"net"
	"testing"
)

// TestReadBufferFor: a link reads a socket through a large buffer, and a
// TLS conn (which reads whole records into buffers of its own) through a
// small one.
func TestReadBufferFor(t *testing.T) {
	p, q := net.Pipe()
	defer p.Close()
	defer q.Close()
	if got := readBufferFor(p); got != readBufferSize {
		t.Errorf("plain conn: read buffer %d, want %d", got, readBufferSize)
	}
	if got := readBufferFor(tls.Client(p, &tls.Config{})); got != recordReadBufferSize {
		t.Errorf("TLS conn: read buffer %d, want %d", got, recordReadBufferSize)
	}
}
