// Package relay is one relay of the onion network: it accepts links, answers
// CREATE, peels one forward layer and adds one backward layer per circuit,
// extends circuits to the next relay, and, when it is an exit, opens streams
// to destinations under its exit policy (resolving hostnames itself, so the
// client never does).
//
// Run is the entry point: it listens (Config.Listen, or an injected
// Config.Listener), publishes the relay's signed descriptor until the
// directory takes it, calls Config.Ready, and serves until its context
// ends. `onion relay` and internal/testnet both start relays with it; New
// and Serve are its parts, for tests that drive a relay without a directory.
//
// What peers can make it hold (links, preface exchanges, circuits, a next
// link's circuits, exit connections and the bytes they wait on, meeting
// joins) is bounded in all and per peer address: Config.Limits, limits.go.
//
// Of the directory it uses two things: it publishes its own descriptor,
// and it extends circuits only to the relays of the verified relay list
// (Config.Relays), at their listed address, so that nobody can make it
// dial its own loopback or LAN (listed.go). It keeps no secret of anyone
// else: every circuit's keys come from a fresh handshake (docs/PROTOCOL.md §3).
package relay
