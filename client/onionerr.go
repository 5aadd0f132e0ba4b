package client

// Why a stream to a hidden service failed, as named errors in the order of
// Tor's extended SOCKS5 reply codes (proposal 304; PROTOCOL.md §8.2). The
// proxy maps each to its code; DialStream wraps them in an *OpenError, so
// callers test with errors.Is.

import (
	"context"
	"errors"
	"fmt"
	"os"

	"onion/onion"
	"onion/onion/circuit"
)

var (
	// ErrDescriptorNotFound: the directory has no descriptor for the
	// address, or could not be asked (Tor's 0xF0).
	ErrDescriptorNotFound = errors.New("client: onion service descriptor not found")
	// ErrDescriptorInvalid: a descriptor came back but failed its checks
	// (signature, freshness, another service's key) (0xF1).
	ErrDescriptorInvalid = errors.New("client: onion service descriptor is invalid")
	// ErrIntroFailed: no meeting relay joined us to the service (0xF2).
	ErrIntroFailed = errors.New("client: onion service introduction failed")
	// ErrRendezvousFailed: the meeting relay reached the service but the
	// join failed (refused, or a bad handshake answer) (0xF3).
	ErrRendezvousFailed = errors.New("client: onion service rendezvous failed")
	// ErrClientAuthMissing: the service asks for a login and the proxy has
	// none to give (0xF4).
	ErrClientAuthMissing = errors.New("client: onion service requires a login")
	// ErrClientAuthWrong: the service refused the login, or could not
	// prove it knows its verifier (0xF5).
	ErrClientAuthWrong = errors.New("client: onion service login refused")
	// ErrBadOnionAddress: the .onion name is malformed (checksum, length,
	// version) (0xF6).
	ErrBadOnionAddress = errors.New("client: bad onion address")
	// ErrIntroTimeout: joining the service took longer than allowed (0xF7).
	ErrIntroTimeout = errors.New("client: onion service introduction timed out")
)

// onionErr is the *OpenError for a hidden-service failure: reason for the
// generic SOCKS code, kind for the extended one, err the detail.
func onionErr(reason onion.EndReason, kind, err error) *OpenError {
	if err == nil {
		return &OpenError{Reason: reason, Err: kind}
	}
	return &OpenError{Reason: reason, Err: fmt.Errorf("%w: %w", kind, err)}
}

// lookupErr classifies a failed descriptor lookup.
func lookupErr(err error) *OpenError {
	switch {
	case errors.Is(err, onion.ErrSignature), errors.Is(err, onion.ErrWrongService),
		errors.Is(err, onion.ErrDescriptorExpired), errors.Is(err, errOtherService):
		return onionErr(onion.EndResolve, ErrDescriptorInvalid, err)
	}
	return onionErr(onion.EndResolve, ErrDescriptorNotFound, err)
}

// meetErr classifies the last meeting relay's failure: a timeout, the
// service refusing (or answering with the wrong key), else introduction.
func meetErr(err error) *OpenError {
	var me *circuit.MeetError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return onionErr(onion.EndTimeout, ErrIntroTimeout, err)
	case errors.As(err, &me) && me.Reason == onion.MeetRefused,
		errors.Is(err, onion.ErrHandshake):
		return onionErr(onion.EndUnreachable, ErrRendezvousFailed, err)
	}
	return onionErr(onion.EndUnreachable, ErrIntroFailed, err)
}
