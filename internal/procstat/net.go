package procstat

// Sockets: the listening ones of /proc/net/{tcp,tcp6,udp,udp6,unix}, and
// which of them a process holds, by the socket:[INODE] links of /proc/PID/fd.

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// Listener is one socket that accepts connections or datagrams from others.
type Listener struct {
	Proto string // tcp, tcp6, udp, udp6, unix
	IP    net.IP
	Port  int
	Path  string // unix; "" for an unnamed or abstract one without a path
	Inode uint64
}

// Addr is "IP:PORT", or the path of a unix socket.
func (l Listener) Addr() string {
	if l.Proto == "unix" {
		return l.Path
	}
	return net.JoinHostPort(l.IP.String(), strconv.Itoa(l.Port))
}

func (l Listener) String() string { return l.Proto + " " + l.Addr() }

// Socket states of /proc/net/{tcp,udp}: TCP_LISTEN, and TCP_CLOSE, which
// for UDP is a socket bound but not connected (it receives from anyone).
// In /proc/net/unix, __SO_ACCEPTCON in the flags marks a listener.
const (
	tcpListen  = "0A"
	udpUnconn  = "07"
	unixAccept = 0x10000
)

// Listeners lists every listening socket of this network namespace: TCP
// sockets in LISTEN, unconnected UDP sockets, and accepting unix sockets.
func Listeners() ([]Listener, error) {
	var all []Listener
	for _, f := range []struct{ proto, state string }{
		{"tcp", tcpListen}, {"tcp6", tcpListen}, {"udp", udpUnconn}, {"udp6", udpUnconn},
	} {
		text, err := readFile("net/" + f.proto)
		if errors.Is(err, os.ErrNotExist) && strings.HasSuffix(f.proto, "6") {
			continue // no IPv6 in this kernel
		}
		if err != nil {
			return nil, err
		}
		l, err := parseNet(f.proto, f.state, text)
		if err != nil {
			return nil, err
		}
		all = append(all, l...)
	}
	text, err := readFile("net/unix")
	if err != nil {
		return nil, err
	}
	l, err := parseNetUnix(text)
	if err != nil {
		return nil, err
	}
	return append(all, l...), nil
}

// SocketInodes returns the inodes of pid's open sockets.
func SocketInodes(pid int) (map[uint64]bool, error) {
	dir := strconv.Itoa(pid) + "/fd"
	entries, err := readDir(dir)
	if err != nil {
		return nil, err
	}
	inodes := map[uint64]bool{}
	for _, e := range entries {
		link, err := readlink(dir + "/" + e.Name())
		if err != nil {
			continue // closed since readDir
		}
		if s, ok := strings.CutPrefix(link, "socket:["); ok {
			if inode, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64); err == nil {
				inodes[inode] = true
			}
		}
	}
	return inodes, nil
}

// parseNet parses /proc/net/PROTO, "sl local_address rem_address st ...
// inode", keeping the sockets in state. Addresses are hex IP:PORT, the IP
// in 32-bit words of host byte order.
func parseNet(proto, state, text string) ([]Listener, error) {
	var out []Listener
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			return nil, fmt.Errorf("%w: /proc/net/%s: short line %q", ErrFormat, proto, sc.Text())
		}
		if f[3] != state {
			continue
		}
		hostHex, portHex, ok := strings.Cut(f[1], ":")
		raw, err1 := hex.DecodeString(hostHex)
		port, err2 := strconv.ParseUint(portHex, 16, 16)
		inode, err3 := strconv.ParseUint(f[9], 10, 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil || len(raw)%4 != 0 {
			return nil, fmt.Errorf("%w: /proc/net/%s: cannot parse %q", ErrFormat, proto, sc.Text())
		}
		ip := make(net.IP, len(raw))
		for i := 0; i < len(raw); i += 4 {
			binary.NativeEndian.PutUint32(ip[i:], binary.BigEndian.Uint32(raw[i:]))
		}
		out = append(out, Listener{Proto: proto, IP: ip, Port: int(port), Inode: inode})
	}
	return out, sc.Err()
}

// parseNetUnix parses /proc/net/unix, "Num RefCount Protocol Flags Type
// St Inode [Path]", keeping the listening sockets.
func parseNetUnix(text string) ([]Listener, error) {
	var out []Listener
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 7 {
			return nil, fmt.Errorf("%w: /proc/net/unix: short line %q", ErrFormat, sc.Text())
		}
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		inode, err2 := strconv.ParseUint(f[6], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%w: /proc/net/unix: cannot parse %q", ErrFormat, sc.Text())
		}
		if flags&unixAccept == 0 {
			continue
		}
		l := Listener{Proto: "unix", Inode: inode}
		if len(f) > 7 {
			l.Path = f[7]
		}
		out = append(out, l)
	}
	return out, sc.Err()
}
