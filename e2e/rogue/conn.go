package main

// The rogue's hold on its relay's links: a wrapper for the plaintext side
// of each link the relay accepts or dials.

import (
	"net"
	"sync"
)

// wrapLink is the relay's Config.WrapLink: it wraps the plaintext side of
// every link, above TLS, so that what the rogue does is done to cells and
// not to TLS records (which the peer would simply reject). Links it
// accepted are their circuits' backward side, links it dialled forward.
func (r *rogue) wrapLink(c net.Conn, accepted bool) net.Conn {
	if accepted {
		return r.wrap(c, backward)
	}
	return r.wrap(c, forward)
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
