package circuit

// Hidden services, service side (PROTOCOL.md §11): a circuit that has
// ESTABLISHed at a meeting relay receives INTRODUCE for each client, answers
// with the end-to-end handshake, and serves that client's streams.

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"onion/onion"
)

// MaxSessionsPerCircuit bounds the clients one service circuit serves.
const MaxSessionsPerCircuit = 4096

// Service is what a service circuit needs to answer clients.
type Service struct {
	Key    ed25519.PrivateKey // the service's identity; its public half is the handshake ID
	E2EKey onion.RelayKeys    // ID: the service public key; OnionKey: the e2e X25519 key
	Rand   io.Reader          // nil: crypto/rand
	// Accept is called in a new goroutine for every BEGIN. It owns the
	// stream: it must Accept (send CONNECTED) or Close it.
	Accept func(s *Stream, target string)
	// Authorize, when set, admits only authorized clients (PROTOCOL.md
	// §11.9): given the e2e key an INTRODUCE's CREATE names, it returns
	// that client's own e2e key and name. An introduction it does not
	// know goes unanswered, and E2EKey's own key is not used at all.
	Authorize func(e2ePub []byte) (key *ecdh.PrivateKey, client string, ok bool)
	Logger    *slog.Logger
}

// serviceSide is a service circuit's per-client state.
type serviceSide struct {
	svc *Service

	mu       sync.Mutex
	sessions map[uint16]*session // by join id
}

// session is one client joined through the meeting relay.
type session struct {
	join    uint16
	client  string        // the authorized client's name (Service.Authorize), or ""
	fwd     *onion.Sealer // service -> client, guarded by Circuit.sendMu
	back    *onion.Opener // client -> service, owned by the link's reader
	streams map[uint16]*Stream
	mu      sync.Mutex
	// Congestion control with this client (§6.1), once it offered it.
	flow atomic.Pointer[Flow]
	recv atomic.Pointer[FlowRecv]
}

// Establish registers this circuit at its last hop (a meeting relay whose
// identity key is relayID) as the way to reach the service, and serves
// clients on it until it closes.
func (c *Circuit) Establish(ctx context.Context, svc *Service, relayID []byte) error {
	if svc.Accept == nil || len(svc.Key) != ed25519.PrivateKeySize {
		return errors.New("circuit: service needs a key and an Accept function")
	}
	side := &serviceSide{svc: svc, sessions: make(map[uint16]*session)}
	if !c.svc.CompareAndSwap(nil, side) {
		return errors.New("circuit: already serving")
	}
	pub := svc.Key.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(svc.Key, onion.EstablishSignedBytes(relayID, pub))
	body := append(append([]byte(nil), pub...), sig...)
	last := len(*c.hops.Load()) - 1
	c.expect.Store(true)
	if err := c.sendTo(last, onion.RelayMsg{Cmd: onion.RelayEstablish, Body: body}); err != nil {
		return err
	}
	if _, err := c.awaitCtrl(ctx, onion.RelayEstablished); err != nil {
		return fmt.Errorf("establish: %w", err)
	}
	return nil
}

// handle runs on the link's reader goroutine.
func (side *serviceSide) handle(c *Circuit, m onion.RelayMsg, buf []byte) error {
	switch m.Cmd {
	case onion.RelayIntroduce:
		return side.introduce(c, m)
	case onion.RelayE2EEnd:
		side.end(m.Stream, errors.New("client left"))
		return nil
	case onion.RelayE2E:
		side.mu.Lock()
		s := side.sessions[m.Stream]
		side.mu.Unlock()
		if s == nil {
			return nil // ended here already
		}
		if err := side.fromClient(c, s, m.Body, buf); err != nil {
			// One client misbehaving ends its session, not the circuit.
			side.svc.log().Info("ending client session", "circ", c.id, "join", s.join, "err", err)
			side.end(s.join, err)
			c.sendTo(len(*c.hops.Load())-1, onion.RelayMsg{Cmd: onion.RelayE2EEnd, Stream: s.join})
		}
		return nil
	}
	return fmt.Errorf("%w: %v on a service circuit", ErrProtocol, m.Cmd)
}

func (svc *Service) log() *slog.Logger {
	if svc.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return svc.Logger
}

func (side *serviceSide) introduce(c *Circuit, m onion.RelayMsg) error {
	last := len(*c.hops.Load()) - 1
	refuse := func(err error) error {
		side.svc.log().Info("refused introduction", "circ", c.id, "err", err)
		return c.sendTo(last, onion.RelayMsg{Cmd: onion.RelayE2EEnd, Stream: m.Stream})
	}
	side.mu.Lock()
	n, dup := len(side.sessions), side.sessions[m.Stream] != nil
	side.mu.Unlock()
	if dup {
		return fmt.Errorf("%w: INTRODUCE for a live join id", ErrProtocol)
	}
	if n >= MaxSessionsPerCircuit {
		return refuse(errors.New("too many sessions"))
	}
	e2e, client := side.svc.E2EKey, ""
	if side.svc.Authorize != nil {
		key, name, ok := side.svc.authorize(m.Body)
		if !ok {
			// Unanswered: the meeting relay gives up after its timeout,
			// and the client learns nothing about the service.
			side.svc.log().Debug("introduction from a client not authorized; not answered", "circ", c.id)
			return nil
		}
		e2e.OnionKey, client = key, name
	}
	created, keys, err := onion.ServerHandshake(side.svc.Rand, e2e, m.Body)
	if err != nil {
		return refuse(err)
	}
	s := &session{
		client:  client,
		join:    m.Stream,
		fwd:     onion.NewSealer(keys.Backward),
		back:    onion.NewOpener(keys.Forward),
		streams: make(map[uint16]*Stream),
	}
	side.mu.Lock()
	side.sessions[s.join] = s
	side.mu.Unlock()
	return c.sendTo(last, onion.RelayMsg{Cmd: onion.RelayAccept, Stream: s.join, Body: created})
}

// fromClient opens one end-to-end token and acts on the stream message
// inside. tok lies in buf, the cell's pooled buffer, which the stream may
// recycle (Stream.DeliverFrom).
func (side *serviceSide) fromClient(c *Circuit, s *session, tok, buf []byte) error {
	m, err := openE2E(s.back, tok)
	if err != nil {
		return err
	}
	if m.Stream == 0 {
		return side.ccMsg(c, s, m)
	}
	if m.Cmd == onion.RelayData {
		s.recv.Load().Count()
	}
	s.mu.Lock()
	st := s.streams[m.Stream]
	s.mu.Unlock()
	if m.Cmd == onion.RelayBegin {
		if st != nil {
			return fmt.Errorf("%w: BEGIN on open stream %d", ErrProtocol, m.Stream)
		}
		return side.begin(c, s, m)
	}
	if st == nil {
		return nil // closed here first
	}
	return st.DeliverFrom(m, buf)
}

func (side *serviceSide) begin(c *Circuit, s *session, m onion.RelayMsg) error {
	target := string(m.Body)
	if _, _, err := onion.SplitHostPort(target); err != nil {
		return err
	}
	s.mu.Lock()
	if len(s.streams) >= MaxStreamsPerCircuit {
		s.mu.Unlock()
		return errors.New("too many streams in one session")
	}
	id := m.Stream
	st := NewStream(id, sessionSender{c, s}, func() {
		s.mu.Lock()
		delete(s.streams, id)
		s.mu.Unlock()
	}, StreamAddr(target), StreamAddr(fmt.Sprintf("session %d/%d", c.id, s.join)))
	st.client = s.client
	s.streams[id] = st
	s.mu.Unlock()
	go side.svc.Accept(st, target)
	return nil
}

func (svc *Service) authorize(create []byte) (*ecdh.PrivateKey, string, bool) {
	if len(create) != onion.CreateLen {
		return nil, "", false
	}
	return svc.Authorize(create[onion.KeyLen : 2*onion.KeyLen])
}

// Client is the name of the authorized client whose session carries this
// stream (Service.Authorize), or "".
func (s *Stream) Client() string { return s.client }

// end forgets a session and aborts its streams.
func (side *serviceSide) end(join uint16, err error) {
	side.mu.Lock()
	s := side.sessions[join]
	delete(side.sessions, join)
	side.mu.Unlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	streams := s.streams
	s.streams = map[uint16]*Stream{}
	s.mu.Unlock()
	for _, st := range streams {
		st.Abort(err)
	}
}

// ccMsg takes a client's CC_OFFER (answered with CC_ACCEPT, before any
// stream of the session exists) or CIRCUIT_SENDME.
func (side *serviceSide) ccMsg(c *Circuit, s *session, m onion.RelayMsg) error {
	switch m.Cmd {
	case onion.RelayCCOffer:
		_, inc, err := onion.ParseCCBody(m.Body)
		if err != nil {
			return err
		}
		s.mu.Lock()
		n := len(s.streams)
		s.mu.Unlock()
		send := func() error { return sessionSender{c, s}.SendMsg(CircuitSendme()) }
		if n > 0 || !s.recv.CompareAndSwap(nil, NewFlowRecv(inc, send)) {
			return fmt.Errorf("%w: %v after the session's first stream", ErrProtocol, m.Cmd)
		}
		if err := (sessionSender{c, s}).SendMsg(onion.RelayMsg{Cmd: onion.RelayCCAccept, Body: onion.CCBody(inc)}); err != nil {
			return err
		}
		s.flow.Store(NewFlow(FlowParams(inc)))
		return nil
	case onion.RelayCircuitSendme:
		if len(m.Body) != 0 {
			return fmt.Errorf("%w: %v body of %d bytes", ErrProtocol, m.Cmd, len(m.Body))
		}
		return s.flow.Load().Acked()
	}
	return fmt.Errorf("%w: %v on stream 0", ErrProtocol, m.Cmd)
}

// sessionSender seals a stream's messages for one client.
type sessionSender struct {
	c *Circuit
	s *session
}

func (ss sessionSender) SendMsg(m onion.RelayMsg) error {
	if m.Cmd == onion.RelayData {
		ss.s.flow.Load().Sent()
	}
	return ss.c.sendE2E(ss.s.fwd, ss.s.join, m)
}

// DataRoom is the session's congestion window for a stream's next DATA.
func (ss sessionSender) DataRoom() <-chan struct{} { return ss.s.flow.Load().Room() }

// endAll ends every session when the circuit closes.
func (side *serviceSide) endAll(err error) {
	side.mu.Lock()
	joins := make([]uint16, 0, len(side.sessions))
	for j := range side.sessions {
		joins = append(joins, j)
	}
	side.mu.Unlock()
	for _, j := range joins {
		side.end(j, err)
	}
}

// NumSessions is the number of clients this service circuit serves.
func (c *Circuit) NumSessions() int {
	side := c.svc.Load()
	if side == nil {
		return 0
	}
	side.mu.Lock()
	defer side.mu.Unlock()
	return len(side.sessions)
}
