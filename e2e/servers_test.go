package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// blobServer serves GET /blob: size bytes from a fixed-seed PRNG, so every
// run moves the same bytes and a test compares only their sha256.
type blobServer struct {
	port int
	size int64
	sum  [sha256.Size]byte
	data []byte // set where a test compares ranges
}

func startBlobServer(t *testing.T, size int) *blobServer {
	t.Helper()
	data := pseudoRandom(size, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/blob" {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "blob", time.Time{}, bytes.NewReader(data))
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return &blobServer{port: p, size: int64(size), sum: sha256.Sum256(data)}
}

// url is the blob's address with host as the host name.
func (b *blobServer) url(host string) string {
	return fmt.Sprintf("http://%s/blob", net.JoinHostPort(host, strconv.Itoa(b.port)))
}

// check reads body to its end and compares it with the blob.
func (b *blobServer) check(t *testing.T, what string, body io.Reader) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, body)
	if err != nil {
		t.Fatalf("%s: read after %d bytes: %v", what, n, err)
	}
	if n != b.size || !bytes.Equal(h.Sum(nil), b.sum[:]) {
		t.Fatalf("%s: got %d bytes sha256 %x, want %d bytes sha256 %x", what, n, h.Sum(nil), b.size, b.sum)
	}
	t.Logf("%s: %d bytes, sha256 equal", what, n)
}

// errWrongBytes marks a download that completed with other bytes than the
// server sent: the one outcome a failing or malicious relay must never cause.
var errWrongBytes = errors.New("wrong bytes")

// getChecked fetches the blob by host and checks it: nil if it arrived byte for
// byte, errWrongBytes if it arrived whole but different, else why it failed.
func (b *blobServer) getChecked(ctx context.Context, client *http.Client, host string) error {
	resp, err := get(ctx, client, b.url(host))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return fmt.Errorf("read after %d bytes: %w", n, err)
	}
	if sum := h.Sum(nil); n != b.size || !bytes.Equal(sum, b.sum[:]) {
		return fmt.Errorf("%w: %d bytes sha256 %x, want %d bytes sha256 %x", errWrongBytes, n, sum, b.size, b.sum)
	}
	return nil
}

// startTCPServer serves each connection with handle on 127.0.0.1:0 and
// returns its port.
func startTCPServer(t *testing.T, handle func(net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Minute))
				handle(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// countUntilEOF reads until the client shuts down its side, then answers
// with the number of bytes it read and closes.
func countUntilEOF(c net.Conn) {
	n, err := io.Copy(io.Discard, c)
	if err != nil {
		fmt.Fprintf(c, "error after %d bytes: %v\n", n, err)
		return
	}
	fmt.Fprintf(c, "%d\n", n)
}

func echo(c net.Conn) { io.Copy(c, c) }

// closedPort returns a local port that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// pseudoRandom returns n bytes from a PRNG with a fixed seed: the same bytes
// on every run, none of them compressible.
func pseudoRandom(n int, seed byte) []byte {
	data := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(data)
	return data
}
