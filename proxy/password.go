package proxy

// Where the proxy gets a password when a hidden service challenges: the
// SOCKS5 password, a file, the environment, or its user's terminal. What it
// keeps in memory is the derived verifier, never the password.

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"onion/client"
	"onion/internal/keyfile"
	"onion/onion"
)

// Prompter asks the person at the proxy's terminal. Nil means there is no
// terminal: never block waiting for one.
type Prompter interface {
	// Ask reads a line; with secret set it does not echo.
	Ask(prompt string, secret bool) (string, error)
}

// Passwords supplies verifiers for hidden-service auth.
type Passwords struct {
	User     string   // default user name (--user)
	Password string   // from --password-file or ONION_PASSWORD; "" if none
	NoCache  bool     // --no-password-cache: forget verifiers after use
	Prompt   Prompter // nil: no terminal
	AskUser  bool     // ask the terminal for a user name when none is given

	promptMu sync.Mutex // one question on the terminal at a time

	mu    sync.Mutex
	cache map[string][]byte // host \x00 user -> verifier
	users map[string]string // host -> the user name that last logged in there
}

// cacheKey names a cached verifier. A password the application gave as its
// SOCKS5 password is part of the key (hashed), so a different one is never
// answered from the cache.
func cacheKey(host, user, socksPassword string) string {
	k := host + "\x00" + user
	if socksPassword != "" {
		sum := sha256.Sum256([]byte(socksPassword))
		k += "\x00" + string(sum[:])
	}
	return k
}

// Remember keeps the verifier the service accepted (client.Credentials).
func (p *Passwords) Remember(host, user, key string, v []byte) {
	if p.NoCache {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cache == nil {
		p.cache = make(map[string][]byte)
		p.users = make(map[string]string)
	}
	p.cache[key] = v
	p.users[host] = user
}

// Forget drops a refused verifier (client.Credentials).
func (p *Passwords) Forget(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.cache, key)
}

// Verifier returns the user name and verifier to answer a challenge with.
// The first attempt may use a cached verifier or a password given up front;
// later attempts (the password was wrong) can only ask the terminal again.
func (p *Passwords) Verifier(ctx context.Context, pub []byte, host string, req client.DialRequest, logN uint8, attempt int) (user, key string, v []byte, err error) {
	if user, err = p.userName(host, req); err != nil {
		return "", "", nil, err
	}
	key = cacheKey(host, user, req.Password)
	if attempt == 1 {
		p.mu.Lock()
		v = p.cache[key]
		p.mu.Unlock()
		if v != nil {
			return user, key, v, nil
		}
	}
	pw, err := p.password(host, user, req, attempt)
	if err != nil {
		return "", "", nil, err
	}
	v, err = onion.DeriveVerifier(pub, user, pw, logN)
	return user, key, v, err
}

func (p *Passwords) userName(host string, req client.DialRequest) (string, error) {
	user := req.Username
	if user == "" {
		user = p.User
	}
	if user == "" {
		p.mu.Lock()
		user = p.users[host] // who logged in there before, on this terminal
		p.mu.Unlock()
	}
	if user == "" {
		if p.Prompt == nil || !p.AskUser {
			return "", errors.New("the service requires a login: give a user name as the SOCKS5 username or with --user")
		}
		var err error
		if user, err = p.ask(fmt.Sprintf("User name for %s: ", short(host)), false); err != nil {
			return "", err
		}
	}
	return user, onion.CheckUserName(user)
}

func (p *Passwords) password(host, user string, req client.DialRequest, attempt int) (string, error) {
	if attempt == 1 {
		if req.Password != "" {
			return req.Password, nil
		}
		if p.Password != "" {
			return p.Password, nil
		}
	}
	if p.Prompt == nil {
		if attempt > 1 {
			return "", errors.New("password refused by the service")
		}
		return "", errors.New("the service requires a password: give it as the SOCKS5 password, with --password-file or ONION_PASSWORD, or run the proxy on a terminal")
	}
	prompt := fmt.Sprintf("Password for %s at %s: ", user, short(host))
	if attempt > 1 {
		prompt = "Wrong password. " + prompt
	}
	return p.ask(prompt, true)
}

func (p *Passwords) ask(prompt string, secret bool) (string, error) {
	p.promptMu.Lock()
	defer p.promptMu.Unlock()
	s, err := p.Prompt.Ask(prompt, secret)
	return strings.TrimRight(s, "\r\n"), err
}

// short abbreviates an onion address for a prompt.
func short(host string) string {
	if len(host) > 22 {
		return host[:16] + "…" + host[len(host)-6:]
	}
	return host
}

// ReadPasswordFile reads the first line of a password file, refusing one
// that others can read.
func ReadPasswordFile(path string) (string, error) {
	if err := keyfile.CheckPrivate("password file", path); err != nil {
		return "", err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimRight(line, "\r"), nil
}

// NewPassword chooses a new password (for a users file): the first line of
// file if one is given, else env (ONION_PASSWORD) if set, else asked twice
// at the terminal p (nil: there is none). An empty password, or two
// answers that differ, is refused.
func NewPassword(file, env string, p Prompter) (string, error) {
	if file != "" {
		return ReadPasswordFile(file)
	}
	if env != "" {
		return env, nil
	}
	if p == nil {
		return "", errors.New("no terminal to ask for the password: use --password-file or ONION_PASSWORD")
	}
	a, err := p.Ask("New password: ", true)
	if err != nil {
		return "", err
	}
	b, err := p.Ask("Again: ", true)
	if err != nil {
		return "", err
	}
	if a != b {
		return "", errors.New("passwords differ")
	}
	if strings.TrimSpace(a) == "" {
		return "", errors.New("empty password")
	}
	return a, nil
}
