package main

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"onion/directory"
	"onion/onion"
)

func directoryCommand() *cli.Command {
	return &cli.Command{
		Name:  "directory",
		Usage: "run the directory authority: relays publish to it, clients fetch its signed relay list",
		Description: "Prints one line when ready:\n" +
			"   directory ready url=http://HOST:PORT key=KEY [metrics=HOST:PORT]\n" +
			"and then the flags that relays, proxies and hidden servers give to use it:\n" +
			"   --directory http://HOST:PORT --directory-key KEY\n" +
			"(listening on 0.0.0.0 or [::], HOST is DIRECTORY_IP: put this machine's address there).\n" +
			"KEY is also in DATA_DIR/directory.pub.\n" +
			"Several authorities: give each every authority's URL and key (--authority, --authority-key, itself\n" +
			"included); they vote every --vote-interval and serve the list a majority signed. Relays, proxies and\n" +
			"hidden servers then take every URL and key: --directory URL1,URL2,URL3 --directory-key KEY1,KEY2,KEY3.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:7000", Usage: "address to serve HTTP on (port 0 picks a free port)", EnvVars: []string{"ONION_DIRECTORY_LISTEN"}},
			&cli.StringFlag{Name: "data-dir", Value: filepath.Join("onion-data", "directory"), Usage: "directory for the signing key (directory.key) and its public half (directory.pub)", EnvVars: []string{"ONION_DIRECTORY_DATA_DIR"}},
			&cli.DurationFlag{Name: "relay-ttl", Value: directory.DefaultRelayTTL, Usage: "drop a relay or hidden service that has not published a fresh descriptor for this long", EnvVars: []string{"ONION_DIRECTORY_RELAY_TTL"}},
			&cli.BoolFlag{Name: "allow-private-addresses", Usage: "list relays at loopback, private and link-local addresses and host names, for a network on one machine or a LAN (by default only public IP addresses: every relay dials what the list holds)", EnvVars: []string{"ONION_DIRECTORY_ALLOW_PRIVATE"}},
			&cli.DurationFlag{Name: "list-validity", Value: directory.DefaultListValidity, Usage: "how long a served relay list stays valid", EnvVars: []string{"ONION_DIRECTORY_LIST_VALIDITY"}},
			&cli.StringSliceFlag{Name: "authority", Usage: "with several authorities: every authority's `URL`, this one's included (repeat, or a comma list); they then vote and serve the list a majority signs", EnvVars: []string{"ONION_AUTHORITIES"}},
			&cli.StringSliceFlag{Name: "authority-key", Usage: "each --authority's public `KEY`, in the same order", EnvVars: []string{"ONION_AUTHORITY_KEYS"}},
			&cli.IntFlag{Name: "listen-fd", Hidden: true, Usage: "serve on the listening socket inherited as this file descriptor instead of --listen (onion up hands its authorities theirs)"},
			&cli.IntFlag{Name: "max-relays", Value: directory.DefaultMaxRelays, Usage: "hold at most this many relays; a new one beyond it is refused, a listed one never dropped (the list's size in bytes is bounded too)", EnvVars: []string{"ONION_DIRECTORY_MAX_RELAYS"}},
			&cli.IntFlag{Name: "max-relays-per-address", Value: directory.DefaultMaxRelaysPerAddress, Usage: "list at most this many relays at one IP address", EnvVars: []string{"ONION_DIRECTORY_MAX_PER_ADDRESS"}},
			&cli.StringFlag{Name: "approved", Usage: "`FILE` of relay fingerprints (one a line, # comments) exempt from --max-relays-per-address", EnvVars: []string{"ONION_DIRECTORY_APPROVED"}},
			&cli.BoolFlag{Name: "approved-only", Usage: "list only the relays in --approved", EnvVars: []string{"ONION_DIRECTORY_APPROVED_ONLY"}},
			&cli.Int64Flag{Name: "max-relay-weight", Value: onion.DefaultWeightCap, Usage: "the most path-selection weight (bytes/s) one relay gets, whatever bandwidth it advertises", EnvVars: []string{"ONION_DIRECTORY_MAX_RELAY_WEIGHT"}},
			&cli.StringFlag{Name: "rejected", Usage: "`FILE` of relay fingerprints never to list", EnvVars: []string{"ONION_DIRECTORY_REJECTED"}},
			&cli.IntFlag{Name: "publish-rate", Value: directory.DefaultPublishRate, Usage: "relay publications one source IP address may make per minute", EnvVars: []string{"ONION_DIRECTORY_PUBLISH_RATE"}},
			&cli.DurationFlag{Name: "vote-interval", Value: directory.DefaultVoteInterval, Usage: "with several authorities: how often they agree on a new relay list", EnvVars: []string{"ONION_VOTE_INTERVAL"}},
		}, metricsFlags()...),
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
	key, err := directory.LoadKey(c.String("data-dir"))
	if err != nil {
		return err
	}
	met, err := startMetrics(c, log)
	if err != nil {
		return err
	}
	cfg, err := admissionFlags(c, met)
	if err != nil {
		return err
	}
	cfg.Key, cfg.Logger, cfg.Metrics = key, log, met.reg
	cfg.RelayTTL, cfg.ServiceTTL, cfg.ListValidity = ttl, ttl, validity
	return directory.Run(c.Context, cfg)
}

// admissionFlags reads the flags that say which relays are listed and
// among which authorities, and the rest of the config but the key, the
// logger and the timings.
func admissionFlags(c *cli.Context, met partMetrics) (cfg directory.Config, err error) {
	if urls := c.StringSlice("authority"); len(urls) > 0 {
		if cfg.Authorities, err = authorityFlags(urls, c.StringSlice("authority-key"), "authority"); err != nil {
			return cfg, err
		}
	}
	for _, f := range []struct {
		flag string
		to   *[]string
	}{{"approved", &cfg.Approved}, {"rejected", &cfg.Rejected}} {
		if path := c.String(f.flag); path != "" {
			if *f.to, err = directory.ReadFingerprints(path); err != nil {
				return cfg, fmt.Errorf("--%s: %w", f.flag, err)
			}
		}
	}
	cfg.ApprovedOnly = c.Bool("approved-only")
	if cfg.ApprovedOnly && c.String("approved") == "" {
		return cfg, fmt.Errorf("--approved-only needs --approved FILE")
	}
	cfg.MaxRelaysPerAddress, cfg.PublishRate = c.Int("max-relays-per-address"), c.Int("publish-rate")
	cfg.MaxRelays = c.Int("max-relays")
	cfg.VoteInterval, cfg.MaxRelayWeight = c.Duration("vote-interval"), c.Int64("max-relay-weight")
	cfg.Listen, cfg.AllowPrivateAddresses = c.String("listen"), c.Bool("allow-private-addresses")
	if fd := c.Int("listen-fd"); fd > 0 {
		if cfg.Listener, err = net.FileListener(os.NewFile(uintptr(fd), "listener")); err != nil {
			return cfg, fmt.Errorf("--listen-fd %d: %w", fd, err)
		}
	}
	cfg.Ready = func(i directory.Info) {
		fmt.Fprintf(c.App.Writer, "directory ready url=%s key=%s%s\n", i.URL, i.Key, met.readyField())
		if underUp(c) {
			return
		}
		fmt.Fprintf(c.App.Writer, "relays, proxies and hidden servers join with: --directory %s --directory-key %s\n", joinURL(i.URL), i.Key)
	}
	return cfg, nil
}

// joinURL is the URL others use: a directory listening on every
// interface has none of its own, so its host becomes a placeholder.
func joinURL(listening string) string {
	u, err := url.Parse(listening)
	if err != nil {
		return listening
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil && ip.Unmap().IsUnspecified() {
		u.Host = net.JoinHostPort("DIRECTORY_IP", u.Port())
	}
	return u.String()
}
