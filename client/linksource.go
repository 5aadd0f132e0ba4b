package client

import (
	"context"
	"net"

	"onion/internal/sockopt"
)

// DialFrom returns a Config.DialLink that opens links from the local IP
// address source, or nil (the default dialer) when source is empty. Tests
// that play several users on one machine give each proxy its own loopback
// address with it, so that relays can tell them apart.
func DialFrom(source string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if source == "" {
		return nil
	}
	d := sockopt.Dialer()
	d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	return sockopt.Dial(d)
}
