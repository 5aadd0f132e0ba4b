package hiddenserver

// The service half of challenge-response auth (PROTOCOL.md §12).

import (
	"crypto/rand"
	"sync"
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
	// failureDelay grows with each failure of a session (all its streams
	// together), slowing down password guessing; maxFailureDelay caps it.
	failureDelay    = time.Second
	maxFailureDelay = 30 * time.Second
	failureMemory   = 10 * time.Minute
	maxSessionsSeen = 10000
)

// failures counts failed logins per client session (one joined circuit),
// so opening many streams at once does not buy more guesses.
type failures struct {
	mu sync.Mutex
	m  map[string]*failure
}

type failure struct {
	n    int
	last time.Time
}

// delay is how long the session waits before its next challenge.
func (f *failures) delay(session string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.m[session]; e != nil && time.Since(e.last) < failureMemory {
		return min(time.Duration(e.n)*failureDelay, maxFailureDelay)
	}
	return 0
}

func (f *failures) record(session string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ok {
		delete(f.m, session)
		return
	}
	if f.m == nil {
		f.m = make(map[string]*failure)
	}
	if len(f.m) >= maxSessionsSeen { // bounded: forget the stale first
		for k, e := range f.m {
			if time.Since(e.last) >= failureMemory {
				delete(f.m, k)
			}
		}
	}
	e := f.m[session]
	if e == nil {
		if len(f.m) >= maxSessionsSeen {
			return
		}
		e = &failure{}
		f.m[session] = e
	}
	e.n++
	e.last = time.Now()
}

// authenticate runs up to MaxAuthAttempts challenges on st.
func (s *Server) authenticate(st *circuit.Stream) (string, bool) {
	session := st.RemoteAddr().String()
	for attempt := 1; attempt <= MaxAuthAttempts; attempt++ {
		select {
		case <-time.After(s.fails.delay(session)):
		case <-st.Done():
			return "", false
		}
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
			s.fails.record(session, true)
			res, _ := onion.AuthResult{OK: true, Proof: onion.ServerProof(v, s.pub, ch, proof)}.MarshalBinary()
			return proof.User, st.SendControl(onion.RelayAuthResult, res) == nil
		}
		s.fails.record(session, false)
		s.logger.Warn("authentication denied", "user", proof.User, "attempt", attempt)
		res, _ := onion.AuthResult{}.MarshalBinary()
		if st.SendControl(onion.RelayAuthResult, res) != nil {
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
