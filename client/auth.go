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
	host  string
	ch    onion.AuthChallenge
	proof onion.AuthProof
	login Login
	// verified: the service accepted the proof and proved the verifier.
	verified bool
}

// answerChallenge answers the challenge in body for the stream s to host
// (key pub), or fails the stream: a challenge whose cost is out of bounds
// or below the one pinned for host gets no proof, nor does one for which
// Credentials has no login.
func (m *Manager) answerChallenge(ctx context.Context, s *circuit.Stream, pub []byte, host string, req DialRequest, body []byte, attempt int) (*authState, error) {
	var ch onion.AuthChallenge
	if err := ch.UnmarshalBinary(body); errors.Is(err, onion.ErrAuthCost) {
		return nil, m.refuseLogin(fmt.Errorf("%s: %w", host, err))
	} else if err != nil {
		return nil, &OpenError{Reason: onion.EndProtocol, Err: err}
	}
	if err := m.pins.Check(host, ch.LogN); err != nil {
		return nil, m.refuseLogin(err)
	}
	if m.cfg.Credentials == nil {
		return nil, onionErr(onion.EndExitPolicy, ErrClientAuthMissing, errors.New("service requires a password and this proxy has no way to get one"))
	}
	login, err := m.cfg.Credentials.Verifier(ctx, Challenge{
		Host: host, ServiceKey: pub, LogN: ch.LogN, Attempt: attempt,
		Request: req, Identity: isolationKey(req),
	})
	if err != nil {
		// No login to give: none at all, or none after the service refused
		// the one given (a wrong password).
		kind := ErrClientAuthMissing
		if attempt > 1 {
			kind = ErrClientAuthWrong
		}
		return nil, m.refuseLogin(fmt.Errorf("%w: %w", kind, err))
	}
	a := &authState{host: host, ch: ch, login: login}
	a.proof = onion.AuthProof{User: login.User, Nonce: randomNonce()}
	a.proof.Proof = onion.ClientProof(login.Verifier, pub, ch, a.proof)
	b, err := a.proof.MarshalBinary()
	if err != nil {
		return nil, &OpenError{Reason: onion.EndExitPolicy, Err: err}
	}
	if err := s.SendControl(onion.RelayAuthProof, b); err != nil {
		return nil, &OpenError{Reason: onion.EndUnreachable, Err: err}
	}
	return a, nil
}

// refuseLogin fails a stream whose challenge gets no answer. Its error
// names the service's address, and so does the log line, above debug
// on purpose: a service that asks for a login the proxy will not give may
// be phishing, and the person running the proxy must be able to tell
// which one it was.
func (m *Manager) refuseLogin(err error) error {
	m.logger.Warn("hidden service asked for a login; no proof sent", "err", err)
	if !errors.Is(err, ErrClientAuthWrong) && !errors.Is(err, ErrClientAuthMissing) {
		err = fmt.Errorf("%w: %w", ErrClientAuthMissing, err) // none this proxy will give
	}
	return &OpenError{Reason: onion.EndExitPolicy, Err: err}
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
		m.cfg.Credentials.Forget(a.login.Key)
		return nil // a new challenge or an END follows
	}
	if !onion.ProofEqual(r.Proof, onion.ServerProof(a.login.Verifier, pub, a.ch, a.proof)) {
		// Only a holder of the verifier can make this proof: this is not the
		// service the user set a password with.
		m.cfg.Credentials.Forget(a.login.Key)
		return onionErr(onion.EndExitPolicy, ErrClientAuthWrong, errors.New("service could not prove it knows the password verifier"))
	}
	a.verified = true
	if err := m.pins.Pin(a.host, a.ch.LogN); err != nil {
		m.logger.Warn("could not save the service's password cost; kept in memory", "err", err)
	}
	m.cfg.Credentials.Remember(a.login)
	return nil
}
