// Package proxy is the client side of the onion network: a circuit manager
// that picks paths from the directory's signed relay list, builds three-hop
// circuits, reuses and retires them, isolates streams by SOCKS credentials,
// and opens streams; a SOCKS5 front end (on github.com/armon/go-socks5) for
// applications; and a loopback status endpoint.
//
// It never resolves a destination hostname: names travel to the exit in
// BEGIN (docs/PROTOCOL.md §5.2).
package proxy
