package proxy

import (
	"io"
	"net"
)

// splice copies between an application conn and its stream until both
// directions end, half-closing each at its EOF (tailscale's
// socks5.handleTCP shape). app's CloseWrite and Close decide a reset when
// the stream failed (socksConn, tunnelConn). A failed direction ends both.
func splice(app, stream net.Conn) {
	errc := make(chan error, 2)
	go func() {
		_, err := io.Copy(stream, app)
		if err == nil {
			closeWrite(stream)
		}
		errc <- err
	}()
	go func() {
		_, err := io.Copy(app, stream)
		if err == nil {
			err = closeWrite(app)
		}
		errc <- err
	}()
	for range 2 {
		if err := <-errc; err != nil {
			app.Close()
			stream.Close()
		}
	}
}
