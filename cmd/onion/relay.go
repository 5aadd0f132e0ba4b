package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"onion/directory"
	"onion/internal/keyfile"
	"onion/onion"
	"onion/relay"
)

func relayCommand() *cli.Command {
	return &cli.Command{
		Name:  "relay",
		Usage: "run a relay: carry circuits, peel one layer each, and (with --exit) connect to destinations",
		Description: "A relay keeps an ed25519 identity key and an X25519 onion key in its data dir\n" +
			"(mode 0600), publishes a signed descriptor with their public halves to the\n" +
			"directory, and re-publishes it every --publish-interval. Prints\n" +
			"`relay ready addr=HOST:PORT fingerprint=FP nickname=NAME` once the directory has it.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:9001", Usage: "address to accept links on (port 0 picks a free port)", EnvVars: []string{"ONION_RELAY_LISTEN"}},
			&cli.StringFlag{Name: "address", Usage: "host:port to publish, if others must reach this relay at another address than --listen (e.g. behind NAT or when listening on 0.0.0.0)", EnvVars: []string{"ONION_RELAY_ADDRESS"}},
			&cli.StringFlag{Name: "directory", Usage: "directory URL, e.g. http://127.0.0.1:7000", Required: true, EnvVars: []string{"ONION_DIRECTORY"}},
			&cli.BoolFlag{Name: "exit", Usage: "let circuits end here and connect to destinations", EnvVars: []string{"ONION_RELAY_EXIT"}},
			&cli.StringFlag{Name: "exit-policy", Value: "reject-private", Usage: "which destinations an exit may reach: reject-private (no loopback/private/link-local addresses) or accept-all", EnvVars: []string{"ONION_EXIT_POLICY"}},
			&cli.StringFlag{Name: "nickname", Usage: "name shown in relay lists (letters, digits, - and _; default: derived from the fingerprint)", EnvVars: []string{"ONION_RELAY_NICKNAME"}},
			&cli.StringFlag{Name: "data-dir", Value: filepath.Join("onion-data", "relay"), Usage: "where the relay's keys live", EnvVars: []string{"ONION_RELAY_DATA_DIR"}},
			&cli.DurationFlag{Name: "publish-interval", Value: relay.DefaultPublishInterval, Usage: "how often to re-publish the descriptor (keep it under the directory's --relay-ttl)", EnvVars: []string{"ONION_PUBLISH_INTERVAL"}},
		},
		Action: runRelay,
	}
}

func runRelay(c *cli.Context) error {
	logger, err := newLogger(c, "relay")
	if err != nil {
		return err
	}
	policy, err := relay.ParsePolicy(c.String("exit-policy"))
	if err != nil {
		return err
	}
	dataDir := c.String("data-dir")
	identity, err := keyfile.Ed25519(filepath.Join(dataDir, "identity.key"))
	if err != nil {
		return fmt.Errorf("identity key: %w", err)
	}
	onionKey, err := keyfile.X25519(filepath.Join(dataDir, "onion.key"))
	if err != nil {
		return fmt.Errorf("onion key: %w", err)
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return fmt.Errorf("relay listen: %w", err)
	}
	addr := c.String("address")
	if addr == "" {
		addr = ln.Addr().String()
	}
	nick := c.String("nickname")
	if nick == "" {
		nick = "relay" + onion.Fingerprint(identity.Public().(ed25519.PublicKey))[:8]
	}
	r, err := relay.New(relay.Config{
		Identity:        identity,
		OnionKey:        onionKey,
		Nickname:        nick,
		Address:         addr,
		Exit:            c.Bool("exit"),
		Policy:          policy,
		Directory:       &directory.Client{URL: c.String("directory")},
		PublishInterval: c.Duration("publish-interval"),
		Logger:          logger,
	})
	if err != nil {
		ln.Close()
		return err
	}
	ctx := c.Context
	served := make(chan error, 1)
	go func() { served <- r.Serve(ctx, ln) }()
	if err := publishUntilAccepted(ctx, r, logger); err != nil {
		<-served
		return err
	}
	logger.Info("relay running", "nickname", nick, "fingerprint", r.Fingerprint(), "address", addr,
		"exit", c.Bool("exit"), "exit_policy", policy.String())
	fmt.Printf("relay ready addr=%s fingerprint=%s nickname=%s\n", addr, r.Fingerprint(), nick)
	return <-served
}

// publishUntilAccepted retries the first publication: the directory may
// still be starting.
func publishUntilAccepted(ctx context.Context, r *relay.Relay, logger interface {
	Warn(string, ...any)
}) error {
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := r.Publish(pctx)
		cancel()
		if err == nil {
			return nil
		}
		logger.Warn("publishing descriptor failed; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}
