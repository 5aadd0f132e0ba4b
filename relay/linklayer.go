package relay

// TLS under every link (PROTOCOL.md §2.1): links this relay accepts
// present its identity key; links it opens pin the identity key of the
// relay it meant to reach, refusing any other before a cell is sent.

import (
	"context"
	"crypto/ed25519"
	"net"
	"time"

	"onion/linktls"
)

// outKey names a link this relay opened: a different identity at the
// same address is a different relay, and never shares a link.
type outKey struct {
	addr string
	id   string // identity key
}

// acceptLink runs the TLS handshake on an accepted conn, by deadline,
// and returns the conn the link's cells go over.
func (r *Relay) acceptLink(conn net.Conn, deadline time.Time) (net.Conn, error) {
	if r.tls != nil {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		var err error
		if conn, err = linktls.Server(ctx, conn, r.tls); err != nil {
			return nil, err
		}
	}
	if r.cfg.WrapLink != nil {
		conn = r.cfg.WrapLink(conn, true)
	}
	return conn, nil
}

// dialLink opens a link's conn to the relay with identity key id at addr:
// TLS that pins id, unless links are plain.
func (r *Relay) dialLink(ctx context.Context, addr string, id ed25519.PublicKey) (net.Conn, error) {
	conn, err := r.cfg.DialLink(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if r.tls != nil {
		if conn, err = linktls.Client(ctx, conn, id); err != nil {
			return nil, err
		}
	}
	if r.cfg.WrapLink != nil {
		conn = r.cfg.WrapLink(conn, false)
	}
	return conn, nil
}
