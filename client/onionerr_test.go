package client

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"onion/onion"
	"onion/onion/circuit"
)

// TestOnionErrors: each hidden-service failure is classified as the
// extended SOCKS code's error, and keeps its generic END reason.
func TestOnionErrors(t *testing.T) {
	notFound := fmt.Errorf("fetch service descriptor: %w", onion.ErrNoDescriptor)
	for _, tc := range []struct {
		name   string
		got    *OpenError
		want   error
		reason onion.EndReason
	}{
		{"not found", lookupErr(notFound), ErrDescriptorNotFound, onion.EndResolve},
		{"directory down", lookupErr(errors.New("connection refused")), ErrDescriptorNotFound, onion.EndResolve},
		{"bad signature", lookupErr(fmt.Errorf("x: %w", onion.ErrSignature)), ErrDescriptorInvalid, onion.EndResolve},
		{"other service", lookupErr(errOtherService), ErrDescriptorInvalid, onion.EndResolve},
		{"stale", lookupErr(onion.ErrDescriptorExpired), ErrDescriptorInvalid, onion.EndResolve},
		{"no service", meetErr(&circuit.MeetError{Reason: onion.MeetNoService}), ErrIntroFailed, onion.EndUnreachable},
		{"refused", meetErr(fmt.Errorf("x: %w", &circuit.MeetError{Reason: onion.MeetRefused})), ErrRendezvousFailed, onion.EndUnreachable},
		{"handshake", meetErr(onion.ErrHandshake), ErrRendezvousFailed, onion.EndUnreachable},
		{"timeout", meetErr(context.DeadlineExceeded), ErrIntroTimeout, onion.EndTimeout},
	} {
		if !errors.Is(tc.got, tc.want) || tc.got.Reason != tc.reason {
			t.Errorf("%s: %v (reason %v), want %v (reason %v)", tc.name, tc.got, tc.got.Reason, tc.want, tc.reason)
		}
	}
}
