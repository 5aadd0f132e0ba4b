package hiddenserver

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onion/onion"
)

func testPub() ed25519.PublicKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32)).Public().(ed25519.PublicKey)
}

// TestAddUserStoresVerifiersOnly: the users file is 0600, holds a verifier
// that answers the challenge for the right password only, and never the
// password itself.
func TestAddUserStoresVerifiersOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	if err := AddUser(path, testPub(), "alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(path, testPub(), "bob", "hunter2"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("users file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("correct horse")) || bytes.Contains(raw, []byte("hunter2")) {
		t.Fatal("users file contains a password")
	}
	u, err := LoadUsers(path)
	if err != nil || u.Len() != 2 {
		t.Fatalf("LoadUsers: %d users, %v", u.Len(), err)
	}
	v, known := u.verifier("alice")
	want, _ := onion.DeriveVerifier(testPub(), "alice", "correct horse battery", u.LogN())
	if !known || !bytes.Equal(v, want) {
		t.Fatal("stored verifier does not match the password")
	}
	if _, known := u.verifier("mallory"); known {
		t.Fatal("unknown user reported as known")
	}
	// Changing a password replaces the line.
	if err := AddUser(path, testPub(), "alice", "new one"); err != nil {
		t.Fatal(err)
	}
	u, _ = LoadUsers(path)
	v, _ = u.verifier("alice")
	if bytes.Equal(v, want) || u.Len() != 2 {
		t.Fatal("password change did not replace the verifier")
	}
}

func TestLoadUsersRefuses(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := AddUser(good, testPub(), "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadUsers(good); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable users file: %v", err)
	}
	for name, content := range map[string]string{
		"empty":     "# nothing\n",
		"fields":    "alice 15\n",
		"cost":      "alice 99 AAAA\n",
		"verifier":  "alice 15 not-base64!\n",
		"duplicate": "a 15 " + strings.Repeat("A", 43) + "=\na 15 " + strings.Repeat("A", 43) + "=\n",
		"mixedcost": "a 15 " + strings.Repeat("A", 43) + "=\nb 14 " + strings.Repeat("A", 43) + "=\n",
		"badname":   "al ice 15 x\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := LoadUsers(p); err == nil {
			t.Errorf("%s: LoadUsers accepted %q", name, content)
		}
	}
}

// TestLinksRefuseDangerousURLs: a links file can only name http and https
// URLs of public hosts, and the built-in links obey the same rule.
func TestLinksRefuseDangerousURLs(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("# comment\nhome https://example.org/\nrfc https://www.rfc-editor.org/x\n"), 0o644)
	links, err := LoadLinks(ok)
	if err != nil || len(links) != 2 || links["home"] != "https://example.org/" {
		t.Fatalf("LoadLinks = %v, %v", links, err)
	}
	for _, bad := range []string{
		"x file:///etc/passwd", "x javascript:alert(1)", "x data:text/html,hi", "x ftp://a/",
		"x https://user:pw@a/", "bad/name https://a/", "onlyname", "x https://a/" + strings.Repeat("a", onion.MaxURLLen),
		"x http://127.0.0.1:8080/", "x http://localhost/", "x http://192.168.1.1/",
	} {
		p := filepath.Join(dir, "bad")
		os.WriteFile(p, []byte(bad+"\n"), 0o644)
		if _, err := LoadLinks(p); err == nil {
			t.Errorf("LoadLinks accepted %q", bad)
		}
	}
	for name, u := range DefaultLinks() {
		if err := onion.CheckURL(u); err != nil || !validName(name) {
			t.Errorf("default link %s %s: %v", name, u, err)
		}
	}
}
