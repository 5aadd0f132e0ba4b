package procstat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
)

// procHex writes ip as /proc/net/tcp does: each 32-bit word as the host
// reads it, in hex.
func procHex(ip net.IP) string {
	var b strings.Builder
	for i := 0; i < len(ip); i += 4 {
		fmt.Fprintf(&b, "%08X", binary.NativeEndian.Uint32(ip[i:]))
	}
	return b.String()
}

func TestParseNet(t *testing.T) {
	lo := procHex(net.IPv4(127, 0, 0, 1).To4())
	text := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: " + lo + ":1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0 100 0 0 10 0\n" +
		"   1: " + lo + ":D431 " + lo + ":1F90 01 00000000:00000000 00:00000000 00000000  1000        0 23456 1 0 20 4 30 10 -1\n"
	got, err := parseNet("tcp", tcpListen, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Addr() != "127.0.0.1:8080" || got[0].Inode != 12345 || got[0].String() != "tcp 127.0.0.1:8080" {
		t.Errorf("parseNet = %v, want the one listener tcp 127.0.0.1:8080 with inode 12345", got)
	}
	v6 := "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: " + procHex(net.IPv6loopback) + ":0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 777 2 0 0\n"
	if got, err := parseNet("udp6", udpUnconn, v6); err != nil || len(got) != 1 || got[0].Addr() != "[::1]:53" {
		t.Errorf("parseNet(udp6) = %v, %v; want [::1]:53", got, err)
	}
	for name, bad := range map[string]string{
		"short":    "header\n   0: " + lo + ":1F90 00000000:0000 0A\n",
		"bad port": "header\n   0: " + lo + ":XY90 00000000:0000 0A 0 0 0 0 0 12345\n",
		"bad ip":   "header\n   0: 0100:1F90 00000000:0000 0A 0 0 0 0 0 12345\n",
	} {
		if _, err := parseNet("tcp", tcpListen, bad); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
}

func TestParseNetUnix(t *testing.T) {
	text := "Num       RefCount Protocol Flags    Type St Inode Path\n" +
		"0000000000000000: 00000002 00000000 00010000 0001 01 31337 /run/onion.sock\n" +
		"0000000000000000: 00000003 00000000 00000000 0001 03 31338\n" +
		"0000000000000000: 00000002 00000000 00010000 0005 01 31339\n"
	got, err := parseNetUnix(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []Listener{{Proto: "unix", Path: "/run/onion.sock", Inode: 31337}, {Proto: "unix", Inode: 31339}}
	if !slices.EqualFunc(got, want, func(a, b Listener) bool { return a.String() == b.String() && a.Inode == b.Inode }) {
		t.Errorf("parseNetUnix = %v, want %v", got, want)
	}
	if _, err := parseNetUnix("header\n0000: 2 0 1x 1 01 5\n"); !errors.Is(err, ErrFormat) {
		t.Errorf("bad flags: err = %v, want ErrFormat", err)
	}
}

// TestOwnListener finds a listener this test opens among the namespace's
// listeners, and its inode among this process's sockets.
func TestOwnListener(t *testing.T) {
	needProc(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	all, err := Listeners()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(all, func(l Listener) bool { return l.Proto == "tcp" && l.Addr() == ln.Addr().String() })
	if i < 0 {
		t.Fatalf("listener %s not among %d listeners", ln.Addr(), len(all))
	}
	inodes, err := SocketInodes(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !inodes[all[i].Inode] {
		t.Errorf("inode %d of %s not among this process's sockets %v", all[i].Inode, ln.Addr(), inodes)
	}
}
