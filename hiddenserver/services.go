package hiddenserver

// Several services in one process, from a services directory: one
// sub-directory per service, as Tor's HiddenServiceDir. Each holds
//
//	service.key, e2e.key  the service's keys (made on first start, mode 0600)
//	hostname              ADDRESS.onion, written at every start
//	ports                 optional: "VPORT TARGET" per line (forward.go)
//	users                 optional: the users file; with it every stream logs in
//	links                 optional: the links file for /open/NAME
//	clients               optional: authorized client keys (clientauth.go)
//
// The services share one circuit manager; each has its own meeting
// circuits, descriptor, login budget and stream limit.

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"onion/client"
	"onion/internal/keyfile"
	"onion/onion"
)

// MaxServices bounds the services of one process.
const MaxServices = 64

// Files of a service directory.
const (
	ServiceKeyFile = "service.key"
	E2EKeyFile     = "e2e.key"
	HostnameFile   = "hostname"
	PortsFile      = "ports"
	UsersFile      = "users"
	LinksFile      = "links"
)

// ServiceDirs lists the service directories in dir, by name.
func ServiceDirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	switch {
	case len(out) == 0:
		return nil, fmt.Errorf("services directory %s has no service sub-directories", dir)
	case len(out) > MaxServices:
		return nil, fmt.Errorf("services directory %s has more than %d services", dir, MaxServices)
	}
	return out, nil
}

// LoadKeys loads (or makes) a service's keys in dir and writes its hostname file.
func LoadKeys(dir string, cfg *Config) (err error) {
	if cfg.Key, err = keyfile.Ed25519(filepath.Join(dir, ServiceKeyFile)); err != nil {
		return fmt.Errorf("service key: %w", err)
	}
	if cfg.E2EKey, err = keyfile.X25519(filepath.Join(dir, E2EKeyFile)); err != nil {
		return fmt.Errorf("e2e key: %w", err)
	}
	addr := onion.EncodeAddress(cfg.Key.Public().(ed25519.PublicKey))
	return writeFileAtomic(filepath.Join(dir, HostnameFile), []byte(addr+"\n"), 0o644)
}

// LoadServiceDir fills cfg from one service directory: its keys and its
// optional ports, users, links and clients files.
func LoadServiceDir(dir string, allow []netip.Prefix, cfg *Config) error {
	if err := LoadKeys(dir, cfg); err != nil {
		return err
	}
	var err error
	if p, ok := present(dir, PortsFile); ok {
		if cfg.Forwards, err = LoadPorts(p, allow); err != nil {
			return err
		}
	}
	if p, ok := present(dir, UsersFile); ok {
		if cfg.Users, err = LoadUsers(p); err != nil {
			return err
		}
	}
	if p, ok := present(dir, LinksFile); ok {
		if cfg.Links, err = LoadLinks(p); err != nil {
			return err
		}
	}
	return loadClientsFile(dir, cfg)
}

func present(dir, name string) (string, bool) {
	p := filepath.Join(dir, name)
	_, err := os.Stat(p)
	return p, err == nil
}

// RunAll runs several services on one circuit manager, made from
// cfgs[0].Client, until ctx is done. ready is called once, when every
// service is reachable, with their Infos in cfgs' order; each cfg's own
// Ready is called as that service becomes reachable. The first service
// that fails ends them all.
func RunAll(ctx context.Context, cfgs []Config, ready func([]Info)) error {
	if len(cfgs) == 0 {
		return errors.New("hiddenserver: no services")
	}
	base := cfgs[0]
	if base.Client.Logger == nil {
		base.Client.Logger = base.Logger
	}
	base.Metrics.observeBuild(&base.Client)
	m := client.NewManager(base.Client)
	base.Metrics.watch(m)
	defer m.Close()
	if err := m.WaitUsable(ctx); err != nil {
		return nil // ctx ended first
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go m.Run(ctx)
	infos := make([]Info, len(cfgs))
	var mu sync.Mutex
	left := len(cfgs)
	errc := make(chan error, len(cfgs))
	for i, cfg := range cfgs {
		cfg.Builder = m
		if cfg.Directory == nil && cfg.PublishVia != nil {
			cfg.Directory = cfg.PublishVia(m.TunnelHTTP("publish", publishTimeout))
		}
		own := cfg.Ready
		cfg.Ready = func(in Info) {
			if own != nil {
				own(in)
			}
			mu.Lock()
			defer mu.Unlock()
			infos[i] = in
			if left--; left == 0 && ready != nil {
				ready(infos)
			}
		}
		go func() { errc <- Run(ctx, cfg) }()
	}
	var first error
	for range cfgs {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	return first
}

// ServiceLogger is base with the service's directory name attached.
func ServiceLogger(base *slog.Logger, dir string) *slog.Logger {
	return base.With("service", filepath.Base(dir))
}
