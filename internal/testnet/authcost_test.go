package testnet

import (
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"onion/client"
	"onion/hiddenserver"
	"onion/onion"
	"onion/proxy"
)

// startLoginNet starts a network whose hidden service requires a login
// (demo, s3cret), and a proxy with password sources; withProxy, if set,
// changes the proxy's config further.
func startLoginNet(t *testing.T, withProxy func(*client.Config)) (*Net, *hiddenserver.Users) {
	t.Helper()
	usersFile := filepath.Join(t.TempDir(), "users")
	pub := ServiceKey().Public().(ed25519.PublicKey)
	if err := hiddenserver.AddUser(usersFile, pub, "demo", "s3cret"); err != nil {
		t.Fatal(err)
	}
	users, err := hiddenserver.LoadUsers(usersFile)
	if err != nil {
		t.Fatal(err)
	}
	n := Start(t, Options{HiddenServer: true,
		Service: func(c *hiddenserver.Config) { c.Users = users },
		Proxy: func(c *client.Config) {
			c.Credentials = &proxy.Passwords{}
			if withProxy != nil {
				withProxy(c)
			}
		},
	})
	return n, users
}

// TestHiddenAuthCostPinned: the first proven login pins the service's
// scrypt cost in the proxy's pins file; a challenge below the pin is
// answered with no proof (the stream fails with ErrCostLowered), and the
// file keeps the pin for the next run.
func TestHiddenAuthCostPinned(t *testing.T) {
	pinsFile := filepath.Join(t.TempDir(), "pins.json")
	pins, err := client.LoadCostPins(pinsFile)
	if err != nil {
		t.Fatal(err)
	}
	n, users := startLoginNet(t, func(c *client.Config) { c.CostPins = pins })
	addr := n.Service.Address()
	ctx := Deadline(t, 60*time.Second)
	login := client.DialRequest{Host: addr, Port: hiddenserver.PortEcho, Username: "demo", Password: "s3cret"}
	conn, err := n.Manager.DialStream(ctx, login)
	if err != nil {
		t.Fatalf("first login: %v", err)
	}
	conn.Close()
	reloaded, err := client.LoadCostPins(pinsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := reloaded.Check(addr, users.LogN()-1); !errors.Is(err, client.ErrCostLowered) {
		t.Fatalf("pins file after the first login: a lower cost gives %v, want ErrCostLowered", err)
	}

	// As if the service had logged in at a higher cost before: its
	// challenge is now below the pin.
	pins.Pin(addr, users.LogN()+1)
	_, err = n.Manager.DialStream(ctx, login)
	var oe *client.OpenError
	if !errors.As(err, &oe) || oe.Reason != onion.EndExitPolicy || !errors.Is(err, client.ErrCostLowered) {
		t.Fatalf("challenge below the pin: %v, want an EndExitPolicy OpenError wrapping ErrCostLowered", err)
	}
}
