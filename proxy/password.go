package proxy

// Where the proxy gets a password when a hidden service challenges
// (PROTOCOL.md §12.2, the client): the SOCKS5 password, a file, the
// environment, or its user's terminal, each for one address only. Of a
// password typed or given as the SOCKS5 password it keeps the derived
// verifier, never the password.

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
	"onion/internal/prompt"
	"onion/onion"
)

// Prompter asks the person at the proxy's terminal (or at the terminal of
// the `onion up` that runs it). Nil means there is no terminal: never
// block waiting for one. Questions take turns; one whose ctx ends is
// withdrawn.
type Prompter = prompt.Asker

// Passwords supplies verifiers for hidden-service auth. A password goes
// only to the service it is for: one given as the SOCKS5 password goes to
// that request's own address, a stored one to the address it is stored
// for, and a typed one to the address the prompt named. A login is cached
// for one (address, isolation identity): another identity, or another
// address, never rides it.
type Passwords struct {
	User    string   // default user name (--user)
	Stored  Logins   // passwords bound to their addresses (--password-file, ONION_PASSWORD)
	NoCache bool     // --no-password-cache: forget verifiers after use
	Prompt  Prompter // nil: no terminal; StdinPrompter's questions take turns with the URL opener's
	AskUser bool     // ask the terminal for a user name when none is given

	mu    sync.Mutex
	cache map[string]client.Login // loginKey -> the login that identity made at that address
	users map[string]string       // loginKey -> the user name its last attempt gave
	// asking holds a token while a login is asked at the terminal.
	asking chan struct{}
}

// maxCachedLogins bounds the cache: each entry took a login the service
// accepted, but identities are free to make.
const maxCachedLogins = 4096

// loginKey names a login: the address and the isolation identity it was
// made by. The identity (which holds any SOCKS5 password) is hashed, so the
// cache keeps no password.
func loginKey(host, identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return host + "\x00" + string(sum[:])
}

// Remember keeps the login the service accepted (client.Credentials), and
// one just typed, for the other requests of that identity waiting for it.
func (p *Passwords) Remember(l client.Login) {
	if p.NoCache {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cache == nil {
		p.cache = make(map[string]client.Login)
	}
	if _, ok := p.cache[l.Key]; !ok && len(p.cache) >= maxCachedLogins {
		for k := range p.cache { // full: drop any one; it costs a derivation
			delete(p.cache, k)
			break
		}
	}
	p.cache[l.Key] = l
}

// Forget drops a refused login (client.Credentials).
func (p *Passwords) Forget(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.cache, key)
}

// Verifier returns the login to answer c with (client.Credentials). The
// first attempt may use the login this identity made there before, or a
// password given for that address; later attempts (the password was
// wrong) can only ask the terminal again, for the password alone: the user
// name stays the one the refused attempt gave. A question is withdrawn
// when ctx ends (the SOCKS client has gone).
func (p *Passwords) Verifier(ctx context.Context, c client.Challenge) (client.Login, error) {
	key := loginKey(c.Host, c.Identity)
	if l, ok := p.cached(key, c); ok {
		return l, nil
	}
	if p.Prompt != nil {
		// One login is asked at a time, user name and password together.
		// A browser opens several connections at once: the first asks, the
		// others wait and then take the login it made.
		unlock, err := p.lockAsking(ctx)
		if err != nil {
			return client.Login{}, err
		}
		defer unlock()
		if l, ok := p.cached(key, c); ok {
			return l, nil
		}
	}
	user, err := p.userName(ctx, c, key)
	if err != nil {
		return client.Login{}, err
	}
	pw, err := p.password(ctx, c, user)
	if err != nil {
		return client.Login{}, err
	}
	p.keepUser(key, user)
	v, err := onion.DeriveVerifier(c.ServiceKey, user, pw, c.LogN)
	l := client.Login{User: user, Verifier: v, LogN: c.LogN, Key: key}
	if err == nil && p.Prompt != nil {
		p.Remember(l) // for the requests waiting; Forget drops it if refused
	}
	return l, err
}

// cached is, on a first attempt, the login this identity made at c's
// address before, if it is for the cost asked.
func (p *Passwords) cached(key string, c client.Challenge) (client.Login, bool) {
	if c.Attempt != 1 {
		return client.Login{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.cache[key]
	return l, ok && l.LogN == c.LogN // a verifier is for one cost
}

// lockAsking waits until no other login is being asked for, or ctx ends.
func (p *Passwords) lockAsking(ctx context.Context) (unlock func(), err error) {
	p.mu.Lock()
	if p.asking == nil {
		p.asking = make(chan struct{}, 1)
	}
	asking := p.asking
	p.mu.Unlock()
	select {
	case asking <- struct{}{}:
		return func() { <-asking }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// keepUser remembers the user name a login attempt gave, for the attempts
// that follow a refusal.
func (p *Passwords) keepUser(key, user string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users == nil {
		p.users = make(map[string]string)
	}
	if _, ok := p.users[key]; !ok && len(p.users) >= maxCachedLogins {
		for k := range p.users {
			delete(p.users, k)
			break
		}
	}
	p.users[key] = user
}

// userName is the one the refused attempt gave, on a later attempt; else
// the request's own, else --user, else the one user stored for that
// address, else asked at the terminal naming the address. Never the user
// another identity logged in as.
func (p *Passwords) userName(ctx context.Context, c client.Challenge, key string) (string, error) {
	if c.Attempt > 1 {
		p.mu.Lock()
		user, ok := p.users[key]
		p.mu.Unlock()
		if ok {
			return user, nil
		}
	}
	user := c.Request.Username
	if user == "" {
		user = p.User
	}
	if user == "" {
		user = p.Stored.onlyUser(c.Host)
	}
	if user == "" {
		if p.Prompt == nil || !p.AskUser {
			return "", fmt.Errorf("%s requires a login: %s", c.Host, howToLogIn)
		}
		var err error
		if user, err = p.ask(ctx, fmt.Sprintf("User name for %s: ", c.Host), false); err != nil {
			return "", err
		}
	}
	return user, onion.CheckUserName(user)
}

// howToLogIn is what a proxy that cannot ask says about logging in.
const howToLogIn = "give the user name and password as the SOCKS5 username and password, " +
	"put `ADDRESS.onion USER PASSWORD` in a --password-file (--user names the user), " +
	"or run the proxy (or onion up) on a terminal, where it asks"

// password is, on the first attempt, the request's own SOCKS5 password
// (it came with a request to this very address) or the one stored for this
// address and user; otherwise the terminal is asked, naming the address.
// Without a terminal there is no other source: a service the proxy holds
// no password for gets no proof at all.
func (p *Passwords) password(ctx context.Context, c client.Challenge, user string) (string, error) {
	if c.Attempt == 1 {
		if c.Request.Password != "" {
			return c.Request.Password, nil
		}
		if pw, ok := p.Stored.password(c.Host, user); ok {
			return pw, nil
		}
	}
	if p.Prompt == nil {
		if c.Attempt > 1 {
			return "", fmt.Errorf("%s refused the password of %s", c.Host, user)
		}
		return "", fmt.Errorf("%s requires a password, and this proxy holds none for %s there (a password goes only to the address it is given for): %s", c.Host, user, howToLogIn)
	}
	prompt := fmt.Sprintf("Password for %s at %s: ", user, c.Host)
	if c.Attempt > 1 {
		prompt = "Wrong password. " + prompt
	}
	return p.ask(ctx, prompt, true)
}

func (p *Passwords) ask(ctx context.Context, prompt string, secret bool) (string, error) {
	s, err := p.Prompt.Ask(ctx, prompt, secret)
	return strings.TrimRight(s, "\r\n"), err
}

// ReadPasswordFile reads the first line of a password file, refusing one
// that others can read: a bare password, for `hiddenserver adduser`. (A
// proxy's --password-file binds each password to its address: LoadLogins.)
func ReadPasswordFile(path string) (string, error) {
	text, err := readPrivate("password file", path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(text, "\n")
	return strings.TrimRight(line, "\r"), nil
}

// readPrivate reads a secret file (what names it in errors), refusing one
// that anyone but its owner could read.
func readPrivate(what, path string) (string, error) {
	if err := keyfile.CheckPrivate(what, path); err != nil {
		return "", err
	}
	b, err := os.ReadFile(path)
	return string(b), err
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
	ctx := context.Background()
	a, err := p.Ask(ctx, "New password: ", true)
	if err != nil {
		return "", err
	}
	b, err := p.Ask(ctx, "Again: ", true)
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
