package client

// The client half of challenge-response auth (PROTOCOL.md §12).

import (
	"context"
	"errors"
	"fmt"

	"onion/onion"
	"onion/onion/circuit"
)

type authState struct {
	host     string
	cacheKey string
	ch       onion.AuthChallenge
	proof    onion.AuthProof
	verifier []byte
	verified bool
}

func (m *Manager) answerChallenge(ctx context.Context, s *circuit.Stream, pub []byte, host string, req DialRequest, body []byte, attempt int) (*authState, error) {
	var ch onion.AuthChallenge
	if err := ch.UnmarshalBinary(body); err != nil {
		return nil, &OpenError{Reason: onion.EndProtocol, Err: err}
	}
	if m.cfg.Credentials == nil {
		return nil, &OpenError{Reason: onion.EndExitPolicy, Err: errors.New("service requires a password and this proxy has no way to get one")}
	}
	user, key, v, err := m.cfg.Credentials.Verifier(ctx, pub, host, req, ch.LogN, attempt)
	if err != nil {
		m.logger.Info("hidden service asked for a password; none available", "err", err)
		return nil, &OpenError{Reason: onion.EndExitPolicy, Err: err}
	}
	a := &authState{host: host, cacheKey: key, ch: ch, verifier: v}
	a.proof = onion.AuthProof{User: user, Nonce: randomNonce()}
	a.proof.Proof = onion.ClientProof(v, pub, ch, a.proof)
	b, err := a.proof.MarshalBinary()
	if err != nil {
		return nil, &OpenError{Reason: onion.EndExitPolicy, Err: err}
	}
	if err := s.SendControl(onion.RelayAuthProof, b); err != nil {
		return nil, &OpenError{Reason: onion.EndUnreachable, Err: err}
	}
	return a, nil
}

func (m *Manager) authResult(a *authState, msg onion.RelayMsg) error {
	if msg.Cmd != onion.RelayAuthResult {
		return &OpenError{Reason: onion.EndProtocol, Err: fmt.Errorf("%v while waiting for AUTH_RESULT", msg.Cmd)}
	}
	var r onion.AuthResult
	if err := r.UnmarshalBinary(msg.Body); err != nil {
		return &OpenError{Reason: onion.EndProtocol, Err: err}
	}
	pub, _ := onion.ParseAddress(a.host)
	if !r.OK {
		m.logger.Warn("hidden service refused the password", "user", a.proof.User)
		m.cfg.Credentials.Forget(a.cacheKey)
		return nil // a new challenge or an END follows
	}
	if !onion.ProofEqual(r.Proof, onion.ServerProof(a.verifier, pub, a.ch, a.proof)) {
		// Only a holder of the verifier can make this proof: this is not the
		// service the user set a password with.
		m.cfg.Credentials.Forget(a.cacheKey)
		return &OpenError{Reason: onion.EndExitPolicy, Err: errors.New("service could not prove it knows the password verifier")}
	}
	a.verified = true
	m.cfg.Credentials.Remember(a.host, a.proof.User, a.cacheKey, a.verifier)
	return nil
}
