package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"onion/directory"
	"onion/internal/keyfile"
	"onion/onion"
)

func directoryCommand() *cli.Command {
	return &cli.Command{
		Name:  "directory",
		Usage: "run the directory authority: relays publish to it, clients fetch its signed relay list",
		Description: "Prints one line when ready:\n" +
			"   directory ready url=http://HOST:PORT key=KEY\n" +
			"Give KEY (also written to DATA_DIR/directory.pub) to the relays and proxies that use this directory.",
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:    "listen",
				Value:   "127.0.0.1:7000",
				Usage:   "address to serve HTTP on (port 0 picks a free port)",
				EnvVars: []string{"ONION_DIRECTORY_LISTEN"},
			},
			&cli.StringFlag{
				Name:    "data-dir",
				Value:   filepath.Join("onion-data", "directory"),
				Usage:   "directory for the signing key (directory.key) and its public half (directory.pub)",
				EnvVars: []string{"ONION_DIRECTORY_DATA_DIR"},
			},
			&cli.DurationFlag{
				Name:    "relay-ttl",
				Value:   directory.DefaultRelayTTL,
				Usage:   "drop a relay or hidden service that has not published a fresh descriptor for this long",
				EnvVars: []string{"ONION_DIRECTORY_RELAY_TTL"},
			},
			&cli.DurationFlag{
				Name:    "list-validity",
				Value:   directory.DefaultListValidity,
				Usage:   "how long a served relay list stays valid",
				EnvVars: []string{"ONION_DIRECTORY_LIST_VALIDITY"},
			},
		},
		Action: runDirectory,
	}
}

func runDirectory(c *cli.Context) error {
	log, err := newLogger(c, "directory")
	if err != nil {
		return err
	}
	ttl, validity := c.Duration("relay-ttl"), c.Duration("list-validity")
	if ttl < time.Second || validity < time.Second {
		return fmt.Errorf("--relay-ttl %s and --list-validity %s must be at least 1s", ttl, validity)
	}
	key, err := loadDirectoryKey(c.String("data-dir"))
	if err != nil {
		return err
	}
	ln, err := listenDirectory(c.String("listen"))
	if err != nil {
		return err
	}
	srv := &directory.Server{Key: key, RelayTTL: ttl, ServiceTTL: ttl, ListValidity: validity, Logger: log}
	url := "http://" + ln.Addr().String()
	pub := onion.EncodeKey(key.Public().(ed25519.PublicKey))
	log.Info("directory listening", "url", url, "key", pub)
	fmt.Fprintf(c.App.Writer, "directory ready url=%s key=%s\n", url, pub)
	if err := srv.Serve(c.Context, ln); err != nil {
		return err
	}
	log.Info("directory stopped")
	return nil
}

// loadDirectoryKey loads or creates the signing key in dataDir and writes its
// public half beside it, for operators and scripts to hand out.
func loadDirectoryKey(dataDir string) (ed25519.PrivateKey, error) {
	key, err := keyfile.Ed25519(filepath.Join(dataDir, "directory.key"))
	if err != nil {
		return nil, fmt.Errorf("directory key: %w", err)
	}
	pub := onion.EncodeKey(key.Public().(ed25519.PublicKey))
	if err := os.WriteFile(filepath.Join(dataDir, "directory.pub"), []byte(pub+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write directory public key: %w", err)
	}
	return key, nil
}

func listenDirectory(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listen on %s: address already in use (is another directory running? choose another --listen)", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}
