// Package localnet runs a whole onion network on this machine: the work of
// `onion up`. It starts a directory, relays (side by side), a hidden server
// with a demo user, and the SOCKS5 proxy, each a child process of the same
// executable running its own subcommand, on 127.0.0.1; writes the info file
// (internal/upinfo); prints the `up ready` line and a banner for people;
// and supervises the children until its context ends. A directory that dies
// is brought back where it was, a relay or the hidden server that dies is
// logged, and a proxy that dies stops the network with an error.
//
// It is not an in-process network (that is internal/testnet), and not a
// general process manager (starting and stopping one child is
// internal/launch): it knows the four roles only by their command-line
// flags and ready lines.
package localnet
