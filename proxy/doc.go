// Package proxy is what a user of the onion network runs: Run starts the
// proxy whole, from a Config, on a circuit manager of package client
// (path choice, builds, reuse, isolation, streams, hidden services): a
// SOCKS5 front end for applications (on github.com/armon/go-socks5,
// socks*.go), a loopback status endpoint (GET /circuits), and, for logins
// to hidden services, the password sources and terminal prompts
// (password.go, terminal.go) that answer for the circuit manager; the URL
// opener (browser.go) and the interactive chat of `onion client`
// (interactive.go) sit here too. `onion proxy` and internal/testnet both
// start it with Run.
//
// It is not the circuit manager (package client is), and it never resolves
// a destination hostname: names travel to the exit in BEGIN
// (docs/PROTOCOL.md §5.2).
package proxy
