package client

// Client authorization (PROTOCOL.md §11.9): a service that admits only the
// clients whose keys it lists seals its meeting points to those keys.

import (
	"errors"

	"onion/onion"
)

// Why a descriptor sealed to authorized clients could not be opened; they
// wrap ErrClientAuthMissing and ErrClientAuthWrong (SOCKS 0xF4, 0xF5).
var (
	errNoClientKey    = errors.New("the onion service requires a client key, and none is configured for its address")
	errWrongClientKey = errors.New("the onion service does not accept the client key configured for its address")
)

// openDescriptor opens a descriptor sealed to authorized clients with the
// key for host; other descriptors pass as they are.
func (m *Manager) openDescriptor(d onion.ServiceDescriptor, host string) (onion.ServiceDescriptor, error) {
	out, err := d.OpenForClient(m.cfg.ClientKeys[host])
	switch {
	case errors.Is(err, onion.ErrClientAuthRequired):
		m.logger.Info("onion service requires a client key; none configured")
		return out, onionErr(onion.EndResolve, ErrClientAuthMissing, errNoClientKey)
	case err != nil:
		m.logger.Info("onion service does not accept the configured client key")
		return out, onionErr(onion.EndResolve, ErrClientAuthWrong, errWrongClientKey)
	}
	return out, nil
}
