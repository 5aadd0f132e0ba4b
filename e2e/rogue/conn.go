package main

// The rogue's hold on its relay's links: a wrapper for each connection the
// relay accepts or dials.

import (
	"context"
	"net"
	"sync"
)

// listener wraps every connection the relay accepts (its links' backward side).
type listener struct {
	net.Listener
	r *rogue
}

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.r.wrap(c, backward), nil
}

// dial opens a link to another relay (the link's forward side).
func (r *rogue) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return r.wrap(c, forward), nil
}

func (r *rogue) wrap(c net.Conn, d direction) net.Conn {
	return &conn{Conn: c, framer: newFramer(), filter: &filter{r: r, dir: d}}
}

// conn passes what its relay writes through the filter, a whole cell at a
// time; reads pass untouched.
type conn struct {
	net.Conn
	mu     sync.Mutex // a link writes from one goroutine at a time; this makes sure
	framer *framer
	filter *filter
}

// Write reports all of p written once the cells it completes are on the
// wire; the bytes of a cell not yet complete wait for the next Write.
func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	preface, cells := c.framer.feed(p)
	out := append([]byte(nil), preface...)
	for _, cell := range cells {
		for _, b := range c.filter.apply(cell) {
			out = append(out, b...)
		}
	}
	if len(out) > 0 {
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
