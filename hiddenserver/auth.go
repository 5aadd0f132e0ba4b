package hiddenserver

// The service half of challenge-response auth (PROTOCOL.md §12).

import (
	"crypto/rand"
	"time"

	"onion/onion"
)

// Auth bounds. How many proofs are judged at all is the login budget's
// business (throttle.go).
const (
	MaxAuthAttempts = 3
	// ProofTimeout is how long a client has to answer a challenge: long
	// enough for a person to type a password at the proxy's prompt.
	ProofTimeout = 2 * time.Minute
)

// authStream is what authentication needs of a stream; *circuit.Stream
// has it.
type authStream interface {
	SendControl(cmd onion.RelayCmd, body []byte) error
	Control() <-chan onion.RelayMsg
	Done() <-chan struct{}
}

// authenticate runs up to MaxAuthAttempts challenges on st. It challenges
// at once, whatever the login budget holds: a wait that depended on the
// budget would show its state, and through it which names exist.
func (s *Server) authenticate(st authStream) (string, bool) {
	judged := false
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
		v, res := s.judge(ch, proof, attempt)
		if v == accepted {
			return proof.User, st.SendControl(onion.RelayAuthResult, res) == nil
		}
		judged = judged || v == denied
		if st.SendControl(onion.RelayAuthResult, res) != nil {
			return "", false
		}
	}
	if judged {
		s.logger.Warn("authentication failed: too many attempts; stream refused")
	} else { // nothing was judged: a flood of these must not flood the log
		s.logger.Debug("authentication failed: login budget spent; stream refused")
	}
	return "", false
}

// judge checks proof against ch, asks the login budget whether it may
// count, and returns the verdict with the AUTH_RESULT body to send. The
// answer to a throttled proof is the same `00` as to a wrong one, right
// password or not.
func (s *Server) judge(ch onion.AuthChallenge, proof onion.AuthProof, attempt int) (verdict, []byte) {
	v, known := s.cfg.Users.verifier(proof.User)
	want := onion.ClientProof(v, s.pub, ch, proof)
	// Constant time, and the same work for unknown users (a dummy
	// verifier), so neither timing nor answers tell which users exist.
	right := onion.ProofEqual(want, proof.Proof) && known
	verdict := s.budget.judge(proof.User, known, right)
	s.cfg.Metrics.login(verdict)
	switch verdict {
	case accepted:
		res, _ := onion.AuthResult{OK: true, Proof: onion.ServerProof(v, s.pub, ch, proof)}.MarshalBinary()
		return verdict, res
	case denied:
		s.logger.Warn("authentication denied", "user", proof.User, "attempt", attempt)
	default:
		s.logger.Debug("authentication refused unjudged: no guess left in the login budget", "user", proof.User, "attempt", attempt)
	}
	res, _ := onion.AuthResult{}.MarshalBinary()
	return verdict, res
}

func (s *Server) awaitProof(st authStream) (onion.AuthProof, bool) {
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
