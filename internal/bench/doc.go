// Package bench is `onion bench`: an end-to-end benchmark of the network as
// a user meets it, through the SOCKS5 proxy, with the real binaries.
//
// It starts (or is pointed at) a network, a local destination HTTP server
// and, as baselines in the same run, a direct path and a plain SOCKS5 proxy
// that does no onion routing (go-socks5 alone). It measures circuit builds,
// time to first byte, one- and eight-stream downloads, the same through the
// hidden server, and the CPU and memory the network's processes spend, and
// prints them as a table or one JSON object.
// On a network it started it also checks that cost grows linearly: the
// relays' memory with 100 and 1,000 idle circuits, which it builds itself
// with the circuit engine, and the CPU of a download a tenth the size.
//
// It is not a load generator or a micro-benchmark: every figure is a whole
// request through real sockets, measured from the client side, with a
// small, fixed number of repetitions so that a run ends in minutes.
package bench
