package bench

// The client side of every measurement: dialers and HTTP clients through a
// path (direct, plain SOCKS5, onion), and the timed operations.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"time"

	"golang.org/x/net/proxy"
)

// route is one way to reach the destination: directly, or through a SOCKS5
// proxy at socks.
type route struct {
	socks string // "" for direct
}

// dialer dials through the route. The SOCKS username and password select
// the onion proxy's circuit (stream isolation): a never-used pair means a
// fresh circuit. They are ignored on a direct route; "" sends none.
func (r route) dialer(user, pass string) proxy.ContextDialer {
	direct := &net.Dialer{}
	if r.socks == "" {
		return direct
	}
	var auth *proxy.Auth
	if user != "" || pass != "" {
		auth = &proxy.Auth{User: user, Password: pass}
	}
	d, err := proxy.SOCKS5("tcp", r.socks, auth, direct)
	if err != nil {
		// SOCKS5 fails only for a network other than tcp/tcp4/tcp6.
		panic("bench: " + err.Error())
	}
	return d.(proxy.ContextDialer)
}

// client is an HTTP client through the route. Every request opens a new
// connection, through a proxy a new stream, as a curl command does: that
// is the cost a user meets, and it keeps repetitions independent.
func (r route) client(user, pass string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:              nil, // never an HTTP proxy from the environment
		DialContext:        r.dialer(user, pass).DialContext,
		DisableKeepAlives:  true,
		DisableCompression: true,
	}}
}

// connectTime is how long a connection through d to addr takes to open;
// through a SOCKS5 proxy, until its CONNECT reply.
func connectTime(ctx context.Context, d proxy.ContextDialer, addr string) (float64, error) {
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	c.Close()
	return elapsed.Seconds(), nil
}

// ttfb is the time from the start of a GET, connection included, to the
// first byte of its response. The body is read to its end.
func ttfb(ctx context.Context, c *http.Client, url string) (float64, error) {
	var first time.Time
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	if err := drainOK(resp, url); err != nil {
		return 0, err
	}
	return first.Sub(start).Seconds(), nil
}

// drainOK reads resp's body to its end, closes it, and fails unless the
// status was 200; what names the request in the error.
func drainOK(resp *http.Response, what string) error {
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", what, resp.Status)
	}
	return nil
}

var errShort = errors.New("bench: short transfer")

// download GETs url, reads want bytes counting them into count, and returns
// the time from the request to the last byte.
func download(ctx context.Context, c *http.Client, url string, want int64, count func(int)) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	n, err := io.Copy(io.Discard, &countingReader{r: resp.Body, count: count})
	if err != nil {
		return 0, fmt.Errorf("after %d of %d bytes: %w", n, want, err)
	}
	if n != want {
		return 0, fmt.Errorf("%w: %d of %d bytes", errShort, n, want)
	}
	return time.Since(start).Seconds(), nil
}

// echoTime sends n bytes through d to an echo at addr while reading them
// back, and returns the time from dialling to the last byte back.
func echoTime(ctx context.Context, d proxy.ContextDialer, addr string, n int64, count func(int)) (float64, error) {
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() }) // ends both pumps
	defer stop()
	sent := make(chan error, 1)
	go func() {
		_, err := io.Copy(c, newBlob(n))
		sent <- err
	}()
	got, err := io.CopyN(io.Discard, &countingReader{r: c, count: count}, n)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return 0, fmt.Errorf("echo: %d of %d bytes back: %w", got, n, err)
	}
	if err := <-sent; err != nil {
		return 0, fmt.Errorf("echo: send: %w", err)
	}
	return time.Since(start).Seconds(), nil
}

// countingReader reports the size of every read to count.
type countingReader struct {
	r     io.Reader
	count func(int)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 && c.count != nil {
		c.count(n)
	}
	return n, err
}
