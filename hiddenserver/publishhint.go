package hiddenserver

import (
	"errors"

	"onion/onion"
	"onion/onion/circuit"
)

// publishHint says what to do about a failed publication, where the error
// shows a cause the operator can fix; "" otherwise. The descriptor goes to
// the directory through an exit, so an exit policy that refuses the
// directory's address (reject-private, and a directory on a private or
// loopback address) fails every publication the same way.
func publishHint(err error) string {
	var se *circuit.StreamError
	if errors.As(err, &se) && se.Reason == onion.EndExitPolicy {
		return "the exits refuse the directory's address (private or loopback?): " +
			"the descriptor is published through an exit; run an exit with --exit-policy accept-all " +
			"(a lab on one machine or a private network) or give the directory a public address"
	}
	return ""
}
