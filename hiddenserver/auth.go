package hiddenserver

// The service half of challenge-response auth (PROTOCOL.md §12).

import (
	"crypto/rand"
	"time"

	"onion/onion"
	"onion/onion/circuit"
)

// Auth bounds.
const (
	MaxAuthAttempts = 3
	// ProofTimeout is how long a client has to answer a challenge: long
	// enough for a person to type a password at the proxy's prompt.
	ProofTimeout = 2 * time.Minute
	// failureDelay grows with each failure, slowing down password guessing.
	failureDelay = time.Second
)

// authenticate runs up to MaxAuthAttempts challenges on st.
func (s *Server) authenticate(st *circuit.Stream) (string, bool) {
	for attempt := 1; attempt <= MaxAuthAttempts; attempt++ {
		ch := onion.AuthChallenge{LogN: s.cfg.Users.LogN()}
		rand.Read(ch.Nonce[:])
		body, _ := ch.MarshalBinary()
		if err := st.SendControl(onion.RelayAuthChallenge, body); err != nil {
			return "", false
		}
		proof, ok := s.awaitProof(st)
		if !ok {
			return "", false
		}
		v, known := s.cfg.Users.verifier(proof.User)
		want := onion.ClientProof(v, s.pub, ch, proof)
		// Constant time, and the same work for unknown users (a dummy
		// verifier), so neither timing nor answers tell which users exist.
		if onion.ProofEqual(want, proof.Proof) && known {
			res, _ := onion.AuthResult{OK: true, Proof: onion.ServerProof(v, s.pub, ch, proof)}.MarshalBinary()
			return proof.User, st.SendControl(onion.RelayAuthResult, res) == nil
		}
		s.logger.Warn("authentication denied", "user", proof.User, "attempt", attempt)
		res, _ := onion.AuthResult{}.MarshalBinary()
		if st.SendControl(onion.RelayAuthResult, res) != nil {
			return "", false
		}
		select {
		case <-time.After(time.Duration(attempt) * failureDelay):
		case <-st.Done():
			return "", false
		}
	}
	s.logger.Warn("authentication failed: too many attempts; stream refused")
	return "", false
}

func (s *Server) awaitProof(st *circuit.Stream) (onion.AuthProof, bool) {
	t := time.NewTimer(ProofTimeout)
	defer t.Stop()
	for {
		select {
		case msg := <-st.Control():
			if msg.Cmd != onion.RelayAuthProof {
				continue
			}
			var p onion.AuthProof
			if err := p.UnmarshalBinary(msg.Body); err != nil {
				s.logger.Info("malformed auth proof; stream refused", "err", err)
				return p, false
			}
			return p, true
		case <-t.C:
			s.logger.Info("client did not answer the auth challenge in time; stream refused", "timeout", ProofTimeout)
			return onion.AuthProof{}, false
		case <-st.Done():
			return onion.AuthProof{}, false
		}
	}
}
