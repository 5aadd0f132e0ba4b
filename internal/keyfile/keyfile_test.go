package keyfile_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"onion/internal/keyfile"
)

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestCreateThenLoad: the first call creates a 0600 file (and a 0700
// directory) holding the base64 seed; the second loads the same key.
func TestCreateThenLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "keys")
	path := filepath.Join(dir, "identity.key")
	k1, err := keyfile.Ed25519(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("key file mode %04o, want 0600", m)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("key directory mode %04o, want 0700", m)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		t.Fatalf("file holds %q, want a base64 32-byte seed", b)
	}
	if !k1.Equal(ed25519.NewKeyFromSeed(seed)) {
		t.Fatal("returned key is not the one in the file")
	}
	k2, err := keyfile.Ed25519(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("second load gave another key")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after, b) {
		t.Fatal("loading rewrote the file")
	}
}

func TestX25519CreateThenLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onion.key")
	k1, err := keyfile.X25519(path)
	if err != nil {
		t.Fatal(err)
	}
	if k1.Curve() != ecdh.X25519() {
		t.Fatal("not an X25519 key")
	}
	k2, err := keyfile.X25519(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("second load gave another key")
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("key file mode %04o, want 0600", m)
	}
}

// TestDistinctFiles: two files in one directory hold independent keys.
func TestDistinctFiles(t *testing.T) {
	dir := t.TempDir()
	a, err := keyfile.Ed25519(filepath.Join(dir, "a.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := keyfile.Ed25519(filepath.Join(dir, "b.key"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Equal(b) {
		t.Fatal("two key files got the same key")
	}
}

// TestLoadsExistingFile: a file written by hand (or another version) in the
// documented format loads to the key its seed makes.
func TestLoadsExistingFile(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	for _, content := range []string{
		base64.StdEncoding.EncodeToString(seed),
		base64.StdEncoding.EncodeToString(seed) + "\n",
		"\n  " + base64.StdEncoding.EncodeToString(seed) + " \r\n",
	} {
		path := filepath.Join(t.TempDir(), "k")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		k, err := keyfile.Ed25519(path)
		if err != nil || !k.Equal(ed25519.NewKeyFromSeed(seed)) {
			t.Fatalf("Ed25519(%q) = %v", content, err)
		}
		x, err := keyfile.X25519(path)
		if err != nil || !bytes.Equal(x.Bytes(), seed) {
			t.Fatalf("X25519(%q) = %v", content, err)
		}
	}
}

// TestRefusesReadableByOthers: a key file that group or others can read is
// refused with an error that tells the operator the fix, and it is left as
// it was (not silently replaced or re-permissioned).
func TestRefusesReadableByOthers(t *testing.T) {
	for _, m := range []fs.FileMode{0o644, 0o640, 0o604, 0o660, 0o606, 0o777, 0o601} {
		path := filepath.Join(t.TempDir(), "identity.key")
		if _, err := keyfile.Ed25519(path); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(path)
		if err := os.Chmod(path, m); err != nil {
			t.Fatal(err)
		}
		for name, load := range map[string]func(string) error{
			"Ed25519": func(p string) error { _, err := keyfile.Ed25519(p); return err },
			"X25519":  func(p string) error { _, err := keyfile.X25519(p); return err },
		} {
			err := load(path)
			if err == nil || !strings.Contains(err.Error(), "chmod 600") || !strings.Contains(err.Error(), path) {
				t.Errorf("%s with mode %04o: err = %v; want one naming the file and chmod 600", name, m, err)
			}
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) || mode(t, path) != m {
			t.Errorf("mode %04o: file changed", m)
		}
	}
	// Stricter than 0600 is fine.
	path := filepath.Join(t.TempDir(), "k")
	if _, err := keyfile.Ed25519(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := keyfile.Ed25519(path); err != nil {
		t.Fatalf("mode 0400: %v", err)
	}
}

// TestRefusesGarbage: a file that is not a base64 32-byte seed is an error,
// and is not overwritten with a new key (that would silently change the
// relay's identity).
func TestRefusesGarbage(t *testing.T) {
	for name, content := range map[string]string{
		"empty":            "",
		"text":             "hello world\n",
		"16-byte seed":     base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"33-byte seed":     base64.StdEncoding.EncodeToString(make([]byte, 33)),
		"URL-safe base64":  base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)),
		"raw 32 bytes":     string(bytes.Repeat([]byte{1}, 32)),
		"two keys":         base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"PEM private key":  "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
		"hex 32-byte seed": strings.Repeat("ab", 32),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if k, err := keyfile.Ed25519(path); err == nil {
				t.Fatalf("Ed25519 loaded %x", k)
			}
			if _, err := keyfile.X25519(path); err == nil {
				t.Fatal("X25519 loaded it")
			}
			after, _ := os.ReadFile(path)
			if string(after) != content {
				t.Fatalf("garbage file was rewritten to %q", after)
			}
		})
	}
}

// TestDoesNotFollowDanglingSymlink: O_EXCL refuses to create through a
// symlink, so a link planted in the data directory cannot make the key land
// somewhere an attacker chose.
func TestDoesNotFollowDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere", "stolen.key")
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "identity.key")
	if err := os.Symlink(target, path); err != nil {
		t.Skipf("symlink: %v", err)
	}
	if _, err := keyfile.Ed25519(path); err == nil {
		t.Fatal("created a key through a dangling symlink")
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("symlink target was created: %v", err)
	}
}

// TestConcurrentFirstUse: processes racing to create the same key never end
// up with different keys. O_EXCL lets one win; every caller that gets a key
// gets the one in the file. (Losers may get an error today: "file exists",
// or "not a base64 32-byte key" when they read the winner's file before it
// is written. This test does not require them to succeed.)
func TestConcurrentFirstUse(t *testing.T) {
	for range 20 {
		path := filepath.Join(t.TempDir(), "sub", "identity.key")
		const n = 8
		keys := make([]ed25519.PrivateKey, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { keys[i], errs[i] = keyfile.Ed25519(path) })
		}
		wg.Wait()
		final, err := keyfile.Ed25519(path)
		if err != nil {
			t.Fatalf("after the race the file does not load: %v", err)
		}
		for i := range n {
			if errs[i] == nil && !keys[i].Equal(final) {
				t.Fatalf("caller %d got a key that is not the one in the file", i)
			}
		}
	}
}

func TestPathIsDirectory(t *testing.T) {
	if _, err := keyfile.Ed25519(t.TempDir()); err == nil {
		t.Fatal("loaded a key from a directory")
	}
}

func TestParentIsAFile(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(parent, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := keyfile.Ed25519(filepath.Join(parent, "k")); err == nil {
		t.Fatal("created a key under a regular file")
	}
}
