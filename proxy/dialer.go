package proxy

import (
	"context"
	"net"

	"onion/client"
)

// StreamDialer opens a stream through the network. The circuit manager,
// client.Manager, implements it.
//
// DialStream is called concurrently, once per CONNECT. It must return when
// ctx is done (the connect timeout, or SOCKSServer.Close). The conn it
// returns should implement CloseWrite() error so that half-closes reach the
// destination. When the exit or the network refused the stream it returns an
// *client.OpenError, which decides the SOCKS reply code; any other error is answered
// "general failure", except a context deadline ("TTL expired").
type StreamDialer interface {
	DialStream(ctx context.Context, req client.DialRequest) (net.Conn, error)
}
