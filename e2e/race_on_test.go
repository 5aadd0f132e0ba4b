//go:build race

package e2e

// raceEnabled is true when the tests are built with -race, so that the
// onion binary they run is built with -race too.
const raceEnabled = true
