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
//
// A login must never reach another service than the one it is for: the
// answer to a Challenge is for c.Host only, and a login remembered for one
// (host, identity) must not answer for another.
type Credentials interface {
	// Verifier returns the login to answer c with, or an error when there
	// is none for c.Host (the stream then fails).
	Verifier(ctx context.Context, c Challenge) (Login, error)
	// Forget drops the login named key: the service refused it, or could
	// not prove it knows it.
	Forget(key string)
	// Remember keeps a login the service accepted and proved.
	Remember(l Login)
}

// Challenge is one login challenge, as Credentials sees it.
type Challenge struct {
	Host       string // ADDRESS.onion, lower case: the service that asks
	ServiceKey []byte // its key, which the verifier's salt binds
	LogN       uint8  // the scrypt cost it asks for, within bounds and pins
	Attempt    int    // from 1; a later one means the last answer was refused
	Request    DialRequest
	// Identity is the stream's isolation identity (its SOCKS credentials
	// and isolation tag): a login made by one identity belongs to it.
	Identity string
}

// Login is a user name and a verifier for one service.
type Login struct {
	User     string
	Verifier []byte
	LogN     uint8  // the cost Verifier was derived at
	Key      string // names the login for Forget and Remember
}
