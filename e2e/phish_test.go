package e2e

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onion/hiddenserver"
	"onion/internal/keyfile"
)

// TestPhishingServiceGetsNoProof: a user's proxy holds a password for the
// real service (a --password-file line bound to its address) and runs
// without a terminal. A page from the real service loads; then the page
// embeds a second, hostile service that challenges for a login (the
// browser's plain SOCKS request, no credentials). The hostile service must
// receive no proof (its log shows no login attempt at all), and the proxy
// must refuse at once with an error naming the hostile address. The proxy's
// --data-dir pins the real service's password cost.
func TestPhishingServiceGetsNoProof(t *testing.T) {
	n := startHiddenUp(t, upOptions{})
	evil, evilAddr := startEvilService(t, n)

	dir := t.TempDir()
	pwFile, dataDir := filepath.Join(dir, "passwords"), filepath.Join(dir, "proxy")
	login := n.OnionAddress + " " + n.DemoUser + " " + n.DemoPassword + "\n"
	if err := os.WriteFile(pwFile, []byte(login), 0o600); err != nil {
		t.Fatal(err)
	}
	// --user too: a proxy that offered its password to any host would
	// then have a user name to send the hostile service with it.
	px := startProc(t, "proxy", "proxy", "--socks", "127.0.0.1:0", "--status", "",
		"--directory", n.Directory, "--directory-key", n.DirectoryKey,
		"--password-file", pwFile, "--user", n.DemoUser, "--data-dir", dataDir)
	socks := px.ready["socks"]

	page := hiddenHTTP(t, socks, "", "", false) // a browser: no SOCKS credentials
	if got, err := fetch(t, page, "GET", n.url("/echo?msg=real"), nil, socksReplyTimeout); err != nil || string(got) != "real" {
		t.Fatalf("the real service with its stored password: %q, %v", got, err)
	}
	pins, err := os.ReadFile(filepath.Join(dataDir, "scrypt-cost-pins.json"))
	if err != nil || !strings.Contains(string(pins), n.OnionAddress) {
		t.Errorf("the proxy's data dir does not pin the real service's cost: %q, %v", pins, err)
	}

	start := time.Now()
	_, rep := socksDial(t, socks, evilAddr, 80)
	took := time.Since(start)
	t.Logf("the embedded request to %s: SOCKS reply 0x%02x after %v", evilAddr, rep, took.Round(time.Millisecond))
	if rep != socksOnionAuthMissing {
		t.Errorf("embedded request: SOCKS reply 0x%02x, want 0x%02x (missing client authorization)", rep, socksOnionAuthMissing)
	}
	if took > socksReplyTimeout {
		t.Errorf("refused only after %v: a proxy without a terminal must not wait", took)
	}
	waitFor(t, 10*time.Second, "the proxy to refuse, naming the hostile address", func() bool {
		return px.out.contains("no proof sent", evilAddr, "requires a password")
	})

	evil.stop(t) // all its output is read once it has exited
	for _, proof := range []string{"authentication denied", "client authenticated", "malformed auth proof"} {
		if evil.out.contains(proof) {
			t.Errorf("the hostile service received a proof: its log has %q", proof)
		}
	}
}

// startEvilService runs a second hidden service, with its own key and
// users file, in the network of n: a service a page can embed, that asks
// every client for a login.
func startEvilService(t *testing.T, n *hiddenNet) (*proc, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "evil")
	key, err := keyfile.Ed25519(filepath.Join(dir, "service.key"))
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, "users")
	if err := hiddenserver.AddUser(users, key.Public().(ed25519.PublicKey), n.DemoUser, "anything"); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "evil", "--log-level", "debug", "hiddenserver",
		"--directory", n.Directory, "--directory-key", n.DirectoryKey,
		"--data-dir", dir, "--users", users)
	addr := p.ready["address"]
	if addr == "" || addr == n.OnionAddress {
		t.Fatalf("the second service's address %q", addr)
	}
	return p, addr
}
