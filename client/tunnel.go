package client

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// tunnelTimeout bounds one request of the manager's own through the network.
const tunnelTimeout = 30 * time.Second

// TunnelHTTP returns an HTTP client whose connections go through the
// network, on circuits of their own (tag isolates them from everything
// else), so the server it talks to (the directory, for hidden-service
// descriptors) learns nothing of this machine's address. The exit must
// allow the server's address.
func (m *Manager) TunnelHTTP(tag string, timeout time.Duration) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("port %q: %w", port, err)
		}
		return m.DialStream(ctx, DialRequest{Host: host, Port: uint16(p), Isolation: tag})
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:       dial,
			Proxy:             nil, // never an environment proxy: the network is the proxy
			ForceAttemptHTTP2: false,
			IdleConnTimeout:   time.Minute,
		},
	}
}
