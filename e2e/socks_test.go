package e2e

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// SOCKS5 (RFC 1928) bytes used by the raw client below. The Go client in
// x/net/proxy hides reply codes and CloseWrite, which these tests need.
const (
	socksVersion      = 0x05
	socksNoAuth       = 0x00
	socksConnect      = 0x01
	socksATypIPv4     = 0x01
	socksATypFQDN     = 0x03
	socksATypIPv6     = 0x04
	socksSucceeded    = 0x00
	socksConnRefused  = 0x05
	socksReplyTimeout = 90 * time.Second
)

// socksDial connects to host:port through the SOCKS5 proxy at socks and
// returns the reply code; the connection is open only when it is 0.
func socksDial(t *testing.T, socks, host string, port int) (*net.TCPConn, byte) {
	t.Helper()
	return socksOpen(t, socks, func(conn net.Conn) (byte, error) { return socksConnectOn(conn, host, port) })
}

// socksOpen dials the proxy, runs handshake on the conn under
// socksReplyTimeout, and returns the reply code; the connection is open
// (and closed when the test ends) only when that is 0.
func socksOpen(t *testing.T, socks string, handshake func(net.Conn) (byte, error)) (*net.TCPConn, byte) {
	t.Helper()
	c, err := net.Dial("tcp", socks)
	if err != nil {
		t.Fatalf("dial SOCKS %s: %v", socks, err)
	}
	conn := c.(*net.TCPConn)
	conn.SetDeadline(time.Now().Add(socksReplyTimeout))
	rep, err := handshake(conn)
	if err != nil {
		conn.Close()
		t.Fatalf("SOCKS handshake: %v", err)
	}
	conn.SetDeadline(time.Time{})
	if rep != socksSucceeded {
		conn.Close()
		return nil, rep
	}
	t.Cleanup(func() { conn.Close() })
	return conn, rep
}

func socksConnectOn(conn net.Conn, host string, port int) (byte, error) {
	return socksGreetThen(conn, func() (byte, error) { return socksRequestOn(conn, host, port) })
}

// socksGreetThen offers no-auth, checks the choice, and runs request.
func socksGreetThen(conn net.Conn, request func() (byte, error)) (byte, error) {
	if _, err := conn.Write([]byte{socksVersion, 1, socksNoAuth}); err != nil {
		return 0, err
	}
	var method [2]byte
	if _, err := io.ReadFull(conn, method[:]); err != nil {
		return 0, fmt.Errorf("method reply: %w", err)
	}
	if method != [2]byte{socksVersion, socksNoAuth} {
		return 0, fmt.Errorf("method reply %x", method)
	}
	return request()
}

// socksRequestOn sends CONNECT host:port after the method (and any auth)
// exchange and reads the reply, including its bound address.
func socksRequestOn(conn net.Conn, host string, port int) (byte, error) {
	return socksRequestEarly(conn, host, port, nil)
}

// socksRequestEarly is socksRequestOn for an optimistic client: early goes
// in the same write as the request, before the reply.
func socksRequestEarly(conn net.Conn, host string, port int, early []byte) (byte, error) {
	req := []byte{socksVersion, socksConnect, 0}
	if ip := net.ParseIP(host); ip.To4() != nil {
		req = append(append(req, socksATypIPv4), ip.To4()...)
	} else if ip != nil {
		req = append(append(req, socksATypIPv6), ip.To16()...)
	} else {
		req = append(append(req, socksATypFQDN, byte(len(host))), host...)
	}
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	if _, err := conn.Write(append(req, early...)); err != nil {
		return 0, err
	}
	var head [4]byte // version, reply, reserved, address type
	if _, err := io.ReadFull(conn, head[:]); err != nil {
		return 0, fmt.Errorf("connect reply: %w", err)
	}
	if head[0] != socksVersion {
		return 0, fmt.Errorf("connect reply %x", head)
	}
	if head[1] != socksSucceeded {
		return head[1], nil
	}
	var addrLen int
	switch head[3] {
	case socksATypIPv4:
		addrLen = 4
	case socksATypIPv6:
		addrLen = 16
	case socksATypFQDN:
		var l [1]byte
		if _, err := io.ReadFull(conn, l[:]); err != nil {
			return 0, err
		}
		addrLen = int(l[0])
	default:
		return 0, fmt.Errorf("connect reply address type %d", head[3])
	}
	if _, err := io.ReadFull(conn, make([]byte, addrLen+2)); err != nil {
		return 0, fmt.Errorf("bound address: %w", err)
	}
	return socksSucceeded, nil
}

// socksHTTP returns an HTTP client whose every connection goes through the
// SOCKS5 proxy at socks, with host names sent to the proxy unresolved.
func socksHTTP(t *testing.T, socks string, keepAlive bool) *http.Client {
	t.Helper()
	return hiddenHTTP(t, socks, "", "", keepAlive) // no credentials: no SOCKS auth
}

// get fetches url with client, bounded by timeout, and checks the status.
func get(ctx context.Context, client *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return resp, nil
}

// circuit is one entry of the proxy's GET /circuits.
type circuit struct {
	ID   int `json:"id"`
	Path []struct {
		Nickname    string `json:"nickname"`
		Fingerprint string `json:"fingerprint"`
		Address     string `json:"address"`
	} `json:"path"`
	Streams int `json:"streams"`
}

// circuits asks the proxy's status endpoint (directly, not through SOCKS).
func circuits(t *testing.T, status string) []circuit {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp, err := get(ctx, http.DefaultClient, "http://"+status+"/circuits")
	if err != nil {
		t.Fatalf("circuits: %v", err)
	}
	defer resp.Body.Close()
	var cs []circuit
	if err := json.NewDecoder(resp.Body).Decode(&cs); err != nil {
		t.Fatalf("circuits: %v", err)
	}
	return cs
}

// threeHops returns an error unless c runs through three distinct relays.
func threeHops(c circuit) error {
	if len(c.Path) != 3 {
		return fmt.Errorf("circuit %d has %d hops", c.ID, len(c.Path))
	}
	seen := map[string]bool{}
	for _, h := range c.Path {
		if h.Fingerprint == "" || h.Address == "" || seen[h.Fingerprint] {
			return fmt.Errorf("circuit %d: hop %+v empty or repeated", c.ID, h)
		}
		seen[h.Fingerprint] = true
	}
	return nil
}

var errNoCircuit = errors.New("no circuit with an open stream through three distinct relays")
