package client

import (
	"time"

	"onion/onion"
)

// listExpiredLocked reports whether the relay list held is past its
// validity window (with the clock skew lists allow): its relays may have
// left, and an attacker who can block fresh lists could otherwise keep a
// client on an old one forever. It logs that once per list, clearly. A
// list with no window (ValidUntil 0, tests' doubles) never expires.
func (m *Manager) listExpiredLocked(now time.Time) bool {
	if m.expires.Unix() <= 0 || !now.After(m.expires.Add(onion.MaxClockSkew)) {
		return false
	}
	if !m.expiryLogged {
		m.expiryLogged = true
		m.logger.Error("the relay list has expired and no fresh one could be verified: refusing to build circuits with it",
			"expired", m.expires.UTC().Format(time.RFC3339))
	}
	return true
}
