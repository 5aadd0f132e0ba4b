package proxy

import (
	"context"
	"net"

	"onion/onion"
)

// DialRequest is one CONNECT, as the application asked for it.
type DialRequest struct {
	Host     string // hostname, IPv4 or IPv6 literal (no brackets): never resolved here
	Port     uint16
	Username string // SOCKS5 username/password (RFC 1929), "" if none
	Password string
	// Isolation keeps the stream off circuits that other tags (and SOCKS
	// streams, which have none) use. The proxy's own traffic sets it.
	Isolation string
	// Early is what the application sent behind its request before the
	// reply (optimistic data): it goes out right behind BEGIN, and the exit
	// passes it on once connected. Never for onion addresses.
	Early []byte
}

// StreamDialer opens a stream through the network. The proxy's circuit
// manager implements it.
//
// DialStream is called concurrently, once per CONNECT. It must return when
// ctx is done (the connect timeout, or SOCKSServer.Close). The conn it
// returns should implement CloseWrite() error so that half-closes reach the
// destination. When the exit or the network refused the stream it returns an
// *OpenError, which decides the SOCKS reply code; any other error is answered
// "general failure", except a context deadline ("TTL expired").
type StreamDialer interface {
	DialStream(ctx context.Context, req DialRequest) (net.Conn, error)
}

// OpenError is what DialStream returns when the exit or the network refused
// the stream.
type OpenError struct {
	Reason onion.EndReason
	Err    error // detail, may be nil
}

func (e *OpenError) Error() string {
	if e.Err == nil {
		return "open stream: " + e.Reason.String()
	}
	return "open stream: " + e.Err.Error()
}

func (e *OpenError) Unwrap() error { return e.Err }
