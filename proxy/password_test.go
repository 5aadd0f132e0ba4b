package proxy

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"onion/client"
	"onion/onion"
)

// answers is a Prompter that gives its answers in turn.
type answers []string

func (a *answers) Ask(context.Context, string, bool) (string, error) {
	if len(*a) == 0 {
		return "", errors.New("no more answers")
	}
	s := (*a)[0]
	*a = (*a)[1:]
	return s, nil
}

func TestNewPassword(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("from-file\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, env string
		prompt          *answers
		want            string // "" means an error
	}{
		{"file first", file, "from-env", &answers{"typed", "typed"}, "from-file"},
		{"environment", "", "from-env", &answers{"typed", "typed"}, "from-env"},
		{"typed twice", "", "", &answers{"typed", "typed"}, "typed"},
		{"answers differ", "", "", &answers{"typed", "typo"}, ""},
		{"empty", "", "", &answers{" ", " "}, ""},
		{"no terminal", "", "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Prompter
			if tc.prompt != nil {
				p = tc.prompt
			}
			got, err := NewPassword(tc.file, tc.env, p)
			if tc.want == "" && err == nil {
				t.Fatalf("NewPassword = %q, want an error", got)
			}
			if tc.want != "" && (err != nil || got != tc.want) {
				t.Fatalf("NewPassword = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// serviceAddr is a fixed service key and its onion address.
func serviceAddr(seed byte) (ed25519.PublicKey, string) {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	return pub, onion.EncodeAddress(pub)
}

// recorder is a Prompter that records its prompts and answers answer.
type recorder struct {
	answer  string
	prompts []string
}

func (r *recorder) Ask(_ context.Context, prompt string, _ bool) (string, error) {
	r.prompts = append(r.prompts, prompt)
	return r.answer, nil
}

func challenge(pub ed25519.PublicKey, host, identity string, req client.DialRequest) client.Challenge {
	return client.Challenge{Host: host, ServiceKey: pub, LogN: onion.MinAuthLogN, Attempt: 1, Request: req, Identity: identity}
}

// TestPasswordsBoundToAddress: a stored password answers only the address
// it is stored for. Another service that challenges (a page embedding its
// address) gets an error naming that address and no login, with --user
// set or not; on a terminal the prompt names that address in full.
func TestPasswordsBoundToAddress(t *testing.T) {
	realPub, real := serviceAddr(1)
	evilPub, evil := serviceAddr(2)
	stored := Logins{real: {"demo": "s3cret"}}
	for _, user := range []string{"", "demo"} {
		p := &Passwords{User: user, Stored: stored}
		l, err := p.Verifier(t.Context(), challenge(realPub, real, "", client.DialRequest{}))
		want, _ := onion.DeriveVerifier(realPub, "demo", "s3cret", onion.MinAuthLogN)
		if err != nil || l.User != "demo" || !bytes.Equal(l.Verifier, want) {
			t.Fatalf("--user %q: login at the stored address: %+v, %v", user, l, err)
		}
		l, err = p.Verifier(t.Context(), challenge(evilPub, evil, "", client.DialRequest{}))
		if err == nil || l.Verifier != nil {
			t.Fatalf("--user %q: another address got a login: %+v", user, l)
		}
		if !strings.Contains(err.Error(), evil) {
			t.Errorf("--user %q: error %q does not name %s", user, err, evil)
		}
	}
	r := &recorder{answer: "typed"}
	p := &Passwords{User: "demo", Stored: stored, Prompt: r}
	l, err := p.Verifier(t.Context(), challenge(evilPub, evil, "", client.DialRequest{}))
	want, _ := onion.DeriveVerifier(evilPub, "demo", "typed", onion.MinAuthLogN)
	if err != nil || !bytes.Equal(l.Verifier, want) {
		t.Fatalf("typed password: %+v, %v", l, err)
	}
	if len(r.prompts) != 1 || !strings.Contains(r.prompts[0], evil) {
		t.Errorf("prompts %q: want one naming %s in full", r.prompts, evil)
	}
}

// TestPasswordsSOCKSPasswordStaysWithItsRequest: a SOCKS5 password logs in
// at its request's address; the login it made answers no other address,
// and no other identity at the same address.
func TestPasswordsSOCKSPasswordStaysWithItsRequest(t *testing.T) {
	realPub, real := serviceAddr(1)
	evilPub, evil := serviceAddr(2)
	p := &Passwords{}
	withPW := client.DialRequest{Username: "demo", Password: "s3cret"}
	l, err := p.Verifier(t.Context(), challenge(realPub, real, "identity with the password", withPW))
	if err != nil {
		t.Fatal(err)
	}
	p.Remember(l)
	for _, c := range []client.Challenge{
		challenge(evilPub, evil, "", client.DialRequest{}),
		challenge(evilPub, evil, "identity with the user name", client.DialRequest{Username: "demo"}),
		challenge(realPub, real, "", client.DialRequest{}),
		challenge(realPub, real, "identity with the user name", client.DialRequest{Username: "demo"}),
	} {
		if l, err := p.Verifier(t.Context(), c); err == nil {
			t.Errorf("%s, identity %q: got a login %+v from another request's password", c.Host, c.Identity, l)
		}
	}
}

// TestLoginsPerIdentity: a login made by one isolation identity is not
// used by another at the same address, even with the same user name, and
// an identity without a user name does not borrow the one another logged
// in as.
func TestLoginsPerIdentity(t *testing.T) {
	pub, host := serviceAddr(1)
	r := &recorder{answer: "typed"}
	p := &Passwords{Prompt: r}
	alice := client.DialRequest{Username: "alice", Isolation: "tab 1"}
	l, err := p.Verifier(t.Context(), challenge(pub, host, "tab 1", alice))
	if err != nil {
		t.Fatal(err)
	}
	p.Remember(l)
	if _, err := p.Verifier(t.Context(), challenge(pub, host, "tab 1", alice)); err != nil || len(r.prompts) != 1 {
		t.Fatalf("the same identity again: %v after %d prompts, want its cached login", err, len(r.prompts))
	}
	other := client.DialRequest{Username: "alice", Isolation: "tab 2"}
	if _, err := p.Verifier(t.Context(), challenge(pub, host, "tab 2", other)); err != nil || len(r.prompts) != 2 {
		t.Errorf("another identity: %v after %d prompts, want a prompt of its own", err, len(r.prompts))
	}
	l, err = p.Verifier(t.Context(), challenge(pub, host, "", client.DialRequest{}))
	if err == nil || len(r.prompts) != 2 {
		t.Errorf("no user name: %+v, %v after %d prompts; want a refusal, not alice's name", l, err, len(r.prompts))
	}
}

// TestLoadLogins: the password file binds each password to its address;
// a bare password, or ONION_PASSWORD, needs --password-for; errors never
// quote a password.
func TestLoadLogins(t *testing.T) {
	_, a := serviceAddr(1)
	_, b := serviceAddr(2)
	write := func(text string, perm os.FileMode) string {
		path := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(path, []byte(text), perm); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, perm)
		return path
	}
	good := write("# logins\n"+a+" demo pass with spaces\n\n"+strings.ToUpper(b)+"\talice\tpw2\n", 0o600)
	bare := write("bare-secret\n", 0o600)
	for _, tc := range []struct {
		name, file, env, boundTo, user string
		want                           Logins // nil: an error
	}{
		{"file", good, "", "", "", Logins{a: {"demo": "pass with spaces"}, b: {"alice": "pw2"}}},
		{"file and env", good, "env-secret", a, "bob", Logins{a: {"demo": "pass with spaces", "bob": "env-secret"}, b: {"alice": "pw2"}}},
		{"bare password", bare, "", "", "", nil},
		{"bare password bound", bare, "", a, "demo", Logins{a: {"demo": "bare-secret"}}},
		{"bare password, any user", bare, "", a, "", Logins{a: {"": "bare-secret"}}},
		{"env unbound", "", "env-secret", "", "demo", nil},
		{"env bound", "", "env-secret", b, "", Logins{b: {"": "env-secret"}}},
		{"env bound to no address", "", "env-secret", "example.com", "", nil},
		{"readable by others", write(a+" demo secret\n", 0o644), "", "", "", nil},
		{"not an address", write("example.com demo secret\n", 0o600), "", "", "", nil},
		{"twice", write(a+" demo secret\n"+a+" demo secret2\n", 0o600), "", "", "", nil},
		{"empty", write("# none\n", 0o600), "", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadLogins(tc.file, tc.env, tc.boundTo, tc.user)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("loaded %v, want an error", got)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error quotes a password: %v", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("LoadLogins = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestWrongPasswordAsksPasswordOnly: after a refusal the terminal is asked
// for the password again, with the user name the first attempt gave.
func TestWrongPasswordAsksPasswordOnly(t *testing.T) {
	pub, host := serviceAddr(3)
	a := &answers{"alice", "wrong", "right"}
	p := &Passwords{Prompt: a, AskUser: true}
	c := challenge(pub, host, "", client.DialRequest{})
	l, err := p.Verifier(t.Context(), c)
	if err != nil || l.User != "alice" {
		t.Fatalf("first attempt: %+v, %v", l, err)
	}
	p.Forget(l.Key) // the service refused it
	c.Attempt = 2
	l, err = p.Verifier(t.Context(), c)
	want, _ := onion.DeriveVerifier(pub, "alice", "right", onion.MinAuthLogN)
	if err != nil || l.User != "alice" || !bytes.Equal(l.Verifier, want) {
		t.Fatalf("second attempt: %+v, %v; want alice with the password typed second", l, err)
	}
}
