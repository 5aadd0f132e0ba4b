package hiddenserver

// authenticate over in-memory streams, on synctest's fake clock: the login
// budget holds across streams, sessions and circuits.

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"onion/onion"
	"onion/onion/circuit"
	"onion/onion/oniontest"
)

// attackTime is how long, in fake time, the guessing tests attack.
const attackTime = 5 * time.Minute

// TestParallelGuessingNoFasterThanSerial: 16 circuits guessing at once get
// no more wrong passwords judged than one circuit guessing alone, neither
// gets more than the budget allows, and the service's budget does the same
// for guesses spread over many names. Each budget is tested with the other
// out of the way.
func TestParallelGuessingNoFasterThanSerial(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   func(*Config)
		user  func(circuit, login int) string
		limit int // without back-off: the burst plus one per refill
	}{
		{"one user", func(c *Config) { c.ServiceGuesses = Budget{1 << 20, time.Millisecond} },
			func(int, int) string { return "alice" },
			DefaultUserBurst + int(attackTime/DefaultUserRefill)},
		{"unknown names", func(*Config) {},
			func(circuit, login int) string { return fmt.Sprintf("nobody%d-%d", circuit, login) },
			DefaultServiceBurst + int(attackTime/DefaultServiceRefill)},
	} {
		t.Run(c.name, func(t *testing.T) {
			serial := guessesJudged(t, 1, c.cfg, c.user)
			parallel := guessesJudged(t, 16, c.cfg, c.user)
			t.Logf("wrong passwords judged in %v: 1 circuit %d, 16 circuits %d", attackTime, serial, parallel)
			if parallel > serial {
				t.Errorf("16 circuits in parallel had %d guesses judged, one circuit %d", parallel, serial)
			}
			if serial > c.limit {
				t.Errorf("one circuit had %d guesses judged in %v, more than the budget's %d", serial, attackTime, c.limit)
			}
		})
	}
}

// guessesJudged runs attackTime of wrong guesses from n circuits at once,
// each logging in once a second as user(circuit, login), and counts the
// guesses judged.
func guessesJudged(t *testing.T, circuits int, cfg func(*Config), user func(circuit, login int) string) (judged int) {
	synctest.Test(t, func(t *testing.T) {
		a := newAuthTest(t, cfg)
		end := time.Now().Add(attackTime)
		var wg sync.WaitGroup
		for c := range circuits {
			wg.Go(func() {
				for n := 0; time.Now().Before(end); n++ {
					a.login(user(c, n), "wrong")
					time.Sleep(time.Second)
				}
			})
		}
		wg.Wait()
		judged = a.denied()
	})
	return judged
}

// TestLockoutEndsAfterLastFailure: after a long attack, the right password
// is refused on a fresh circuit right after the last failure (the user
// waits like the attacker), still refused just before DefaultMaxLockout
// has passed, and accepted once it has.
func TestLockoutEndsAfterLastFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAuthTest(t, func(*Config) {})
		var last time.Time
		for range 12 { // past the burst and the back-off's cap
			last = a.guessUntilJudged()
		}
		if a.login("alice", "right") {
			t.Fatal("the right password was accepted on a fresh circuit right after a failure with no guess left")
		}
		time.Sleep(time.Until(last.Add(DefaultMaxLockout - time.Second)))
		if a.login("alice", "right") {
			t.Fatalf("the right password was accepted %v after the last failure: the back-off never reached its cap", time.Since(last))
		}
		time.Sleep(time.Until(last.Add(DefaultMaxLockout)))
		if !a.login("alice", "right") {
			t.Fatalf("the right password is still refused %v after the last failure", time.Since(last))
		}
	})
}

// authTest is a service with one user, alice (password "right"), whose
// streams are in memory.
type authTest struct {
	s         *Server
	logs      *oniontest.Logs
	verifiers map[string][]byte // alice's verifier by password; read-only
}

func newAuthTest(t *testing.T, config func(*Config)) *authTest {
	keys := oniontest.RelayKeys("service")
	pub := keys.Identity.Public().(ed25519.PublicKey)
	a := &authTest{logs: oniontest.NewLogs(t), verifiers: map[string][]byte{}}
	for _, pw := range []string{"right", "wrong"} {
		v, err := onion.DeriveVerifier(pub, "alice", pw, onion.MinAuthLogN)
		if err != nil {
			t.Fatal(err)
		}
		a.verifiers[pw] = v
	}
	users := &Users{logN: onion.MinAuthLogN, m: map[string][]byte{"alice": a.verifiers["right"]}, dummy: make([]byte, onion.AuthVerifierLen)}
	cfg := Config{Key: keys.Identity, E2EKey: keys.Onion, Builder: noBuilder{}, Users: users, Logger: a.logs.Logger()}
	config(&cfg)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.s = s
	return a
}

// denied is how many wrong passwords the service has judged.
func (a *authTest) denied() int { return len(a.logs.Find("authentication denied", nil)) }

// guessUntilJudged guesses wrong for alice once a second, each time on a
// new stream of a new circuit, until a guess is judged; it returns when.
func (a *authTest) guessUntilJudged() time.Time {
	for n := a.denied(); ; time.Sleep(time.Second) {
		a.login("alice", "wrong")
		if a.denied() > n {
			return time.Now()
		}
	}
}

// login opens a stream (of its own circuit) and answers every challenge
// as user with password; it reports whether the service let it through.
func (a *authTest) login(user, password string) bool {
	st := &fakeStream{in: make(chan onion.RelayMsg, 1), out: make(chan onion.RelayMsg), done: make(chan struct{})}
	result := make(chan bool, 1)
	go func() {
		_, ok := a.s.authenticate(st)
		close(st.done)
		result <- ok
	}()
	for {
		select {
		case m := <-st.out:
			if m.Cmd == onion.RelayAuthChallenge {
				st.in <- a.proof(m.Body, user, password)
			}
		case ok := <-result:
			return ok
		}
	}
}

func (a *authTest) proof(challenge []byte, user, password string) onion.RelayMsg {
	var ch onion.AuthChallenge
	if err := ch.UnmarshalBinary(challenge); err != nil {
		panic(err)
	}
	p := onion.AuthProof{User: user}
	// Alice's verifier for password, whatever the name: a proof can be
	// right for alice only.
	p.Proof = onion.ClientProof(a.verifiers[password], a.s.pub, ch, p)
	body, err := p.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return onion.RelayMsg{Cmd: onion.RelayAuthProof, Body: body}
}

// fakeStream is the service's side of a stream for authenticate.
type fakeStream struct {
	in   chan onion.RelayMsg // client to service
	out  chan onion.RelayMsg // service to client
	done chan struct{}
}

func (f *fakeStream) SendControl(cmd onion.RelayCmd, body []byte) error {
	select {
	case f.out <- onion.RelayMsg{Cmd: cmd, Body: body}:
		return nil
	case <-f.done:
		return errors.New("stream closed")
	}
}

func (f *fakeStream) Control() <-chan onion.RelayMsg { return f.in }
func (f *fakeStream) Done() <-chan struct{}          { return f.done }

// noBuilder satisfies Builder for a Server that never runs.
type noBuilder struct{}

func (noBuilder) BuildCircuit(context.Context, *onion.RelayDescriptor) (*circuit.Circuit, []onion.RelayDescriptor, error) {
	return nil, nil, errors.New("no circuits in this test")
}

func (noBuilder) Relays() []onion.RelayDescriptor { return nil }
