package main

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"

	"onion/client"

	"github.com/urfave/cli/v2"

	"onion/hiddenserver"
	"onion/internal/keyfile"
	"onion/onion"
	"onion/proxy"
)

func hiddenserverCommand() *cli.Command {
	dataDir := &cli.StringFlag{Name: "data-dir", Value: filepath.Join("onion-data", "hiddenserver"), Usage: "where the service key (service.key, e2e.key) lives", EnvVars: []string{"ONION_HIDDENSERVER_DATA_DIR"}}
	users := &cli.StringFlag{Name: "users", Usage: "users file (from `onion hiddenserver adduser`); with it, every stream must log in", EnvVars: []string{"ONION_USERS"}}
	return &cli.Command{
		Name:  "hiddenserver",
		Usage: "run the hidden server: echo (port 7) and HTTP (port 80), reachable only by its onion address",
		Description: "The service builds its own circuits to meeting relays and publishes a descriptor signed\n" +
			"by its key; it never listens on a socket. Prints\n" +
			"`hiddenserver ready address=ADDRESS.onion` once reachable.",
		// Not Required: urfave/cli would then demand them of `adduser` too.
		Flags: append(directoryFlagDefs(false),
			dataDir,
			users,
			&cli.StringFlag{Name: "links", Usage: "links file: one `NAME URL` per line (http/https only) for /open/NAME; default: a small built-in set", EnvVars: []string{"ONION_LINKS"}},
			&cli.IntFlag{Name: "meeting-points", Value: hiddenserver.DefaultMeetingPoints, Usage: "how many meeting relays to keep circuits to", EnvVars: []string{"ONION_MEETING_POINTS"}},
			&cli.DurationFlag{Name: "publish-interval", Value: hiddenserver.DefaultPublishInterval, Usage: "how often to re-publish the descriptor", EnvVars: []string{"ONION_PUBLISH_INTERVAL"}},
		),
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
		}},
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
	if len(c.StringSlice("directory")) == 0 || len(c.StringSlice("directory-key")) == 0 {
		return cli.Exit("onion hiddenserver needs --directory URL and --directory-key KEY", 2)
	}
	dir, err := directoryFlags(c)
	if err != nil {
		return err
	}
	cfg := hiddenserver.Config{
		Client:          client.Config{Directory: dir, Logger: logger},
		PublishVia:      dir.publisher,
		MeetingPoints:   c.Int("meeting-points"),
		PublishInterval: c.Duration("publish-interval"),
		Logger:          logger,
		Ready:           func(i hiddenserver.Info) { fmt.Printf("hiddenserver ready address=%s\n", i.Address) },
	}
	if err := serviceFiles(c, &cfg); err != nil {
		return err
	}
	return hiddenserver.Run(c.Context, cfg)
}

// serviceFiles loads the keys, users and links files into cfg.
func serviceFiles(c *cli.Context, cfg *hiddenserver.Config) (err error) {
	if cfg.Key, err = serviceKeys(c.String("data-dir")); err != nil {
		return err
	}
	if cfg.E2EKey, err = keyfile.X25519(filepath.Join(c.String("data-dir"), "e2e.key")); err != nil {
		return fmt.Errorf("e2e key: %w", err)
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
		cfg.Links, err = hiddenserver.LoadLinks(p)
	}
	return err
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
