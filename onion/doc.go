// Package onion is the wire format and cryptography of the onion network:
// link framing and cells, the circuit-extension handshake, one fernet layer
// with its sequence number, relay messages, relay descriptors and the signed
// relay list.
//
// It is pure: no goroutines, no sockets beyond framing an io.Reader or
// io.Writer handed to it. The engine that moves cells between connections is
// onion/circuit; the roles (relay, proxy, directory) sit above that.
//
// docs/PROTOCOL.md is the specification this package implements; each file
// names the section it follows.
package onion
