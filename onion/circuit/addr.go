package circuit

import "net"

// anonAddr is what a stream reports as its local address: a *net.TCPAddr
// (go-socks5 type-asserts it) that reveals nothing.
var anonAddr = &net.TCPAddr{IP: net.IPv4zero, Port: 0}

// StreamAddr names the far end of a stream: the host:port it was opened to.
type StreamAddr string

// Network is "onion".
func (StreamAddr) Network() string { return "onion" }

func (a StreamAddr) String() string { return string(a) }
