package testhosts

import (
	"context"
	"net"
	"os"
	"path/filepath"
)

// Do runs f on an OS thread that has entered host h's network namespace:
// sockets f opens belong to h and stay there when used from any goroutine
// afterwards. f must not start goroutines that open sockets (they would
// run on other threads, in the root namespace).
func (h *Host) Do(f func() error) error {
	target, err := os.Open(filepath.Join(netnsDir, h.NS))
	if err != nil {
		return err
	}
	defer target.Close()
	errc := make(chan error, 1)
	// A goroutine of its own: if the thread cannot return to its namespace,
	// the goroutine ends still locked to it and the runtime ends the thread.
	go func() { errc <- doIn(int(target.Fd()), f) }()
	return <-errc
}

// Listen opens a listener in host h.
func (h *Host) Listen(network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := h.Do(func() (err error) {
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}

// Dial connects from host h. The connect runs on the namespace's thread
// (net.Dialer with no Resolver lookups for literal addresses).
func (h *Host) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := h.Do(func() (err error) {
		var d net.Dialer
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}
