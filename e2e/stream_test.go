package e2e

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestHalfClose: a client that sends its request, shuts down its sending
// side, and then reads still gets the whole answer, and the server's close
// reaches the client as EOF.
func TestHalfClose(t *testing.T) {
	_, info := startUp(t, "--relays", "3", "--exits", "1")
	port := startTCPServer(t, countUntilEOF)
	n := 4<<20 + 7 // not a multiple of any cell or window size
	if testing.Short() {
		n = 256<<10 + 7
	}

	conn, rep := socksDial(t, info.Socks, "127.0.0.1", port)
	if rep != socksSucceeded {
		t.Fatalf("SOCKS CONNECT reply %#x", rep)
	}
	conn.SetDeadline(time.Now().Add(3 * time.Minute))
	data := pseudoRandom(n, 2)
	if _, err := conn.Write(data); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := conn.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	answer, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("read answer: %v (got %q)", err, answer)
	}
	if want := strconv.Itoa(n) + "\n"; string(answer) != want {
		t.Fatalf("answer %q, want %q", answer, want)
	}
}

// TestSOCKSErrors: a refused connection gets the SOCKS5 reply "connection
// refused"; a refused SOCKS4 client, an HTTP request that is not a proxy
// request and a truncated greeting get a prompt answer or close; and the
// proxy keeps working for everyone else.
func TestSOCKSErrors(t *testing.T) {
	_, info := startUp(t, "--relays", "3", "--exits", "1")

	t.Run("refused", func(t *testing.T) {
		start := time.Now()
		if _, rep := socksDial(t, info.Socks, "127.0.0.1", closedPort(t)); rep != socksConnRefused {
			t.Errorf("CONNECT to a closed port: reply %#x, want %#x (connection refused)", rep, socksConnRefused)
		}
		t.Logf("refused in %v", time.Since(start).Round(time.Millisecond))
	})

	bad := []struct {
		name, send string
		clear      func([]byte) bool // whether the answer tells the client what went wrong
	}{
		// SOCKS4 CONNECT to a closed port on 127.0.0.1, user id "": want a
		// SOCKS4 "request rejected" (0x5b), which SOCKS4 clients print.
		{"socks4", string(binary.BigEndian.AppendUint16([]byte{4, 1}, uint16(closedPort(t)))) + "\x7f\x00\x00\x01\x00",
			func(b []byte) bool { return len(b) >= 2 && b[0] == 0 && b[1] == 0x5b }},
		// An HTTP request that is not a proxy request (origin form): want an
		// HTTP error saying how to use the proxy.
		{"http", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
			func(b []byte) bool {
				return bytes.HasPrefix(b, []byte("HTTP/1.1 400")) && bytes.Contains(b, []byte("CONNECT"))
			}},
		// A greeting cut short: the proxy just closes.
		{"truncated", "\x05\x02\x00", func([]byte) bool { return true }},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			answer := sendAndClose(t, info.Socks, b.send)
			t.Logf("the proxy answered %q and closed", answer)
			if !b.clear(answer) {
				t.Errorf("unclear answer to a %s client: %q", b.name, answer)
			}
		})
	}

	t.Run("still works", func(t *testing.T) {
		port := startTCPServer(t, echo)
		conn, rep := socksDial(t, info.Socks, "localhost", port)
		if rep != socksSucceeded {
			t.Fatalf("CONNECT after bad clients: reply %#x", rep)
		}
		conn.SetDeadline(time.Now().Add(time.Minute))
		msg := []byte("still here")
		conn.Write(msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo: %q, %v", got, err)
		}
	})
}

// sendAndClose writes send to the SOCKS port and reads whatever comes back
// until the proxy closes the connection, which it must do promptly. With
// "truncated" the client shuts down its side first: the proxy sees EOF.
func sendAndClose(t *testing.T, socks, send string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", socks)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, send); err != nil {
		t.Fatal(err)
	}
	if send[0] == socksVersion {
		c.(*net.TCPConn).CloseWrite()
	}
	var answer bytes.Buffer
	_, err = io.Copy(&answer, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the proxy neither answered nor closed within 10s (got %q)", answer.Bytes())
	}
	// A reset after the answer is a close too.
	return answer.Bytes()
}

// TestOptimisticData: a client that sends data right behind its CONNECT
// request, before the reply (as Tor Browser does), gets it through: the
// proxy sends it behind BEGIN and the exit passes it on once connected. A
// destination that refuses still gets the SOCKS refusal, not a success.
func TestOptimisticData(t *testing.T) {
	_, info := startUp(t, "--relays", "3", "--exits", "1")
	port := startTCPServer(t, echo)
	early := []byte("sent before the reply\n")
	conn, rep := socksOpen(t, info.Socks, func(c net.Conn) (byte, error) {
		return socksGreetThen(c, func() (byte, error) { return socksRequestEarly(c, "127.0.0.1", port, early) })
	})
	if rep != socksSucceeded {
		t.Fatalf("SOCKS reply %#x", rep)
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	got := make([]byte, len(early))
	if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, early) {
		t.Fatalf("echo of the early data: %q, %v", got, err)
	}
	// The stream goes on as any other.
	if _, err := conn.Write([]byte("and after\n")); err != nil {
		t.Fatal(err)
	}
	got = make([]byte, len("and after\n"))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != "and after\n" {
		t.Fatalf("echo after: %q, %v", got, err)
	}

	_, rep = socksOpen(t, info.Socks, func(c net.Conn) (byte, error) {
		return socksGreetThen(c, func() (byte, error) { return socksRequestEarly(c, "127.0.0.1", closedPort(t), early) })
	})
	if rep != 0x05 {
		t.Fatalf("refused destination with early data: reply %#x, want 0x05", rep)
	}
}

// TestEarlyReply: a destination reached once is answered at once the next
// time. When it has gone away meanwhile, that early success is followed by
// a reset (never a clean end that would pass for an empty answer), and
// the next CONNECT waits for the exit and gets "connection refused".
func TestEarlyReply(t *testing.T) {
	_, info := startUp(t, "--relays", "3", "--exits", "1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); echo(c) }()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	for i := range 2 { // the first waits for CONNECTED, the second is early
		conn, rep := socksDial(t, info.Socks, "127.0.0.1", port)
		if rep != socksSucceeded {
			t.Fatalf("CONNECT %d: reply %#x", i+1, rep)
		}
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		conn.Write([]byte("ping\n"))
		got := make([]byte, 5)
		if _, err := io.ReadFull(conn, got); err != nil || string(got) != "ping\n" {
			t.Fatalf("echo %d: %q, %v", i+1, got, err)
		}
		conn.Close()
	}

	ln.Close()
	conn, rep := socksDial(t, info.Socks, "127.0.0.1", port)
	if rep != socksSucceeded {
		t.Fatalf("CONNECT to a reached destination that went away: reply %#x, want an early success", rep)
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	conn.Write([]byte("ping\n"))
	if n, err := conn.Read(make([]byte, 16)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after the exit was refused: %d bytes, %v; want a reset", n, err)
	}
	if _, rep := socksDial(t, info.Socks, "127.0.0.1", port); rep != socksConnRefused {
		t.Fatalf("the next CONNECT: reply %#x, want %#x (connection refused)", rep, socksConnRefused)
	}
}
