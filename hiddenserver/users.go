package hiddenserver

// The users file: one user per line, "NAME LOGN VERIFIER" with the verifier
// in base64. It holds no passwords; it is still secret (a verifier lets its
// holder answer challenges), so it must be mode 0600.

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"onion/internal/keyfile"
	"onion/onion"
)

// MaxUsers bounds the users file.
const MaxUsers = 10000

// Users are the accounts a service accepts.
type Users struct {
	logN  uint8
	m     map[string][]byte
	dummy []byte // verifier for unknown users: equal work, certain failure
}

// LogN is the scrypt cost every verifier in the file uses.
func (u *Users) LogN() uint8 { return u.logN }

// Len is the number of users.
func (u *Users) Len() int { return len(u.m) }

func (u *Users) verifier(name string) ([]byte, bool) {
	if v, ok := u.m[name]; ok {
		return v, true
	}
	return u.dummy, false
}

// LoadUsers reads a users file, refusing one that others can read.
func LoadUsers(path string) (*Users, error) {
	if err := keyfile.CheckPrivate("users file", path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	u := &Users{m: make(map[string][]byte), dummy: make([]byte, onion.AuthVerifierLen)}
	rand.Read(u.dummy)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := u.parseLine(line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(u.m) == 0 {
		return nil, fmt.Errorf("users file %s has no users; add one with `onion hiddenserver adduser`", path)
	}
	return u, nil
}

func (u *Users) parseLine(line string) error {
	f := strings.Fields(line)
	if len(f) != 3 {
		return errors.New("want NAME LOGN VERIFIER")
	}
	if err := onion.CheckUserName(f[0]); err != nil {
		return err
	}
	logN, err := strconv.ParseUint(f[1], 10, 8)
	if err != nil || logN < onion.MinAuthLogN || logN > onion.MaxAuthLogN {
		return fmt.Errorf("scrypt cost %q out of range", f[1])
	}
	if u.logN != 0 && uint8(logN) != u.logN {
		return errors.New("every user must have the same scrypt cost")
	}
	v, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil || len(v) != onion.AuthVerifierLen {
		return errors.New("verifier is not 32 bytes of base64")
	}
	if _, dup := u.m[f[0]]; dup {
		return fmt.Errorf("user %q listed twice", f[0])
	}
	if len(u.m) >= MaxUsers {
		return fmt.Errorf("more than %d users", MaxUsers)
	}
	u.logN = uint8(logN)
	u.m[f[0]] = v
	return nil
}

// AddUser sets name's password in the users file at path for the service
// with public key pub, creating the file (mode 0600) if needed. The file is
// replaced atomically.
func AddUser(path string, pub ed25519.PublicKey, name, password string) error {
	if err := onion.CheckUserName(name); err != nil {
		return err
	}
	if password == "" {
		return errors.New("empty password")
	}
	lines := map[string]string{}
	logN := uint8(onion.DefaultAuthLogN)
	if _, err := os.Stat(path); err == nil {
		u, err := LoadUsers(path)
		if err != nil {
			return err
		}
		logN = u.logN // one cost per file: the challenge names it before the user is known
		for n, v := range u.m {
			lines[n] = fmt.Sprintf("%s %d %s", n, u.logN, base64.StdEncoding.EncodeToString(v))
		}
	}
	v, err := onion.DeriveVerifier(pub, name, password, logN)
	if err != nil {
		return err
	}
	lines[name] = fmt.Sprintf("%s %d %s", name, logN, base64.StdEncoding.EncodeToString(v))
	names := make([]string, 0, len(lines))
	for n := range lines {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# onion hidden-server users: NAME SCRYPT-LOGN VERIFIER (no passwords are stored)\n")
	for _, n := range names {
		b.WriteString(lines[n] + "\n")
	}
	return writeFileAtomic(path, []byte(b.String()), 0o600)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".users-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
