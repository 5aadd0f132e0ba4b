package bench

// The destination every path downloads from: an HTTP server on 127.0.0.1:0
// and a raw TCP echo, both in this process.

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	tinyBody = "ok\n"
	// maxBlob bounds GET /blob/N, so a typo cannot ask for an endless body.
	maxBlob = 1 << 40
)

// blobSeed fixes the blob's bytes: every run and every path moves the same
// incompressible data.
var blobSeed = [32]byte{'o', 'n', 'i', 'o', 'n', '-', 'b', 'e', 'n', 'c', 'h'}

// newBlob returns n deterministic pseudo-random bytes, generated as read.
func newBlob(n int64) io.Reader { return io.LimitReader(rand.NewChaCha8(blobSeed), n) }

// dest is the local destination: GET /blob/N answers N bytes of newBlob,
// GET /tiny answers tinyBody, and the echo listener sends back what it gets.
type dest struct {
	httpLn, echoLn net.Listener
	srv            *http.Server
	wg             sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{} // open echo conns, closed by Close
}

func startDest() (*dest, error) {
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	echoLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		httpLn.Close()
		return nil, err
	}
	d := &dest{httpLn: httpLn, echoLn: echoLn, conns: make(map[net.Conn]struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tiny", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, tinyBody) })
	mux.HandleFunc("GET /blob/{n}", serveBlob)
	d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	d.wg.Go(func() { d.srv.Serve(httpLn) })
	d.wg.Go(d.serveEcho)
	return d, nil
}

func serveBlob(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 0 || n > maxBlob {
		http.Error(w, "want /blob/N with 0 <= N <= 2^40", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	io.Copy(w, newBlob(n)) // a failed write is the client going away
}

// httpAddr is the HTTP server's host:port.
func (d *dest) httpAddr() string { return d.httpLn.Addr().String() }

func (d *dest) echoAddr() string { return d.echoLn.Addr().String() }

func (d *dest) tinyURL() string { return "http://" + d.httpAddr() + "/tiny" }

func (d *dest) blobURL(n int64) string {
	return "http://" + d.httpAddr() + "/blob/" + strconv.FormatInt(n, 10)
}

func (d *dest) serveEcho() {
	for {
		c, err := d.echoLn.Accept()
		if err != nil {
			return
		}
		if !d.track(c, true) {
			c.Close()
			return
		}
		d.wg.Go(func() {
			defer d.track(c, false)
			defer c.Close()
			io.Copy(c, c)
		})
	}
}

// track adds or removes an echo conn; adding fails once Close has begun.
func (d *dest) track(c net.Conn, add bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !add {
		delete(d.conns, c)
		return true
	}
	if d.conns == nil {
		return false
	}
	d.conns[c] = struct{}{}
	return true
}

// Close stops both servers, ends their conns and waits for their goroutines.
func (d *dest) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := d.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = d.srv.Close() // a client that never finished reading
	}
	d.echoLn.Close()
	d.mu.Lock()
	for c := range d.conns {
		c.Close()
	}
	d.conns = nil
	d.mu.Unlock()
	d.wg.Wait()
	return err
}

// isTiny reports whether body is what GET /tiny answers.
func isTiny(body string) bool { return strings.TrimSpace(body) == strings.TrimSpace(tinyBody) }
