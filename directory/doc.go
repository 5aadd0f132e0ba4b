// Package directory is the directory authority of the onion network and the
// client that talks to it, PROTOCOL.md §7 and §11.2.
//
// Relays publish their signed descriptors (onion.RelayDescriptor) to the
// directory; clients fetch the list of live relays as one document signed
// by the directory's ed25519 key (onion.SignedRelayList) and check it with
// Client. Hidden services publish theirs (onion.ServiceDescriptor), which
// clients fetch one onion address at a time. The directory learns only what
// a descriptor says: addresses and public keys. It is not a trust anchor
// for descriptors themselves: each is signed by its relay's or service's
// own key and every reader re-checks it.
//
// Run is the one way to start a directory: the CLI and the in-process test
// network both call it. The files, by concern:
//
//	run.go       Config, Run: listen, serve until the context ends, shut down
//	key.go       LoadKey: the signing key in a data directory
//	server.go    the HTTP handler and its routing; JSON answers
//	store.go     the store relays and services share: expiry after a TTL
//	             counted from the published time, a bound on how many are
//	             held, and the rule that only a newer descriptor replaces one
//	publish.go   POST /v1/relays, and reading and refusing any descriptor
//	list.go      GET /v1/relays (the signed list) and GET /v1/key
//	services.go  POST /v1/services and GET /v1/services/{address}
//	client.go    Client, for one directory
//	authorities.go  Authorities, for several: majority of signatures, no
//	             rollback, publish to all (PROTOCOL.md §7.4)
//	vote.go, consensus.go, round.go  an authority among several: its
//	             vote, the consensus rule, the round that gathers both
//
// The HTTP API (JSON bodies; every error is {"error":"..."} with a 4xx or
// 5xx status):
//
//	POST /v1/relays   body: one RelayDescriptor (at most 64 KiB)
//	                  200 {"fingerprint":"...","expires":<unix seconds>}
//	                  400 malformed, bad signature, published too far in the
//	                      future or older than the relay lifetime
//	                  409 published older than the descriptor already stored
//	                  413 body too large
//	                  503 the directory holds MaxRelays relays already
//	GET  /v1/relays   200 SignedList of the live relays, by fingerprint
//	                      (with several authorities: the consensus, 503
//	                      until one has a majority of signatures)
//	GET  /v1/vote, GET /v1/consensus/pending   between authorities, §7.4
//	GET  /v1/key      200 the directory's public key (onion.EncodeKey) and a
//	                      newline; informational only: clients must get the
//	                      key out of band, never from the directory itself
//
// and the service endpoints described in services.go. A relay lives
// RelayTTL after its descriptor's published time (or after its arrival, if
// that is earlier), so a relay must publish a fresh descriptor well within
// RelayTTL; re-sending the same descriptor does not extend its life, which
// is what makes a replayed descriptor harmless. Services live ServiceTTL by
// the same rule.
//
// This package does not choose paths, cache lists for clients or retry; that
// belongs to the proxy and the relay.
package directory
