package main

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"onion/client"

	"github.com/urfave/cli/v2"

	"onion/hiddenserver"
	"onion/internal/keyfile"
	"onion/onion"
	"onion/proxy"
)

func hiddenserverCommand() *cli.Command {
	dataDir := &cli.StringFlag{Name: "data-dir", Value: filepath.Join("onion-data", "hiddenserver"), Usage: "where the service key (service.key, e2e.key) lives", EnvVars: []string{"ONION_HIDDENSERVER_DATA_DIR"}}
	users := &cli.StringFlag{Name: "users", Usage: "users `FILE` (from onion hiddenserver adduser); with it, every stream must log in", EnvVars: []string{"ONION_USERS"}}
	return &cli.Command{
		Name:  "hiddenserver",
		Usage: "run the hidden server: echo (port 7), HTTP (port 80) and your own apps (--forward), reachable only by its onion address",
		Description: "The service builds its own circuits to meeting relays and publishes a descriptor signed\n" +
			"by its key; it never listens on a socket. Prints\n" +
			"`hiddenserver ready address=ADDRESS.onion [status=HOST:PORT] [metrics=HOST:PORT]` once reachable (the address is also in DATA-DIR/hostname).\n" +
			"With --services DIR: one service per sub-directory, each with its keys, hostname and optional\n" +
			"ports (`VPORT TARGET` lines), users, clients and links files; it prints\n" +
			"`hiddenserver service NAME address=…` for each, then `hiddenserver ready address=FIRST services=NAME=ADDR,…`.",
		// Not Required: urfave/cli would then demand them of `adduser` too.
		Flags: append(append(directoryFlagDefs(false),
			dataDir,
			users,
			&cli.StringFlag{Name: "clients", Usage: "clients `FILE` (from onion hiddenserver client-key): only these clients' keys reach the service, without a password", EnvVars: []string{"ONION_CLIENTS"}},
			&cli.StringFlag{Name: "links", Usage: "links file: one `NAME URL` per line (http/https only) for /open/NAME; default: a small built-in set", EnvVars: []string{"ONION_LINKS"}},
			&cli.StringFlag{Name: "services", Usage: "run one service per sub-directory of `DIR` (keys, hostname, and optional ports, users, links, clients files; see README); replaces --data-dir, --users, --links, --forward", EnvVars: []string{"ONION_SERVICES"}},
			&cli.StringSliceFlag{Name: "forward", Usage: "relay virtual port VPORT to a local app: `VPORT=HOST:PORT` (IP literal or localhost) or VPORT=unix:/PATH; repeatable; takes the port from the built-in echo (7) or pages (80)", EnvVars: []string{"ONION_FORWARD"}},
			&cli.StringSliceFlag{Name: "forward-allow", Usage: "let forwards reach this non-loopback `PREFIX` (IP or CIDR; repeatable); loopback is always allowed", EnvVars: []string{"ONION_FORWARD_ALLOW"}},
			&cli.IntFlag{Name: "max-streams", Value: hiddenserver.DefaultMaxStreams, Usage: "concurrent forwarded streams per service; more are refused", EnvVars: []string{"ONION_MAX_STREAMS"}},
			&cli.IntFlag{Name: "meeting-points", Value: hiddenserver.DefaultMeetingPoints, Usage: "how many meeting relays to keep circuits to", EnvVars: []string{"ONION_MEETING_POINTS"}},
			&cli.DurationFlag{Name: "publish-interval", Value: hiddenserver.DefaultPublishInterval, Usage: "how often to re-publish the descriptor", EnvVars: []string{"ONION_PUBLISH_INTERVAL"}},
			plainLinksFlag(),
			labFlag(),
			hiddenStatusFlag(),
		), metricsFlags()...),
		Action: runHiddenServer,
		Subcommands: []*cli.Command{{
			Name:      "adduser",
			Usage:     "add a user (or change a password) in the users file; prompts for the password",
			ArgsUsage: "NAME",
			Description: "Stores a salted scrypt verifier, never the password. The password is read from the\n" +
				"terminal, or from ONION_PASSWORD / --password-file for scripts.",
			Flags: []cli.Flag{
				dataDir,
				&cli.StringFlag{Name: "users", Usage: "users file to write (mode 0600)", Required: true, EnvVars: []string{"ONION_USERS"}},
				&cli.StringFlag{Name: "password-file", Usage: "read the password from the first line of this file (mode 0600)"},
			},
			Action: runAddUser,
		}, clientKeyCommand()},
	}
}

func serviceKeys(dataDir string) (ed25519.PrivateKey, error) {
	k, err := keyfile.Ed25519(filepath.Join(dataDir, "service.key"))
	if err != nil {
		return nil, fmt.Errorf("service key: %w", err)
	}
	return k, nil
}

func runHiddenServer(c *cli.Context) error {
	logger, err := newLogger(c, "hiddenserver")
	if err != nil {
		return err
	}
	if missing := missingFlags(c, "directory", "directory-key"); missing != nil {
		return missing // said as for every command's required flags
	}
	dir, err := directoryFlags(c)
	if err != nil {
		return err
	}
	views, err := startHiddenViews(c, logger)
	if err != nil {
		return err
	}
	cfg := hiddenserver.Config{
		Client:          client.Config{Directory: dir, Logger: logger, PlainLinks: c.Bool("insecure-plain-links"), Lab: c.Bool("lab")},
		PublishVia:      dir.publisher,
		MeetingPoints:   c.Int("meeting-points"),
		PublishInterval: c.Duration("publish-interval"),
		MaxStreams:      c.Int("max-streams"),
		Logger:          logger,
		Metrics:         views.metrics,
		Status:          views.status,
		Ready: func(i hiddenserver.Info) {
			fmt.Printf("hiddenserver ready address=%s%s\n", i.Address, views.ready)
		},
	}
	if c.String("services") != "" {
		return runServices(c, cfg, views.ready)
	}
	if err := serviceFiles(c, &cfg); err != nil {
		return err
	}
	return hiddenserver.Run(c.Context, cfg)
}

// runServices runs every service of --services DIR, each configured by
// the files in its own sub-directory; base holds what they share.
func runServices(c *cli.Context, base hiddenserver.Config, metricsField string) error {
	for _, f := range []string{"users", "links", "forward", "clients"} {
		if c.IsSet(f) {
			return cli.Exit("--"+f+" does not go with --services: put it in each service's directory", 2)
		}
	}
	allow, err := hiddenserver.ParsePrefixes(c.StringSlice("forward-allow"))
	if err != nil {
		return err
	}
	dirs, err := hiddenserver.ServiceDirs(c.String("services"))
	if err != nil {
		return err
	}
	cfgs := make([]hiddenserver.Config, len(dirs))
	for i, d := range dirs {
		cfg := base
		cfg.Logger = hiddenserver.ServiceLogger(base.Logger, d)
		name := filepath.Base(d)
		cfg.Ready = func(i hiddenserver.Info) { fmt.Printf("hiddenserver service %s address=%s\n", name, i.Address) }
		if err := hiddenserver.LoadServiceDir(d, allow, &cfg); err != nil {
			return fmt.Errorf("service %s: %w", name, err)
		}
		cfgs[i] = cfg
	}
	return hiddenserver.RunAll(c.Context, cfgs, func(infos []hiddenserver.Info) {
		list := make([]string, len(infos))
		for i, in := range infos {
			list[i] = filepath.Base(dirs[i]) + "=" + in.Address
		}
		fmt.Printf("hiddenserver ready address=%s services=%s%s\n", infos[0].Address, strings.Join(list, ","), metricsField)
	})
}

// serviceFiles loads the keys, users and links files into cfg.
func serviceFiles(c *cli.Context, cfg *hiddenserver.Config) (err error) {
	if err := hiddenserver.LoadKeys(c.String("data-dir"), cfg); err != nil {
		return err
	}
	if cfg.Client.Guards, err = client.LoadGuards(filepath.Join(c.String("data-dir"), client.GuardsFile)); err != nil {
		return err
	}
	if p := c.String("users"); p != "" {
		if cfg.Users, err = hiddenserver.LoadUsers(p); err != nil {
			return err
		}
	}
	if p := c.String("links"); p != "" {
		if cfg.Links, err = hiddenserver.LoadLinks(p); err != nil {
			return err
		}
	}
	if p := c.String("clients"); p != "" {
		if cfg.Clients, err = hiddenserver.LoadClients(p); err != nil {
			return err
		}
	}
	cfg.Forwards, err = forwardFlags(c)
	return err
}

// forwardFlags reads --forward, judged against --forward-allow.
func forwardFlags(c *cli.Context) ([]hiddenserver.Forward, error) {
	allow, err := hiddenserver.ParsePrefixes(c.StringSlice("forward-allow"))
	if err != nil {
		return nil, err
	}
	var fs []hiddenserver.Forward
	for _, v := range c.StringSlice("forward") {
		f, err := hiddenserver.ParseForward(v, allow)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, hiddenserver.CheckForwards(fs)
}

func runAddUser(c *cli.Context) error {
	name := c.Args().First()
	if name == "" || c.NArg() != 1 {
		return cli.Exit("usage: onion hiddenserver adduser --users FILE NAME", 2)
	}
	key, err := serviceKeys(c.String("data-dir"))
	if err != nil {
		return err
	}
	pw, err := proxy.NewPassword(c.String("password-file"), os.Getenv("ONION_PASSWORD"), proxy.StdinPrompter())
	if err != nil {
		return err
	}
	pub := key.Public().(ed25519.PublicKey)
	if err := hiddenserver.AddUser(c.String("users"), pub, name, pw); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "user %s saved in %s (for %s)\n", name, c.String("users"), onion.EncodeAddress(pub))
	return nil
}
