// Package e2e holds tests that build the real `onion` binary and run its
// parts as separate processes on 127.0.0.1, the way a user would: `onion up`,
// and the directory, relays and proxy started one by one. They push real
// bytes through the SOCKS5 proxy (a Go client, and curl when it is
// installed), kill relays, and stop everything with SIGTERM.
//
// It has no code outside its tests. Its subpackage rogue is a relay that
// misbehaves on purpose, which only these tests build. The in-process
// network for fast tests is internal/testnet, not this.
package e2e
