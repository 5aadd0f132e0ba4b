package client

// Streams to hidden services (PROTOCOL.md §11-12): resolve ADDRESS.onion by
// its signed descriptor, build a circuit to one of its meeting relays, MEET,
// then open streams inside the end-to-end layer, answering the service's
// auth challenge when it sends one.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"onion/onion"
	"onion/onion/circuit"
)

// ServiceDirectory is the directory's hidden-service lookup (directory.Client
// has it).
type ServiceDirectory interface {
	Service(ctx context.Context, address string) (onion.ServiceDescriptor, error)
}

const maxAuthAttempts = 3

// errOtherService: a lookup returned a descriptor for another key.
var errOtherService = errors.New("the lookup returned another service's descriptor")

func (m *Manager) dialOnion(ctx context.Context, req DialRequest) (net.Conn, error) {
	host := strings.ToLower(req.Host)
	pub, err := onion.ParseAddress(host)
	if err != nil {
		m.logger.Info("refused onion address", "err", err)
		return nil, onionErr(onion.EndResolve, ErrBadOnionAddress, err)
	}
	key := "onion\x00" + host + "\x00" + isolationKey(req)
	ce, err := m.circuitForWith(ctx, key, func() (*circEntry, error) { return m.meet(host, key) })
	if err != nil {
		var oe *OpenError
		if errors.As(err, &oe) {
			return nil, err
		}
		return nil, meetErr(err)
	}
	target := net.JoinHostPort(host, strconv.Itoa(int(req.Port)))
	// No KeepUntilConnected: a stream that logged in is never moved to
	// another circuit; a failed one fails.
	s, err := circuit.NewClientStream(target)
	if err != nil {
		return nil, &OpenError{Reason: onion.EndResolve, Err: err}
	}
	if err := ce.c.Attach(s); err != nil {
		m.retire(ce)
		return nil, &OpenError{Reason: onion.EndUnreachable, Err: err}
	}
	s.Begin()
	if err := m.awaitService(ctx, s, pub, host, req); err != nil {
		s.Close()
		return nil, err
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.watchControl(s)
	}()
	return s, nil
}

// meet builds a circuit to one of the service's meeting relays and joins it.
func (m *Manager) meet(host, key string) (*circEntry, error) {
	sd := m.services
	if sd == nil {
		return nil, errors.New("client: directory cannot look up onion addresses")
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.BuildTimeout)
	defer cancel()
	desc, err := sd.Service(ctx, host)
	if err == nil && onion.EncodeAddress(desc.ServiceKey) != host {
		// A lookup must verify what it returns; checked again here, as
		// it costs nothing and a wrong one would meet someone else.
		err = errOtherService
	}
	if err != nil {
		m.logger.Info("onion address lookup failed", "err", err)
		return nil, lookupErr(err)
	}
	if desc, err = m.openDescriptor(desc, host); err != nil {
		return nil, err
	}
	var lastErr error
	for _, i := range m.perm(len(desc.MeetingPoints)) {
		mp := desc.MeetingPoints[i]
		last := onion.RelayDescriptor{Nickname: mp.Nickname, Address: mp.Address, IdentityKey: mp.IdentityKey, OnionKey: mp.OnionKey}
		c, path, err := m.BuildCircuit(ctx, &last)
		if err == nil {
			if err = c.Meet(ctx, desc.ServiceKey, desc.E2EKey); err == nil {
				id := m.newID()
				m.logger.Info("joined hidden service", "circ", id, "path", nicknames(path))
				return &circEntry{c: c, id: id, path: path, born: m.cfg.Now(), key: key}, nil
			}
			c.Close()
		}
		m.logger.Info("meeting relay failed; trying the next", "relay", mp.Nickname, "err", err)
		lastErr = err
	}
	if lastErr == nil {
		lastErr = errors.New("descriptor lists no meeting relay")
	}
	return nil, meetErr(fmt.Errorf("no meeting relay of the service answered: %w", lastErr))
}

// awaitService waits for CONNECTED, answering an auth challenge on the way.
func (m *Manager) awaitService(ctx context.Context, s *circuit.Stream, pub []byte, host string, req DialRequest) error {
	var a *authState
	attempts := 0
	for {
		select {
		case <-s.Connected():
			if a != nil && !a.verified {
				// AUTH_RESULT is queued before CONNECTED: it must be there.
				select {
				case msg := <-s.Control():
					if err := m.authResult(a, msg); err != nil {
						return err
					}
				default:
				}
				if !a.verified {
					return onionErr(onion.EndExitPolicy, ErrClientAuthWrong, errors.New("service connected without proving it knows the password verifier"))
				}
			}
			return nil
		case <-s.Done():
			return m.streamEnded(s, a)
		case <-ctx.Done():
			return onionErr(onion.EndTimeout, ErrIntroTimeout, ctx.Err())
		case msg := <-s.Control():
			switch msg.Cmd {
			case onion.RelayAuthChallenge:
				attempts++
				if attempts > maxAuthAttempts {
					return onionErr(onion.EndExitPolicy, ErrClientAuthWrong, nil)
				}
				var err error
				if a, err = m.answerChallenge(ctx, s, pub, host, req, msg.Body, attempts); err != nil {
					return err
				}
			case onion.RelayAuthResult:
				if a == nil {
					return &OpenError{Reason: onion.EndProtocol, Err: errors.New("AUTH_RESULT without a challenge")}
				}
				if err := m.authResult(a, msg); err != nil {
					return err
				}
			}
		}
	}
}

func (m *Manager) streamEnded(s *circuit.Stream, a *authState) error {
	err := s.Err()
	var se *circuit.StreamError
	if errors.As(err, &se) {
		if a != nil && !a.verified && se.Reason == onion.EndExitPolicy {
			return onionErr(onion.EndExitPolicy, ErrClientAuthWrong, nil)
		}
		return &OpenError{Reason: se.Reason, Err: err}
	}
	return &OpenError{Reason: onion.EndUnreachable, Err: err}
}

// watchControl handles control messages for the stream's life: URL replies.
func (m *Manager) watchControl(s *circuit.Stream) {
	for {
		select {
		case <-s.Done():
			return
		case msg := <-s.Control():
			if msg.Cmd == onion.RelayURL && m.cfg.OpenURL != nil {
				m.cfg.OpenURL(string(msg.Body))
			}
		}
	}
}

// perm is a random permutation of 0..n-1 from the manager's entropy.
func (m *Manager) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := m.randIntn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

func randomNonce() (n [onion.AuthNonceLen]byte) {
	rand.Read(n[:])
	return n
}
