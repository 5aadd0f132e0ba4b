package relay

// The meeting point for hidden services, PROTOCOL.md §11. A service's
// circuit ESTABLISHes its key here; a client's circuit asks to MEET that key;
// the relay INTRODUCEs the client's handshake to the service, passes the
// answer back as MET, and from then on carries opaque end-to-end tokens
// between the two circuits. It never sees inside them.

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"onion/onion"
)

// Meeting-point bounds.
const (
	MaxMeetings        = 10000            // services established at this relay
	MaxJoinsPerService = 4096             // clients joined to one service circuit
	introduceTimeout   = 10 * time.Second // the service must ACCEPT within this
)

// join is one client circuit joined to one service circuit.
type join struct {
	client   *relayCirc
	service  *relayCirc
	id       uint16 // the stream field on the service circuit
	accepted bool
	timer    *time.Timer
}

// establish registers the circuit as the way to reach a service.
func (c *relayCirc) establish(m onion.RelayMsg) error {
	if len(m.Body) != ed25519.PublicKeySize+ed25519.SignatureSize {
		return fmt.Errorf("ESTABLISH of %d bytes", len(m.Body))
	}
	c.mu.Lock()
	fresh := c.next == nil && !c.extending && c.joined == nil && c.serviceKey == "" && len(c.streams) == 0
	c.mu.Unlock()
	if !fresh {
		return errors.New("ESTABLISH on a circuit that is not a fresh last hop")
	}
	key, sig := m.Body[:ed25519.PublicKeySize], m.Body[ed25519.PublicKeySize:]
	if !ed25519.Verify(key, onion.EstablishSignedBytes(c.r.keys.ID, key), sig) {
		return errors.New("ESTABLISH signature does not verify")
	}
	r := c.r
	r.mu.Lock()
	if _, ok := r.meetings[string(key)]; !ok && len(r.meetings) >= MaxMeetings {
		r.mu.Unlock()
		return errors.New("too many services established here")
	}
	// A newer circuit replaces the old one: the service rebuilt it.
	r.meetings[string(key)] = c
	r.mu.Unlock()
	c.mu.Lock()
	c.serviceKey = string(key)
	if c.joins == nil {
		c.joins = make(map[uint16]*join)
	}
	c.mu.Unlock()
	r.logger.Info("service established meeting point", "circ", c.prevID)
	return c.SendMsg(onion.RelayMsg{Cmd: onion.RelayEstablished})
}

// meet joins a client circuit to the service it names.
func (c *relayCirc) meet(m onion.RelayMsg) error {
	if len(m.Body) != onion.CreateLen {
		return fmt.Errorf("MEET of %d bytes", len(m.Body))
	}
	c.mu.Lock()
	bad := c.next != nil || c.extending || c.joined != nil || c.serviceKey != "" || len(c.streams) > 0
	c.mu.Unlock()
	if bad {
		return errors.New("MEET on a circuit that is not a fresh last hop")
	}
	c.r.mu.Lock()
	svc := c.r.meetings[string(m.Body[:onion.KeyLen])]
	c.r.mu.Unlock()
	if svc == nil {
		c.r.logger.Info("MEET for a service not established here", "circ", c.prevID)
		return c.SendMsg(onion.RelayMsg{Cmd: onion.RelayMeetFailed, Body: []byte{byte(onion.MeetNoService)}})
	}
	j, err := svc.addJoin(c)
	if err != nil {
		if errors.Is(err, errLimit) {
			c.r.refused("MEET refused", err, "circ", c.prevID)
		} else {
			c.r.logger.Info("MEET refused", "circ", c.prevID, "err", err)
		}
		return c.SendMsg(onion.RelayMsg{Cmd: onion.RelayMeetFailed, Body: []byte{byte(onion.MeetRefused)}})
	}
	c.mu.Lock()
	c.joined = j
	c.mu.Unlock()
	j.timer = time.AfterFunc(introduceTimeout, func() { c.r.meetTimeout(j) })
	body := append([]byte(nil), m.Body...)
	if err := svc.SendMsg(onion.RelayMsg{Cmd: onion.RelayIntroduce, Stream: j.id, Body: body}); err != nil {
		c.r.unjoin(j, onion.MeetRefused)
	}
	return nil
}

func (svc *relayCirc) addJoin(client *relayCirc) (*join, error) {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if svc.dead || svc.joins == nil {
		return nil, errors.New("service circuit gone")
	}
	// The service's peers are counted by their link to this relay: one
	// client cannot take every join and so make the service unreachable.
	if err := svc.joinShares.take(client.prev.peer, svc.r.bounds.joins); err != nil {
		return nil, err
	}
	for svc.nextJoin == 0 || svc.joins[svc.nextJoin] != nil {
		svc.nextJoin++
	}
	j := &join{client: client, service: svc, id: svc.nextJoin}
	svc.nextJoin++
	svc.joins[j.id] = j
	return j, nil
}

func (r *Relay) meetTimeout(j *join) {
	j.service.mu.Lock()
	accepted := j.accepted
	j.service.mu.Unlock()
	if !accepted {
		r.logger.Info("service did not accept an introduction in time", "circ", j.client.prevID)
		r.unjoin(j, onion.MeetRefused)
	}
}

// unjoin separates the two circuits. If the client was never MET it gets
// MEET_FAILED; otherwise both sides get E2E_END.
func (r *Relay) unjoin(j *join, reason onion.MeetReason) {
	svc, client := j.service, j.client
	svc.mu.Lock()
	if svc.joins[j.id] != j {
		svc.mu.Unlock()
		return // already done
	}
	delete(svc.joins, j.id)
	svc.joinShares.give(client.prev.peer)
	accepted := j.accepted
	svc.mu.Unlock()
	client.mu.Lock()
	if client.joined == j {
		client.joined = nil
	}
	client.mu.Unlock()
	if j.timer != nil {
		j.timer.Stop()
	}
	if accepted {
		client.SendMsg(onion.RelayMsg{Cmd: onion.RelayE2EEnd})
	} else {
		client.SendMsg(onion.RelayMsg{Cmd: onion.RelayMeetFailed, Body: []byte{byte(reason)}})
	}
	svc.SendMsg(onion.RelayMsg{Cmd: onion.RelayE2EEnd, Stream: j.id})
}

// serviceMsg handles what a service circuit sends about one of its joins.
func (svc *relayCirc) serviceMsg(m onion.RelayMsg) error {
	svc.mu.Lock()
	j := svc.joins[m.Stream]
	first := j != nil && m.Cmd == onion.RelayAccept && !j.accepted
	if first {
		j.accepted = true
	}
	svc.mu.Unlock()
	if j == nil {
		return nil // the client left already; it was told
	}
	switch m.Cmd {
	case onion.RelayAccept:
		if !first {
			// A confused service: end this client's session, not the circuit
			// that serves every other client.
			svc.r.logger.Info("second ACCEPT for one join; ending that session", "circ", svc.prevID)
			svc.r.unjoin(j, onion.MeetRefused)
			return nil
		}
		j.timer.Stop()
		if err := j.client.SendMsg(onion.RelayMsg{Cmd: onion.RelayMet, Body: m.Body}); err != nil {
			svc.r.unjoin(j, onion.MeetRefused) // the client's circuit died meanwhile
		}
		return nil
	case onion.RelayE2E:
		if !j.accepted {
			return errors.New("E2E before ACCEPT")
		}
		if err := j.client.SendMsg(onion.RelayMsg{Cmd: onion.RelayE2E, Body: m.Body}); err != nil {
			svc.r.unjoin(j, onion.MeetRefused)
		}
		return nil
	case onion.RelayE2EEnd:
		svc.r.unjoin(j, onion.MeetRefused)
		return nil
	}
	return fmt.Errorf("unexpected %v from a service", m.Cmd)
}

// clientMsg handles what a joined client circuit sends.
func (c *relayCirc) clientMsg(m onion.RelayMsg) error {
	c.mu.Lock()
	j := c.joined
	c.mu.Unlock()
	if j == nil {
		return nil // unjoined already; the client was told
	}
	j.service.mu.Lock()
	accepted := j.accepted
	j.service.mu.Unlock()
	switch {
	case m.Cmd == onion.RelayE2EEnd:
		c.r.unjoin(j, onion.MeetRefused)
		return nil
	case m.Cmd == onion.RelayE2E && accepted:
		if err := j.service.SendMsg(onion.RelayMsg{Cmd: onion.RelayE2E, Stream: j.id, Body: m.Body}); err != nil {
			c.r.unjoin(j, onion.MeetRefused)
		}
		return nil
	}
	return fmt.Errorf("unexpected %v from a joined client", m.Cmd)
}

// leaveMeetings undoes the circuit's meeting state when it dies.
func (c *relayCirc) leaveMeetings() {
	c.mu.Lock()
	key, joined := c.serviceKey, c.joined
	joins := make([]*join, 0, len(c.joins))
	for _, j := range c.joins {
		joins = append(joins, j)
	}
	c.mu.Unlock()
	if key != "" {
		c.r.mu.Lock()
		if c.r.meetings[key] == c {
			delete(c.r.meetings, key)
		}
		c.r.mu.Unlock()
	}
	// c is dead already, so addJoin admits no new client meanwhile.
	for _, j := range joins {
		c.r.unjoin(j, onion.MeetRefused)
	}
	if joined != nil {
		c.r.unjoin(joined, onion.MeetRefused)
	}
}
