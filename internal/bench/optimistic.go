package bench

// An optimistic SOCKS5 client, as Tor Browser is: it sends its HTTP request
// right behind the CONNECT request, without waiting for the reply (Tor's
// "optimistic data", proposal 181). The onion proxy sends such bytes behind
// BEGIN, which saves one trip through the circuit; a plain proxy has no
// such trip to save.

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// ttfbOptimistic is ttfb through the SOCKS5 proxy at socks for an
// optimistic client: the time from dialling the proxy to the first byte
// of the response to GET path from addr (host:port, IPv4), whose body it
// reads to the end. user, if not empty, is sent as the SOCKS username
// (with an empty password), which picks the onion proxy's circuit.
func ttfbOptimistic(ctx context.Context, socks, user, addr, path string) (float64, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	ip := net.ParseIP(host).To4()
	port, err := strconv.Atoi(portStr)
	if ip == nil || err != nil {
		return 0, fmt.Errorf("optimistic client: %q is not IPv4 host:port", addr)
	}
	start := time.Now()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", socks)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	br := bufio.NewReader(c)
	method := byte(0)
	if user != "" {
		method = 2
	}
	if _, err := c.Write([]byte{5, 1, method}); err != nil {
		return 0, err
	}
	var sel [2]byte
	if _, err := io.ReadFull(br, sel[:]); err != nil || sel != [2]byte{5, method} {
		return 0, fmt.Errorf("SOCKS method reply %x, %v", sel, err)
	}
	if user != "" {
		auth := append([]byte{1, byte(len(user))}, user...)
		if _, err := c.Write(append(auth, 0)); err != nil { // an empty password, as the other figures' clients send
			return 0, err
		}
		var st [2]byte
		if _, err := io.ReadFull(br, st[:]); err != nil || st[1] != 0 {
			return 0, fmt.Errorf("SOCKS auth reply %x, %v", st, err)
		}
	}
	req := append([]byte{5, 1, 0, 1}, ip...)
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	get := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n"
	if _, err := c.Write(append(req, get...)); err != nil { // request and data in one write
		return 0, err
	}
	var rep [10]byte // VER REP RSV ATYP=1 BND.ADDR(4) BND.PORT(2)
	if _, err := io.ReadFull(br, rep[:]); err != nil {
		return 0, fmt.Errorf("SOCKS reply: %w", err)
	}
	if rep[1] != 0 {
		return 0, fmt.Errorf("SOCKS reply %#x", rep[1])
	}
	if _, err := br.Peek(1); err != nil {
		return 0, fmt.Errorf("response: %w", err)
	}
	first := time.Since(start)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, err
	}
	if err := drainOK(resp, path); err != nil {
		return 0, err
	}
	return first.Seconds(), nil
}
