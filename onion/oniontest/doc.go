// Package oniontest holds test doubles for the onion engine and relay: a
// scripted peer that plays one end of a link cell by cell (it writes raw
// bytes or cells and reads what the other side sends), the client and relay
// halves of a circuit's layers for such a peer, an in-memory network of
// pipes (MemNet), fixed-seed keys and randomness, a recording slog handler,
// and a goroutine-leak check.
//
// It depends only on package onion, so that tests of onion/circuit and relay
// can both use it. It is for tests only.
package oniontest
