//go:build linux

package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The prompts of a standalone `onion proxy` on its own terminal, as a
// person meets them: one `onion up` gives the network (its proxy is not
// used), and each subtest starts a fresh proxy on a pseudo-terminal, so
// that no login is cached from the one before. Budget: 60 s.

// startProxyOnPTY runs `onion proxy` against n's directory on a terminal
// and returns it with its SOCKS address.
func startProxyOnPTY(t *testing.T, n *hiddenNet, args ...string) (*ptyProc, string) {
	t.Helper()
	p := startOnPTY(t, append([]string{"proxy", "--socks", "127.0.0.1:0", "--status", "",
		"--directory", n.Directory, "--directory-key", n.DirectoryKey}, args...)...)
	p.expect(t, "proxy ready socks=", readyTimeout)
	socks := strings.Fields(p.expect(t, " ", readyTimeout))[0]
	return p, socks
}

// dialAsync opens a SOCKS CONNECT to host:80 without credentials and
// sends its reply code (0xff if the handshake failed); the conn is closed
// when the test ends.
func dialAsync(t *testing.T, socks, host string) (net.Conn, <-chan byte) {
	t.Helper()
	conn, err := net.Dial("tcp", socks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	reply := make(chan byte, 1)
	go func() {
		conn.SetDeadline(time.Now().Add(promptTimeout))
		rep, err := socksConnectOn(conn, host, 80)
		if err != nil {
			rep = 0xff
		}
		reply <- rep
	}()
	return conn, reply
}

func wantReply(t *testing.T, what string, reply <-chan byte, want byte) {
	t.Helper()
	select {
	case rep := <-reply:
		if rep != want {
			t.Errorf("%s: SOCKS reply 0x%02x, want 0x%02x", what, rep, want)
		}
	case <-time.After(promptTimeout):
		t.Fatalf("%s: no SOCKS reply", what)
	}
}

// onOwnLine fails unless what a prompt followed ends a line.
func onOwnLine(t *testing.T, before string) {
	t.Helper()
	if before != "" && !strings.HasSuffix(before, "\n") {
		t.Errorf("a prompt does not start a line of its own: after %q", before[max(0, len(before)-80):])
	}
}

func TestProxyPrompts(t *testing.T) {
	bin := t.TempDir() // a recording xdg-open: no real browser opens
	record := filepath.Join(bin, "opened")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + record + "'\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	n := startHiddenUp(t, upOptions{})
	addr := n.OnionAddress
	userQ := "User name for " + addr + ": "
	passQ := "Password for " + n.DemoUser + " at " + addr + ": "

	// Three requests at once: one login is asked, once, and serves all.
	t.Run("one at a time", func(t *testing.T) {
		p, socks := startProxyOnPTY(t, n)
		var replies []<-chan byte
		for range 3 {
			_, r := dialAsync(t, socks, addr)
			replies = append(replies, r)
		}
		onOwnLine(t, p.expect(t, userQ, promptTimeout))
		p.Send(n.DemoUser + "\n")
		onOwnLine(t, p.expect(t, passQ, promptTimeout))
		p.Send(n.DemoPassword + "\n")
		for i, r := range replies {
			wantReply(t, "request "+string(rune('1'+i)), r, socksSucceeded)
		}
		if c := strings.Count(p.Output(), "User name for"); c != 1 {
			t.Errorf("asked for the user name %d times:\n%s", c, p.Output())
		}
	})

	// A wrong password says so and asks for the password again, not the
	// user name.
	t.Run("wrong password", func(t *testing.T) {
		p, socks := startProxyOnPTY(t, n)
		_, reply := dialAsync(t, socks, addr)
		p.expect(t, userQ, promptTimeout)
		p.Send(n.DemoUser + "\n")
		p.expect(t, passQ, promptTimeout)
		p.Send("not-the-password\n")
		before := p.expect(t, "Wrong password. "+passQ, promptTimeout)
		if strings.Contains(before, "User name") {
			t.Errorf("asked for the user name again before the password:\n%s", before)
		}
		onOwnLine(t, before)
		p.Send(n.DemoPassword + "\n")
		wantReply(t, "after the right password", reply, socksSucceeded)
	})

	// A prompt whose SOCKS client hangs up is withdrawn; the next takes
	// the next answer.
	t.Run("client gone", func(t *testing.T) {
		p, socks := startProxyOnPTY(t, n)
		conn, _ := dialAsync(t, socks, addr)
		p.expect(t, userQ, promptTimeout)
		conn.Close()
		p.expect(t, "(withdrawn: the request that asked has gone)", promptTimeout)
		_, reply := dialAsync(t, socks, addr)
		onOwnLine(t, p.expect(t, userQ, promptTimeout))
		p.Send(n.DemoUser + "\n")
		p.expect(t, passQ, promptTimeout)
		p.Send(n.DemoPassword + "\n")
		wantReply(t, "the next request", reply, socksSucceeded)
	})

	// A URL question left open gives way to a login: what is typed next
	// goes to the login, and the URL is not opened.
	t.Run("stale URL prompt", func(t *testing.T) {
		p, socks := startProxyOnPTY(t, n, "--open-urls", "ask")
		if _, err := fetch(t, hiddenHTTP(t, socks, n.DemoUser, n.DemoPassword, false), "GET", n.url("/open/tor"), nil, promptTimeout); err != nil {
			t.Fatalf("GET /open/tor: %v", err)
		}
		p.expect(t, "Open? [y/N] ", promptTimeout)
		_, reply := dialAsync(t, socks, addr)
		p.expect(t, "(withdrawn: another question came first)", promptTimeout)
		p.expect(t, userQ, promptTimeout)
		p.Send(n.DemoUser + "\n")
		p.expect(t, passQ, promptTimeout)
		p.Send(n.DemoPassword + "\n")
		wantReply(t, "the login after the URL question", reply, socksSucceeded)
		if b, err := os.ReadFile(record); err == nil {
			t.Errorf("opened %q", b)
		}
	})
}
