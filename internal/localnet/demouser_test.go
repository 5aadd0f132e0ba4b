package localnet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onion/hiddenserver"
)

// TestDemoUserIdempotent: the password is made once and kept; the users
// entry is there after every call, even when the users file was deleted.
func TestDemoUserIdempotent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hiddenserver")
	user, pw, err := demoUser(dir)
	if err != nil {
		t.Fatal(err)
	}
	if user != "demo" || len(pw) < 12 {
		t.Errorf("demoUser = %q, %q", user, pw)
	}
	kept, err := os.ReadFile(filepath.Join(dir, passwordFile))
	if err != nil || strings.TrimSpace(string(kept)) != pw {
		t.Errorf("password file %q, %v; want %q", kept, err, pw)
	}
	if st, err := os.Stat(filepath.Join(dir, passwordFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("password file mode: %v", err)
	}
	usersPath := filepath.Join(dir, usersFile)
	if err := os.Remove(usersPath); err != nil {
		t.Fatal(err)
	}
	_, again, err := demoUser(dir)
	if err != nil || again != pw {
		t.Errorf("second demoUser = %q, %v; want the kept password %q", again, err, pw)
	}
	users, err := hiddenserver.LoadUsers(usersPath)
	if err != nil || users.Len() != 1 {
		t.Errorf("users file after the second call: %v users, %v; want the demo user", users, err)
	}
}

func TestDemoPasswordReplacesEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), passwordFile)
	if err := os.WriteFile(path, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pw, err := demoPassword(path)
	if err != nil || pw == "" {
		t.Fatalf("demoPassword = %q, %v", pw, err)
	}
	if again, _ := demoPassword(path); again != pw {
		t.Errorf("demoPassword changed from %q to %q", pw, again)
	}
}
