package hiddenserver

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"onion/onion"
	"onion/onion/circuit"
)

func TestPublishHint(t *testing.T) {
	refused := fmt.Errorf("publish service descriptor: %w", errors.Join(
		fmt.Errorf("http://127.0.0.1:7000: %w", &circuit.StreamError{Reason: onion.EndExitPolicy, Remote: true})))
	if h := publishHint(refused); !strings.Contains(h, "--exit-policy accept-all") {
		t.Errorf("exit policy refusal: hint %q", h)
	}
	if h := publishHint(&circuit.StreamError{Reason: onion.EndTimeout}); h != "" {
		t.Errorf("timeout: hint %q, want none", h)
	}
}
