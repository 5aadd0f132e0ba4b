//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package prompt

import "errors"

type fder interface{ Fd() uintptr }

// Supported reports whether this platform can ask on a terminal: not this
// one, where echo cannot be turned off; its processes never prompt.
const Supported = false

func echoOff(fder) (func(), error) { return nil, errors.New("no terminal echo control here") }

func flushInput(fder) {}
