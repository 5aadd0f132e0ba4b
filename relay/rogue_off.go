//go:build !onion_rogue

package relay

// rogueEnabled is false in every normal build: the misbehaving relay of
// rogue_on.go exists only in binaries built with -tags onion_rogue, for
// end-to-end tests that need a malicious relay in the path.
const rogueEnabled = false

func rogueForward(p []byte) [][]byte  { return [][]byte{p} }
func rogueBackward(p []byte) [][]byte { return [][]byte{p} }
func rogueCreated(b []byte) []byte    { return b }
