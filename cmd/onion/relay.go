package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"onion/relay"
)

func relayCommand() *cli.Command {
	return &cli.Command{
		Name:  "relay",
		Usage: "run a relay: carry circuits, peel one layer each, and (with --exit) connect to destinations",
		Description: "A relay keeps an ed25519 identity key and an X25519 onion key in its data dir (mode 0600),\n" +
			"publishes their public halves to the directory, and extends circuits only to relays in the\n" +
			"list that --directory-key verifies. Before it publishes, it checks that it is reachable at its\n" +
			"address: a listed relay dials it back (it waits, warning, while not; the first relay of a network\n" +
			"publishes untested and checks later). Then it prints\n" +
			"   relay ready addr=HOST:PORT fingerprint=FP nickname=NAME reachable=yes|untested [metrics=HOST:PORT]\n" +
			"and the command that shows whether the directory lists it.",
		Flags: append(append(directoryFlagDefs(true),
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:9001", Usage: "address to accept links on (port 0 picks a free port; 0.0.0.0, [::] or :PORT need --address)", EnvVars: []string{"ONION_RELAY_LISTEN"}},
			&cli.StringFlag{Name: "address", Usage: "`HOST:PORT` to publish: where other relays and clients reach this one, if not --listen (required with 0.0.0.0, [::] or :PORT; behind NAT, the forwarded public address); an IP address ([2001:db8::5]:9001 for IPv6) or a host name, and a public IP unless the directory runs with --allow-private-addresses", EnvVars: []string{"ONION_RELAY_ADDRESS"}},
			&cli.BoolFlag{Name: "exit", Usage: "let circuits end here and connect to destinations", EnvVars: []string{"ONION_RELAY_EXIT"}},
			&cli.StringFlag{Name: "exit-policy", Value: "reject-private", Usage: "which destinations an exit may reach: reject-private (no loopback/private/link-local addresses), accept-all, or rules \"accept|reject ADDR[/BITS]:PORT[-PORT],...\" (ADDR *, *4, *6, private, an IPv4 or [IPv6] address; first match decides, no match refuses, private is refused first unless a rule names it), e.g. \"accept *:80,accept *:443\"", EnvVars: []string{"ONION_EXIT_POLICY"}},
			&cli.StringFlag{Name: "bandwidth", Usage: "bandwidth to advertise, bytes/s with an optional K, M or G (default 1M); the authorities cap the weight they list", EnvVars: []string{"ONION_RELAY_BANDWIDTH"}},
			&cli.StringFlag{Name: "family", Usage: "`FP,FP,...`: fingerprints of your other relays; two relays are one family, never on one path, when each names the other", EnvVars: []string{"ONION_RELAY_FAMILY"}},
			&cli.StringFlag{Name: "nickname", Usage: "name shown in relay lists (letters, digits, - and _; default: derived from the fingerprint)", EnvVars: []string{"ONION_RELAY_NICKNAME"}},
			&cli.StringFlag{Name: "data-dir", Value: filepath.Join("onion-data", "relay"), Usage: "where the relay's keys live", EnvVars: []string{"ONION_RELAY_DATA_DIR"}},
			&cli.BoolFlag{Name: "no-peer-shares", Usage: "bound what peers make the relay hold only in all, not per peer address (a network on one machine, where every peer is 127.0.0.1)", EnvVars: []string{"ONION_NO_PEER_SHARES"}},
			&cli.DurationFlag{Name: "publish-interval", Value: relay.DefaultPublishInterval, Usage: "how often to re-publish the descriptor (keep it under the directory's --relay-ttl)", EnvVars: []string{"ONION_PUBLISH_INTERVAL"}},
			plainLinksFlag(),
		), metricsFlags()...),
		Action: runRelay,
	}
}

func runRelay(c *cli.Context) error {
	logger, err := newLogger(c, "relay")
	if err != nil {
		return err
	}
	policy, bandwidth, err := relayPathFlags(c)
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
	met, err := startMetrics(c, logger)
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
		Bandwidth:       bandwidth,
		Family:          relay.ParseFamily(c.String("family")),
		Directory:       dir,
		Relays:          dir,
		PublishInterval: c.Duration("publish-interval"),
		Limits:          relay.Limits{NoPeerShares: c.Bool("no-peer-shares")},
		PlainLinks:      c.Bool("insecure-plain-links"),
		Logger:          logger,
		Metrics:         met.reg,
		Ready: func(i relay.Info) {
			printRelayReady(i, dir.URL, identity.Public().(ed25519.PublicKey), underUp(c), met)
		},
	})
}

// printRelayReady prints the ready line and how to check that the
// directory lists the relay: its identity key as the list holds it.
func printRelayReady(i relay.Info, dirURL string, id ed25519.PublicKey, quiet bool, met partMetrics) {
	reachable := "untested"
	if i.Reachable {
		reachable = "yes"
	}
	fmt.Printf("relay ready addr=%s fingerprint=%s nickname=%s reachable=%s%s\n", i.Addr, i.Fingerprint, i.Nickname, reachable, met.readyField())
	if quiet {
		return
	}
	fmt.Printf("relay listed? curl -s %s/v1/relays | grep -cF '%s'   (1: the directory lists this relay)\n",
		strings.TrimSuffix(dirURL, "/"), base64.StdEncoding.EncodeToString(id))
}

// relayPathFlags reads what clients choose relays by: the exit policy and
// the advertised bandwidth.
func relayPathFlags(c *cli.Context) (relay.Policy, int64, error) {
	policy, err := relay.ParsePolicy(c.String("exit-policy"))
	if err != nil {
		return nil, 0, err
	}
	bandwidth, err := relay.ParseBandwidth(c.String("bandwidth"))
	return policy, bandwidth, err
}
