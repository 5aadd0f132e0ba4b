// Package archtest holds one test: that imports point down only
// (cmd/onion -> roles -> onion/circuit -> onion), as ../shared STYLE asks.
package archtest
