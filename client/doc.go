// Package client is the client side of the onion network as a library: the
// circuit manager that the SOCKS proxy, the interactive client and the
// hidden server share. It picks paths from the directory's signed relay
// list, builds three-hop circuits, reuses and retires them, isolates
// streams by their isolation key, opens streams (answering early for
// destinations a circuit reached before, and opening them again on a fresh
// circuit when one fails before CONNECTED), dials hidden services with
// their login, and tunnels the proxy's own directory requests through the
// network.
//
// It is not a front end: it speaks no SOCKS, asks no person anything (a
// Credentials answers login challenges), and makes no process-wide
// decision (it reports an idle moment; the command decides what to do
// with it). It never resolves a destination hostname: names travel to the
// exit in BEGIN (docs/PROTOCOL.md §5.2).
package client
