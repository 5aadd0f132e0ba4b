// Package linktls protects links (PROTOCOL.md §2.1): TLS 1.3 between a
// client (or a relay dialing out) and a relay, with the relay's
// certificate key being its ed25519 identity key. A dialer pins the
// identity it expects, from the verified relay list or an EXTEND, and
// refuses anyone else during the handshake, before a cell is sent;
// dialers present no certificate.
//
// It is not a certificate authority and knows nothing of cells: it hands
// back a net.Conn whose plaintext side carries the link (onion/circuit).
// It opens no sockets of its own.
package linktls
