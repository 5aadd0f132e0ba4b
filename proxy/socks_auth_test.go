package proxy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSOCKSAccounts writes an accounts file with mode perm.
func writeSOCKSAccounts(t *testing.T, text string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "socks-accounts")
	if err := os.WriteFile(path, []byte(text), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

// TestSOCKSAuthRequired: with --socks-auth, only an account opens the
// port. A wrong password, an unknown user and a client offering no
// username/password are refused before any request reaches the network
// (RFC 1929 failure, or "no acceptable methods"), and closed. The right
// account gets through; its name isolates its streams and, unlike a SOCKS
// password without --socks-auth, is no hidden-service login.
func TestSOCKSAuthRequired(t *testing.T) {
	users, err := LoadSOCKSUsers(writeSOCKSAccounts(t, "# who may use the proxy\nalice s3cret pass\nbob other\n", 0o600))
	if err != nil {
		t.Fatal(err)
	}
	d := socksEchoDialer(t)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d, Users: users})

	for _, tc := range []struct{ name, user, pass string }{
		{"wrong password", "alice", "s3cret"},
		{"unknown user", "carol", "s3cret pass"},
		{"another's password", "bob", "s3cret pass"},
	} {
		c := socksDialRaw(t, ts.addr)
		if m := socksGreet(t, c, 0x00, 0x02); m != 0x02 {
			t.Fatalf("%s: method 0x%02x, want 0x02", tc.name, m)
		}
		socksWrite(t, c, socksUserPass(tc.user, tc.pass))
		if r := socksRead(t, c, 2); r[0] != 1 || r[1] == 0 {
			t.Errorf("%s: auth reply %x, want an RFC 1929 failure", tc.name, r)
		}
		socksExpectClosed(t, c)
	}
	c := socksDialRaw(t, ts.addr)
	if m := socksGreet(t, c, 0x00); m != 0xff {
		t.Errorf("no-auth only: method 0x%02x, want 0xff (no acceptable methods)", m)
	}
	socksExpectClosed(t, c)
	if n := len(d.requests()); n != 0 {
		t.Fatalf("%d requests reached the dialer without an account", n)
	}

	c = socksDialRaw(t, ts.addr)
	if m := socksGreet(t, c, 0x00, 0x02); m != 0x02 {
		t.Fatalf("method 0x%02x, want 0x02", m)
	}
	socksWrite(t, c, socksUserPass("alice", "s3cret pass"))
	if r := socksRead(t, c, 2); r[0] != 1 || r[1] != 0 {
		t.Fatalf("right account: auth reply %x", r)
	}
	socksWrite(t, c, socksRequest(1, "example.com", 80))
	if rep, _ := socksReadReply(t, c); rep != 0 {
		t.Fatalf("right account: reply 0x%02x", rep)
	}
	socksEcho(t, c, "hi")
	req := d.last(t)
	if req.Username != "" || req.Password != "" || !strings.Contains(req.Isolation, "alice") {
		t.Errorf("request %+v: want the account as isolation and no login", req)
	}
}

// TestLoadSOCKSUsers: a file others can read, an empty one, a line
// without a password and a user listed twice are refused, without
// quoting the line.
func TestLoadSOCKSUsers(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		perm       os.FileMode
	}{
		{"readable by others", "alice pw\n", 0o644},
		{"no accounts", "# nothing\n\n", 0o600},
		{"no password", "alice-secret\n", 0o600},
		{"twice", "alice pw\nalice pw2\n", 0o600},
	} {
		_, err := LoadSOCKSUsers(writeSOCKSAccounts(t, tc.text, tc.perm))
		if err == nil {
			t.Errorf("%s: loaded", tc.name)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error quotes the file: %v", tc.name, err)
		}
	}
}
