package proxy

import (
	"errors"
	"fmt"
	"testing"

	"onion/client"
	"onion/onion"
)

// TestExtendedReplyCodes: each client error gets Tor's code (proposal
// 304), through the wrapping DialStream adds, and the generic one with
// GenericErrors.
func TestExtendedReplyCodes(t *testing.T) {
	for _, tc := range []struct {
		err           error
		code, generic socksReply
	}{
		{client.ErrDescriptorNotFound, 0xF0, replyHostUnreachable},
		{client.ErrDescriptorInvalid, 0xF1, replyHostUnreachable},
		{client.ErrIntroFailed, 0xF2, replyNetworkUnreachable},
		{client.ErrRendezvousFailed, 0xF3, replyNetworkUnreachable},
		{client.ErrClientAuthMissing, 0xF4, replyNotAllowed},
		{client.ErrClientAuthWrong, 0xF5, replyNotAllowed},
		{client.ErrBadOnionAddress, 0xF6, replyHostUnreachable},
		{client.ErrIntroTimeout, 0xF7, replyTTLExpired},
	} {
		reason := map[socksReply]onion.EndReason{
			replyHostUnreachable: onion.EndResolve, replyNetworkUnreachable: onion.EndUnreachable,
			replyNotAllowed: onion.EndExitPolicy, replyTTLExpired: onion.EndTimeout,
		}[tc.generic]
		err := fmt.Errorf("dial: %w", &client.OpenError{Reason: reason, Err: fmt.Errorf("%w: detail", tc.err)})
		if got := replyCode(err, false); got != tc.code {
			t.Errorf("%v: code 0x%02x, want 0x%02x", tc.err, uint8(got), uint8(tc.code))
		}
		if got := replyCode(err, true); got != tc.generic {
			t.Errorf("%v generic: code %v, want %v", tc.err, got, tc.generic)
		}
		if name := tc.code.String(); name == "" || name[0] == 's' {
			t.Errorf("0x%02x has no name: %q", uint8(tc.code), name)
		}
	}
	if got := replyCode(errors.New("no relays"), false); got != replyGeneralFailure {
		t.Errorf("plain error: %v", got)
	}
}

// TestExtendedReplyOnWire: a SOCKS5 client sees the extended code, and the
// generic one from a port with GenericErrors.
func TestExtendedReplyOnWire(t *testing.T) {
	err := &client.OpenError{Reason: onion.EndResolve, Err: client.ErrDescriptorNotFound}
	for _, generic := range []bool{false, true} {
		ts := startSOCKS(t, &SOCKSServer{Dialer: socksFailDialer(err), GenericErrors: generic})
		_, rep := socksConnectRaw(t, ts.addr, "abc.onion", 80)
		want := byte(0xF0)
		if generic {
			want = 0x04
		}
		if rep != want {
			t.Errorf("generic=%v: reply 0x%02x, want 0x%02x", generic, rep, want)
		}
	}
}
