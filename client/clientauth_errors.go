package client

// Client authorization (PROTOCOL.md §11.9): a service that admits only the
// clients whose keys it lists seals its meeting points to those keys.

import (
	"errors"

	"onion/onion"
)

// Errors of a stream to a service that admits authorized clients only
// (SOCKS extended codes 0xF4 and 0xF5, as Tor's).
var (
	// ErrClientAuthMissing: no client key is configured for the address.
	ErrClientAuthMissing = errors.New("client: the onion service requires a client key, and none is configured for its address")
	// ErrClientAuthWrong: the configured key is not one the service lists.
	ErrClientAuthWrong = errors.New("client: the onion service does not accept the client key configured for its address")
)

// openDescriptor opens a descriptor sealed to authorized clients with the
// key for host; other descriptors pass as they are.
func (m *Manager) openDescriptor(d onion.ServiceDescriptor, host string) (onion.ServiceDescriptor, error) {
	out, err := d.OpenForClient(m.cfg.ClientKeys[host])
	switch {
	case errors.Is(err, onion.ErrClientAuthRequired):
		m.logger.Info("onion service requires a client key; none configured")
		return out, &OpenError{Reason: onion.EndResolve, Err: ErrClientAuthMissing}
	case err != nil:
		m.logger.Info("onion service does not accept the configured client key")
		return out, &OpenError{Reason: onion.EndResolve, Err: ErrClientAuthWrong}
	}
	return out, nil
}
