package hiddenserver

import (
	"context"
	"time"

	"onion/onion"
)

// fillMeetingPoints drops dead meeting circuits and builds new ones until
// there are enough. It reports whether the set changed.
func (s *Server) fillMeetingPoints(ctx context.Context) bool {
	changed := s.dropDead()
	for s.count() < s.cfg.MeetingPoints && ctx.Err() == nil {
		relay, ok := s.pickMeetingRelay()
		if !ok {
			s.logger.Warn("no relay left to use as a meeting point", "have", s.count(), "want", s.cfg.MeetingPoints)
			return changed
		}
		if err := s.establish(ctx, relay); err != nil {
			s.logger.Warn("could not establish at meeting relay", "relay", relay.Nickname, "err", err)
			return changed // retried after rebuildBackoff
		}
		changed = true
	}
	return changed
}

func (s *Server) dropDead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for fp, mc := range s.meeting {
		select {
		case <-mc.c.Done():
			s.logger.Info("meeting circuit closed; moving on", "relay", mc.relay.Nickname, "err", mc.c.Err())
			delete(s.meeting, fp)
			changed = true
		default:
		}
	}
	return changed
}

func (s *Server) pickMeetingRelay() (onion.RelayDescriptor, bool) {
	s.mu.Lock()
	var free []onion.RelayDescriptor
	for _, d := range s.cfg.Builder.Relays() {
		if s.meeting[d.Fingerprint()] == nil {
			free = append(free, d)
		}
	}
	s.mu.Unlock()
	if len(free) == 0 {
		return onion.RelayDescriptor{}, false
	}
	return free[randIntn(len(free))], true
}

func (s *Server) establish(ctx context.Context, relay onion.RelayDescriptor) error {
	bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, path, err := s.cfg.Builder.BuildCircuit(bctx, &relay)
	if err != nil {
		return err
	}
	if err := c.Establish(bctx, s.svc, relay.IdentityKey); err != nil {
		c.Close()
		return err
	}
	s.mu.Lock()
	s.meeting[relay.Fingerprint()] = &meetingCirc{relay: relay, c: c, path: path, since: s.cfg.Now()}
	s.mu.Unlock()
	names := make([]string, len(path))
	for i, d := range path {
		names[i] = d.Nickname
	}
	s.logger.Info("established at meeting relay", "relay", relay.Nickname, "path", names)
	return nil
}

// Descriptor is the service's signed descriptor for its current meeting relays.
func (s *Server) Descriptor() onion.ServiceDescriptor {
	s.mu.Lock()
	d := onion.ServiceDescriptor{
		E2EKey:    s.cfg.E2EKey.PublicKey().Bytes(),
		Published: s.cfg.Now().Unix(),
	}
	for _, mc := range s.meeting {
		r := mc.relay
		d.MeetingPoints = append(d.MeetingPoints, onion.MeetingPoint{
			Nickname: r.Nickname, Address: r.Address, IdentityKey: r.IdentityKey, OnionKey: r.OnionKey,
		})
	}
	s.mu.Unlock()
	if len(s.cfg.Clients) > 0 {
		keys := make([][]byte, len(s.cfg.Clients))
		for i, c := range s.cfg.Clients {
			keys[i] = c.Key
		}
		// Only fails for a bad key, which LoadClients refuses, or no entropy.
		if err := d.SealForClients(nil, s.cfg.E2EKey, s.pub, keys); err != nil {
			// Never in clear: without meeting points no directory takes it.
			s.logger.Error("sealing the descriptor for the authorized clients failed", "err", err)
			d.MeetingPoints, d.E2EKey = nil, nil
		}
	}
	d.Sign(s.cfg.Key)
	return d
}

// publish sends the current descriptor; it reports whether the directory
// took it (false means: try again soon).
func (s *Server) publish(ctx context.Context) bool {
	if s.count() == 0 || s.cfg.Directory == nil {
		return s.cfg.Directory == nil
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.cfg.Directory.PublishService(pctx, s.Descriptor()); err != nil {
		if ctx.Err() == nil {
			if hint := publishHint(err); hint != "" {
				s.logger.Warn("publishing service descriptor failed; will retry", "err", err, "in", rebuildBackoff, "fix", hint)
			} else {
				s.logger.Warn("publishing service descriptor failed; will retry", "err", err, "in", rebuildBackoff)
			}
		}
		return false
	}
	s.logger.Debug("service descriptor published", "meeting_points", s.count())
	s.readyOnce.Do(func() { close(s.ready) })
	return true
}
