package testnet

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"onion/client"
	"onion/directory"
	"onion/hiddenserver"
	"onion/onion"
	"onion/proxy"
)

// TestClientAuth: a service that lists one client key, and has a users
// file too, admits that key's holder without a password; a client with no
// key gets ErrClientAuthMissing, one with another key ErrClientAuthWrong,
// and neither reaches the service (its log has no stream).
func TestClientAuth(t *testing.T) {
	alice, _ := ecdh.X25519().GenerateKey(nil)
	eve, _ := ecdh.X25519().GenerateKey(nil)
	addr := onion.EncodeAddress(ServiceKey().Public().(ed25519.PublicKey))
	usersFile := filepath.Join(t.TempDir(), "users")
	if err := hiddenserver.AddUser(usersFile, ServiceKey().Public().(ed25519.PublicKey), "demo", "s3cret"); err != nil {
		t.Fatal(err)
	}
	users, err := hiddenserver.LoadUsers(usersFile)
	if err != nil {
		t.Fatal(err)
	}
	var base *ecdh.PrivateKey
	n := Start(t, Options{HiddenServer: true,
		Service: func(c *hiddenserver.Config) {
			c.Users = users
			base = c.E2EKey
			c.Clients = []hiddenserver.AuthorizedClient{{Name: "alice", Key: alice.PublicKey().Bytes()}}
		},
		Proxy: func(c *client.Config) {
			c.Credentials = &proxy.Passwords{}
			c.ClientKeys = map[string]*ecdh.PrivateKey{addr: alice}
		},
	})
	ctx := Deadline(t, 60*time.Second)
	conn, err := n.Manager.DialStream(ctx, client.DialRequest{Host: addr, Port: hiddenserver.PortEcho})
	if err != nil {
		t.Fatalf("with the key, no password: %v", err)
	}
	conn.Write([]byte("k"))
	one := make([]byte, 1)
	if _, err := io.ReadFull(conn, one); err != nil || one[0] != 'k' {
		t.Fatalf("echo with the key: %q %v", one, err)
	}
	conn.Close()
	meetWithBaseKey(t, ctx, n, alice, base)
	for name, tc := range map[string]struct {
		key  *ecdh.PrivateKey
		want error
	}{"no key": {nil, client.ErrClientAuthMissing}, "wrong key": {eve, client.ErrClientAuthWrong}} {
		m := newManager(t, n, map[string]*ecdh.PrivateKey{addr: tc.key})
		_, err := m.DialStream(ctx, client.DialRequest{Host: addr, Port: hiddenserver.PortEcho, Username: "demo", Password: "s3cret"})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v; want %v", name, err, tc.want)
		}
	}
}

// TestClientAuth's service, met with its base e2e key (as a client that
// saw a revision-1 descriptor would), does not answer at all.
func meetWithBaseKey(t *testing.T, ctx context.Context, n *Net, alice, base *ecdh.PrivateKey) {
	d := n.Service.Descriptor()
	open, err := d.OpenForClient(alice)
	if err != nil {
		t.Fatal(err)
	}
	mp := open.MeetingPoints[0]
	last := onion.RelayDescriptor{Nickname: mp.Nickname, Address: mp.Address, IdentityKey: mp.IdentityKey, OnionKey: mp.OnionKey}
	c, _, err := n.Manager.BuildCircuit(ctx, &last)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The meeting relay gives up after 10 s; an answer, if the service
	// gave one, would come within milliseconds.
	mctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := c.Meet(mctx, d.ServiceKey, base.PublicKey().Bytes()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("MEET with the base e2e key: %v; want no answer", err)
	}
}

// newManager is a second client of n, with its own client keys.
func newManager(t *testing.T, n *Net, keys map[string]*ecdh.PrivateKey) *client.Manager {
	m := client.NewManager(client.Config{
		Directory: &directory.Client{URL: n.DirURL, Key: n.DirKey},
		Services: func(hc *http.Client) client.ServiceDirectory {
			return &directory.Client{URL: n.DirURL, HTTP: hc}
		},
		ClientKeys:  keys,
		Credentials: &proxy.Passwords{},
		Lab:         true, // every relay is on 127.0.0.1
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done; m.Close() })
	if err := m.WaitUsable(Deadline(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	go func() { defer close(done); m.Run(ctx) }()
	return m
}
