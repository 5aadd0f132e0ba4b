package main

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"onion/relay"
)

func relayCommand() *cli.Command {
	return &cli.Command{
		Name:  "relay",
		Usage: "run a relay: carry circuits, peel one layer each, and (with --exit) connect to destinations",
		Description: "A relay keeps an ed25519 identity key and an X25519 onion key in its data dir (mode 0600),\n" +
			"publishes their public halves to the directory, and extends circuits only to relays in the\n" +
			"list that --directory-key verifies. Then it prints `relay ready addr=HOST:PORT fingerprint=FP nickname=NAME`.",
		Flags: append(directoryFlagDefs(true),
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:9001", Usage: "address to accept links on (port 0 picks a free port)", EnvVars: []string{"ONION_RELAY_LISTEN"}},
			&cli.StringFlag{Name: "address", Usage: "host:port to publish, if others must reach this relay at another address than --listen (e.g. behind NAT or when listening on 0.0.0.0); a public IP address, unless the directory runs with --allow-private-addresses", EnvVars: []string{"ONION_RELAY_ADDRESS"}},
			&cli.BoolFlag{Name: "exit", Usage: "let circuits end here and connect to destinations", EnvVars: []string{"ONION_RELAY_EXIT"}},
			&cli.StringFlag{Name: "exit-policy", Value: "reject-private", Usage: "which destinations an exit may reach: reject-private (no loopback/private/link-local addresses) or accept-all", EnvVars: []string{"ONION_EXIT_POLICY"}},
			&cli.StringFlag{Name: "nickname", Usage: "name shown in relay lists (letters, digits, - and _; default: derived from the fingerprint)", EnvVars: []string{"ONION_RELAY_NICKNAME"}},
			&cli.StringFlag{Name: "data-dir", Value: filepath.Join("onion-data", "relay"), Usage: "where the relay's keys live", EnvVars: []string{"ONION_RELAY_DATA_DIR"}},
			&cli.BoolFlag{Name: "no-peer-shares", Usage: "bound what peers make the relay hold only in all, not per peer address (a network on one machine, where every peer is 127.0.0.1)", EnvVars: []string{"ONION_NO_PEER_SHARES"}},
			&cli.DurationFlag{Name: "publish-interval", Value: relay.DefaultPublishInterval, Usage: "how often to re-publish the descriptor (keep it under the directory's --relay-ttl)", EnvVars: []string{"ONION_PUBLISH_INTERVAL"}},
		),
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
	dir, err := directoryFlags(c)
	if err != nil {
		return err
	}
	identity, onionKey, err := relay.LoadKeys(c.String("data-dir"))
	if err != nil {
		return err
	}
	return relay.Run(c.Context, relay.Config{
		Identity:        identity,
		OnionKey:        onionKey,
		Nickname:        c.String("nickname"),
		Address:         c.String("address"),
		Listen:          c.String("listen"),
		Exit:            c.Bool("exit"),
		Policy:          policy,
		Directory:       dir,
		Relays:          dir,
		PublishInterval: c.Duration("publish-interval"),
		Limits:          relay.Limits{NoPeerShares: c.Bool("no-peer-shares")},
		Logger:          logger,
		Ready: func(i relay.Info) {
			fmt.Printf("relay ready addr=%s fingerprint=%s nickname=%s\n", i.Addr, i.Fingerprint, i.Nickname)
		},
	})
}
