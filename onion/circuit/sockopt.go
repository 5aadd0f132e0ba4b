package circuit

import "net"

// notSentLowat is how much unsent data a link's socket may hold (see
// tuneSocket): about eight full cells, enough to keep a loopback or LAN
// path busy between two wake-ups of the writer.
const notSentLowat = 128 << 10

// tcpConn finds the TCP socket under conn: conn itself, or the conn that a
// wrapper such as *tls.Conn exposes with NetConn, however deep.
func tcpConn(conn net.Conn) (*net.TCPConn, bool) {
	for range 4 {
		switch c := conn.(type) {
		case *net.TCPConn:
			return c, true
		case interface{ NetConn() net.Conn }:
			conn = c.NetConn()
		default:
			return nil, false
		}
	}
	return nil, false
}
