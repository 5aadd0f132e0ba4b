package hiddenserver

// Client authorization (PROTOCOL.md §11.9): the clients file lists the
// public keys of the clients a service admits, one "NAME KEY" per line
// (KEY: the client's X25519 public key in base64, as `onion hiddenserver
// client-key` prints it). With it, the descriptor's meeting points and e2e
// key are sealed to those keys, introductions from anyone else go
// unanswered, and an authorized client's streams need no password.

import (
	"bufio"
	"crypto/ecdh"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"onion/internal/keyfile"
	"onion/onion"
)

// ClientsFile is the clients file's name in a service directory.
const ClientsFile = "clients"

// AuthorizedClient is one client a service admits by its key.
type AuthorizedClient struct {
	Name string
	Key  []byte // X25519 public key
}

// LoadClients reads a clients file.
func LoadClients(path string) ([]AuthorizedClient, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []AuthorizedClient
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c, err := parseClient(line)
		if err == nil && (seen[c.Name] || seen[string(c.Key)]) {
			err = errors.New("client name or key listed twice")
		}
		if err == nil && len(out) >= onion.MaxAuthClients {
			err = fmt.Errorf("more than %d clients", onion.MaxAuthClients)
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		seen[c.Name], seen[string(c.Key)] = true, true
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("clients file %s lists no client; add one with `onion hiddenserver client-key`", path)
	}
	return out, nil
}

func parseClient(line string) (AuthorizedClient, error) {
	f := strings.Fields(line)
	if len(f) != 2 || !validName(f[0]) {
		return AuthorizedClient{}, errors.New("want NAME KEY, NAME of letters, digits, - and _")
	}
	k, err := base64.StdEncoding.DecodeString(f[1])
	if err == nil && len(k) == onion.KeyLen {
		_, err = ecdh.X25519().NewPublicKey(k)
	}
	if err != nil || len(k) != onion.KeyLen {
		return AuthorizedClient{}, errors.New("KEY is not a 32-byte X25519 key in base64")
	}
	return AuthorizedClient{Name: f[0], Key: k}, nil
}

func loadClientsFile(dir string, cfg *Config) (err error) {
	if p, ok := present(dir, ClientsFile); ok {
		cfg.Clients, err = LoadClients(p)
	}
	return err
}

// clientKeys maps each authorized client's own e2e public key to it.
type clientKeys map[string]clientKey

type clientKey struct {
	name string
	priv *ecdh.PrivateKey
}

func newClientKeys(cfg Config, serviceKey []byte) clientKeys {
	m := clientKeys{}
	for _, c := range cfg.Clients {
		k := onion.ClientE2EKey(cfg.E2EKey, serviceKey, c.Key)
		m[string(k.PublicKey().Bytes())] = clientKey{name: c.Name, priv: k}
	}
	return m
}

func (m clientKeys) authorize(e2ePub []byte) (*ecdh.PrivateKey, string, bool) {
	k, ok := m[string(e2ePub)]
	return k.priv, k.name, ok
}

// ClientKey makes (or loads) the client key in keyPath and, when
// clientsPath is set, lists it there under name. It returns the clients
// file line.
func ClientKey(keyPath, clientsPath, name string) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("client name %q: use letters, digits, - and _", name)
	}
	k, err := keyfile.X25519(keyPath)
	if err != nil {
		return "", err
	}
	line := name + " " + base64.StdEncoding.EncodeToString(k.PublicKey().Bytes())
	if clientsPath == "" {
		return line, nil
	}
	return line, addClientLine(clientsPath, name, line)
}

// addClientLine puts line in the clients file, replacing name's old one.
func addClientLine(path, name, line string) error {
	lines := map[string]string{name: line}
	if old, err := LoadClients(path); err == nil {
		for _, c := range old {
			if c.Name != name {
				lines[c.Name] = c.Name + " " + base64.StdEncoding.EncodeToString(c.Key)
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	names := make([]string, 0, len(lines))
	for n := range lines {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# onion hidden-server authorized clients: NAME X25519-PUBLIC-KEY\n")
	for _, n := range names {
		b.WriteString(lines[n] + "\n")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(path, []byte(b.String()), 0o644)
}
