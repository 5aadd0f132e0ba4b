package hiddenserver

import (
	"crypto/ecdh"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onion/internal/keyfile"
	"onion/onion"
)

// TestClientKeyFiles: client-key makes a 0600 key and lists its public
// half; the clients file loads, refuses duplicates and garbage; only the
// listed client's own e2e key is authorized, never the service's base key.
func TestClientKeyFiles(t *testing.T) {
	dir := t.TempDir()
	clients := filepath.Join(dir, "svc", ClientsFile)
	for _, name := range []string{"alice", "bob"} {
		if _, err := ClientKey(filepath.Join(dir, name+".key"), clients, name); err != nil {
			t.Fatal(err)
		}
	}
	line, err := ClientKey(filepath.Join(dir, "alice.key"), clients, "alice") // again: replaced, not doubled
	if err != nil || !strings.HasPrefix(line, "alice ") {
		t.Fatalf("ClientKey: %q, %v", line, err)
	}
	cs, err := LoadClients(clients)
	if err != nil || len(cs) != 2 {
		t.Fatalf("LoadClients: %v, %v", cs, err)
	}
	alice, err := keyfile.LoadX25519(filepath.Join(dir, "alice.key"))
	if err != nil {
		t.Fatal(err)
	}
	e2e, _ := ecdh.X25519().GenerateKey(nil)
	pub := testPub()
	keys := newClientKeys(Config{E2EKey: e2e, Clients: cs}, pub)
	own := onion.ClientE2EKey(e2e, pub, alice.PublicKey().Bytes()).PublicKey().Bytes()
	if _, name, ok := keys.authorize(own); !ok || name != "alice" {
		t.Fatalf("alice's own key: %q %v", name, ok)
	}
	if _, _, ok := keys.authorize(e2e.PublicKey().Bytes()); ok {
		t.Fatal("the base e2e key is authorized")
	}
	for body, want := range map[string]string{
		"alice AAAA\n":            "32-byte",
		"a b c\n":                 "NAME KEY",
		line + "\n" + line + "\n": "twice",
		"# nobody\n":              "lists no client",
	} {
		os.WriteFile(clients, []byte(body), 0o644)
		if _, err := LoadClients(clients); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("clients file %q: %v; want %q", body, err, want)
		}
	}
}
