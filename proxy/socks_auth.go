package proxy

// Accounts on the proxy port itself (--socks-auth), for a machine with
// several users: without them any local process, or any web page a local
// browser loads, can use the proxy and whatever logins it holds. The file
// has one `USER PASSWORD` line per account (PASSWORD is the rest of the
// line; blank lines and # comments are skipped) and must be mode 0600.

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
)

// maxSOCKSUsers bounds the accounts file.
const maxSOCKSUsers = 10000

// SOCKSUsers are the accounts allowed to use the SOCKS port. It keeps a
// SHA-256 of each password, never the password. Safe for concurrent use
// (read-only once loaded).
type SOCKSUsers struct {
	m     map[string][sha256.Size]byte
	dummy [sha256.Size]byte // compared for unknown users: the same work
}

// LoadSOCKSUsers reads an accounts file, refusing one that others can read.
func LoadSOCKSUsers(path string) (*SOCKSUsers, error) {
	text, err := readPrivate("SOCKS accounts file", path)
	if err != nil {
		return nil, err
	}
	u := &SOCKSUsers{m: make(map[string][sha256.Size]byte)}
	rand.Read(u.dummy[:])
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if err := u.addLine(line); err != nil {
			return nil, fmt.Errorf("SOCKS accounts file %s, line %d: %w", path, i+1, err)
		}
	}
	if len(u.m) == 0 {
		return nil, fmt.Errorf("SOCKS accounts file %s holds no account (want `USER PASSWORD` lines)", path)
	}
	return u, nil
}

// addLine adds one account. Its errors never quote the line.
func (u *SOCKSUsers) addLine(line string) error {
	user, pw := cutField(line)
	// RFC 1929 carries each in 1-255 bytes.
	if user == "" || pw == "" || len(user) > 255 || len(pw) > 255 {
		return errors.New("want `USER PASSWORD`, each 1-255 bytes")
	}
	if _, dup := u.m[user]; dup {
		return errors.New("user listed twice")
	}
	if len(u.m) >= maxSOCKSUsers {
		return fmt.Errorf("more than %d accounts", maxSOCKSUsers)
	}
	u.m[user] = sha256.Sum256([]byte(pw))
	return nil
}

// Valid reports whether user and password name an account. The password
// is compared as a hash, in constant time, and an unknown user costs the
// same comparison, so timing tells neither password bytes nor names.
func (u *SOCKSUsers) Valid(user, password string) bool {
	want, known := u.m[user]
	if !known {
		want = u.dummy
	}
	got := sha256.Sum256([]byte(password))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1 && known
}
