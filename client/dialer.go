package client

import (
	"context"

	"onion/onion"
)

// DialRequest is one stream, as the application asked for it.
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

// OpenError is what DialStream returns when the exit, the service or the
// network refused the stream. Reason decides the application's error code.
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

// Credentials answers hidden services' login challenges (PROTOCOL.md §12).
// The proxy's password sources implement it. Its methods are called
// concurrently, one stream each.
type Credentials interface {
	// Verifier returns the user name and password verifier to answer a
	// challenge for host with (pub is its key, logN the cost it asked),
	// and a key naming that verifier for Forget and Remember. attempt
	// counts from 1; a later attempt means the last answer was refused.
	Verifier(ctx context.Context, pub []byte, host string, req DialRequest, logN uint8, attempt int) (user, key string, v []byte, err error)
	// Forget drops the verifier named key: the service refused it, or
	// could not prove it knows it.
	Forget(key string)
	// Remember keeps a verifier the service accepted and proved.
	Remember(host, user, key string, v []byte)
}
