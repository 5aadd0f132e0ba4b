package main

import (
	"errors"
	"log/slog"
	"os"
	"strings"

	"onion/client"

	"github.com/urfave/cli/v2"

	"onion/onion"
	"onion/proxy"
)

func clientCommand() *cli.Command {
	return &cli.Command{
		Name:      "client",
		Usage:     "talk to a hidden service from the terminal: echo lines, /login, /open",
		ArgsUsage: "ADDRESS.onion",
		Description: "Builds its own circuits (no proxy needed) and joins the service at one of its\n" +
			"meeting relays. Lines you type go to the service's echo port and come back.\n" +
			"/login NAME proves a password without sending it; /open NAME asks for a URL reply.",
		Flags: append(directoryFlagDefs(true),
			labFlag(),
			&cli.StringFlag{Name: "user", Usage: "log in as this user from the start", EnvVars: []string{"ONION_USER"}},
			&cli.StringFlag{Name: "password-file", Usage: "password for logins at ADDRESS, first line of this file (mode 0600); ONION_PASSWORD works too"},
			&cli.StringFlag{Name: "open-urls", Usage: "ask, always or never open URL replies (default: ask)", EnvVars: []string{"ONION_OPEN_URLS"}},
			clientKeyFlag(),
		),
		Action: runClient,
	}
}

func runClient(c *cli.Context) error {
	addr := strings.ToLower(strings.TrimSpace(c.Args().First()))
	if addr == "" || c.NArg() != 1 {
		return cli.Exit("usage: onion client [flags] ADDRESS.onion", 2)
	}
	if _, err := onion.ParseAddress(addr); err != nil {
		return err
	}
	logger, err := newLogger(c, "client")
	if err != nil {
		return err
	}
	prompt := proxy.StdinPrompter()
	if prompt == nil {
		return errors.New("onion client is interactive: run it on a terminal (scripts can use the SOCKS proxy)")
	}
	chat := &proxy.Chat{Address: addr, Prompt: prompt, Out: os.Stdout, Color: stderrIsColourTerminal(), User: c.String("user")}
	if err := chatManager(c, logger, chat); err != nil {
		return err
	}
	if err := chat.Manager.WaitUsable(c.Context); err != nil {
		return nil // interrupted
	}
	go chat.Manager.Run(c.Context)
	return chat.Run(c.Context)
}

// chatManager gives the chat its circuit manager, URL opener and the
// channel its URL replies arrive on.
func chatManager(c *cli.Context, logger *slog.Logger, chat *proxy.Chat) error {
	dir, err := directoryFlags(c)
	if err != nil {
		return err
	}
	passwords, opener, err := hiddenServiceClient(c, logger, chat.Address) // the address the user typed
	keys, kerr := clientKeys(c)
	if err = errors.Join(err, kerr); err != nil {
		return err
	}
	passwords.AskUser = false // the chat logs in with /login NAME
	urls := make(chan string, 4)
	chat.URLs, chat.Opener = urls, opener
	chat.Manager = client.NewManager(client.Config{
		Directory: dir, Services: dir.services, Logger: logger, Credentials: passwords, ClientKeys: keys, Lab: c.Bool("lab"),
		OpenURL: func(u string) {
			select {
			case urls <- u:
			default: // the chat takes one per /open; extra ones are dropped
			}
		},
	})
	return nil
}
