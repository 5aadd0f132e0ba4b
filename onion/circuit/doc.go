// Package circuit is the engine of the onion network: a Link carries cells
// over any net.Conn, a ClientLink builds and drives client circuits over one
// link, and a Stream is a net.Conn with end-to-end flow control that either
// end of a circuit can hold.
//
// It never dials and never chooses paths: it is handed net.Conns, and
// timeouts, retries and path choice live in the proxy and relay packages.
// docs/PROTOCOL.md §2 (links), §4 (layers), §5 (relay messages) and §6 (flow
// control) are what it implements.
package circuit
