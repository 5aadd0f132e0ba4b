// Package hiddenserver is the destination service of the onion network,
// reachable only through it by its onion address: it keeps circuits to
// meeting relays, publishes a descriptor signed by its key, and answers the
// streams that clients open to it — raw echo on virtual port 7 and HTTP on
// virtual port 80 (an index page, /echo, and /open/NAME URL replies), or
// the operator's own apps on forwarded ports (forward.go, splice.go) —
// optionally behind challenge-response authentication or client keys
// (clientauth.go). RunAll runs several services, one per directory
// (services.go), in one process.
//
// Run is the entry point: from a Config it makes its own circuit manager
// (package client), waits for a usable relay list, publishes through the
// network and calls Config.Ready once reachable; `onion hiddenserver` and
// internal/testnet both start it with Run. New and Server.Run are its
// parts, for tests that hand in a circuit builder.
//
// It opens no listening socket: every byte it serves arrives over a circuit
// it built itself. It dials only the forward targets its operator named
// (loopback, allowed prefixes, Unix sockets; no name is looked up) and
// holds no relay's keys. docs/PROTOCOL.md §11-12 specify what it speaks.
package hiddenserver
