// Command rogue is a relay that misbehaves on purpose, for the end-to-end
// tests of what the network detects (e2e/rogue_test.go). Only those tests
// build it; it is no part of the onion binary, and package relay has no
// trace of it.
//
// It runs a real relay through relay.Run and misbehaves from outside,
// wrapping the plaintext side of its links (Config.WrapLink, above TLS: the
// cells, not the records, are what it tampers with). On every link it follows the
// cells the relay writes and, as the environment variable ONION_ROGUE says,
//
//	tamper   flips one bit of every 8th RELAY cell (either direction)
//	replay   writes every 8th RELAY cell twice
//	drop     drops every 8th RELAY cell
//	reorder  holds every 8th RELAY cell back and writes it after the next
//	         RELAY cell on its link
//	forge    replaces the payload of every CREATED with random bytes
//
// It behaves until its relay is ready (its reachability self-test passed
// and the directory has its descriptor), then misbehaves on every link.
// RELAY cells are counted per direction across all links: forward is what
// the relay writes on links it dialed (toward the exit), backward what it
// writes on links it accepted (toward the client). The link preface and
// every other cell pass untouched.
//
// It takes the flags of `onion relay` that the tests use and prints the
// same ready line.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"onion/directory"
	"onion/internal/keyfile"
	"onion/onion"
	"onion/relay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "rogue:", err)
		stop()
		os.Exit(1)
	}
}

// options are the flags.
type options struct {
	listen, address, directory string
	directoryKey               string
	exit                       bool
	policy, nickname, dataDir  string
	publishInterval            time.Duration
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("rogue", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to accept links on")
	fs.StringVar(&o.address, "address", "", "host:port to publish (default: the listener's)")
	fs.StringVar(&o.directory, "directory", "", "directory URL (required)")
	fs.StringVar(&o.directoryKey, "directory-key", "", "the directory's public key (required)")
	fs.BoolVar(&o.exit, "exit", false, "let circuits end here")
	fs.StringVar(&o.policy, "exit-policy", "reject-private", "reject-private or accept-all")
	fs.StringVar(&o.nickname, "nickname", "", "name in relay lists (default: from the fingerprint)")
	fs.StringVar(&o.dataDir, "data-dir", "", "where the relay's keys live (required)")
	fs.DurationVar(&o.publishInterval, "publish-interval", relay.DefaultPublishInterval, "how often to re-publish")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.directory == "" || o.directoryKey == "" || o.dataDir == "" || fs.NArg() > 0 {
		return o, fmt.Errorf("want --directory, --directory-key and --data-dir and no arguments, got %q", args)
	}
	return o, nil
}

func run(ctx context.Context, args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	r, err := newRogue(os.Getenv("ONION_ROGUE"), rand.Reader)
	if err != nil {
		return err
	}
	cfg, err := relayConfig(o)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("relay listen: %w", err)
	}
	cfg.Listener = ln
	cfg.WrapLink = r.wrapLink
	r.quiet.Store(true)
	ready := cfg.Ready
	cfg.Ready = func(i relay.Info) {
		r.quiet.Store(false) // listed: from now on it misbehaves
		ready(i)
	}
	return relay.Run(ctx, cfg)
}

// relayConfig is what `onion relay` would run with o.
func relayConfig(o options) (relay.Config, error) {
	policy, err := relay.ParsePolicy(o.policy)
	if err != nil {
		return relay.Config{}, err
	}
	key, err := onion.DecodeDirectoryKey(o.directoryKey)
	if err != nil {
		return relay.Config{}, err
	}
	dir := &directory.Client{URL: o.directory, Key: key}
	identity, err := keyfile.Ed25519(filepath.Join(o.dataDir, "identity.key"))
	if err != nil {
		return relay.Config{}, fmt.Errorf("identity key: %w", err)
	}
	onionKey, err := keyfile.X25519(filepath.Join(o.dataDir, "onion.key"))
	if err != nil {
		return relay.Config{}, fmt.Errorf("onion key: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("role", "relay")
	return relay.Config{
		Identity:        identity,
		OnionKey:        onionKey,
		Nickname:        o.nickname,
		Address:         o.address,
		Exit:            o.exit,
		Policy:          policy,
		Directory:       dir,
		Relays:          dir,
		PublishInterval: o.publishInterval,
		Logger:          logger,
		Ready: func(i relay.Info) {
			fmt.Printf("relay ready addr=%s fingerprint=%s nickname=%s\n", i.Addr, i.Fingerprint, i.Nickname)
		},
	}, nil
}
