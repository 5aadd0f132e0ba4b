package linktls

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"onion/onion"
)

// ErrWrongPeer is what errors.Is finds in the handshake error when the
// far end does not hold the identity key the dialer expected (an impostor
// at a relay's address, or a relay that changed keys).
var ErrWrongPeer = errors.New("linktls: peer is not the relay expected")

// WrongPeerError names the relay the dialer expected, by fingerprint.
type WrongPeerError struct {
	Want   string // the expected relay's fingerprint
	Detail string // what was wrong, if more than the key
}

func (e *WrongPeerError) Error() string {
	if e.Detail != "" {
		return "peer is not relay " + e.Want + " (" + e.Detail + ")"
	}
	return "peer is not relay " + e.Want
}

// Is makes errors.Is(err, ErrWrongPeer) true.
func (e *WrongPeerError) Is(target error) bool { return target == ErrWrongPeer }

// ServerConfig is the TLS configuration a relay with identity key id
// accepts links with: TLS 1.3 only, a self-signed certificate of id (made
// at the first handshake and renewed daily), no client certificate asked
// for. now is the clock for the certificate's dates; nil means time.Now.
func ServerConfig(id ed25519.PrivateKey, now func() time.Time) (*tls.Config, error) {
	if len(id) != ed25519.PrivateKeySize {
		return nil, errors.New("linktls: the identity key is required")
	}
	if now == nil {
		now = time.Now
	}
	s := &certSource{key: id, now: now}
	if _, err := s.get(nil); err != nil { // fail here, not at every handshake
		return nil, err
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS13,
		MaxVersion:     tls.VersionTLS13,
		GetCertificate: s.get,
		ClientAuth:     tls.NoClientCert,
		// Links carry bulk cells: full records from the first byte.
		DynamicRecordSizingDisabled: true,
		// Dialers keep no sessions (a resumed link would be one that a
		// relay could tie to the earlier one): no tickets to send.
		SessionTicketsDisabled: true,
	}, nil
}

// ClientConfig is the TLS configuration that dials the relay with identity
// key want: TLS 1.3 only, no certificate of its own, no server name sent,
// and the server's certificate accepted only if its key is want. Its
// dates and issuer are not checked: the relay list, not a CA, says which
// keys are relays.
func ClientConfig(want ed25519.PublicKey) *tls.Config {
	want = append(ed25519.PublicKey(nil), want...)
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		MaxVersion: tls.VersionTLS13,
		// The chain is not checked against roots: VerifyConnection pins
		// the key instead, and runs before the handshake completes.
		InsecureSkipVerify:          true,
		DynamicRecordSizingDisabled: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return checkPeer(cs.PeerCertificates, want)
		},
	}
}

// checkPeer accepts exactly one certificate whose key is want. TLS 1.3
// has already checked that the peer signed the handshake with that key.
func checkPeer(certs []*x509.Certificate, want ed25519.PublicKey) error {
	if len(certs) != 1 {
		return &WrongPeerError{Want: onion.Fingerprint(want), Detail: fmt.Sprintf("%d certificates, want 1", len(certs))}
	}
	got, ok := certs[0].PublicKey.(ed25519.PublicKey)
	// Constant time, as every key compare here: what a dialer expects is
	// not secret, but there is no reason to let timing say how much matched.
	if !ok || len(want) != ed25519.PublicKeySize || subtle.ConstantTimeCompare(got, want) != 1 {
		return &WrongPeerError{Want: onion.Fingerprint(want)}
	}
	return nil
}

// Client runs the TLS handshake on conn as a dialer that expects the relay
// with identity key want, bounded by ctx. It returns the protected conn,
// or closes conn and returns an error that wraps ErrWrongPeer when the
// peer holds another key. Nothing but the handshake has been written then.
// The error names no address: the caller says which link it was.
func Client(ctx context.Context, conn net.Conn, want ed25519.PublicKey) (*Conn, error) {
	under := newBatchConn(conn)
	tc := tls.Client(under, ClientConfig(want))
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return &Conn{Conn: tc, under: under}, nil
}

// Server runs the TLS handshake on an accepted conn with cfg (from
// ServerConfig), bounded by ctx. On error it closes conn.
func Server(ctx context.Context, conn net.Conn, cfg *tls.Config) (*Conn, error) {
	under := newBatchConn(conn)
	tc := tls.Server(under, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &Conn{Conn: tc, under: under}, nil
}
