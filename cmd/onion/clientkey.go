package main

// Client authorization on the command line (PROTOCOL.md §11.9): the
// service side's `onion hiddenserver client-key`, the proxy's --client-key.

import (
	"crypto/ecdh"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"onion/hiddenserver"
	"onion/internal/keyfile"
	"onion/onion"
)

func clientKeyFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "client-key", Usage: "the client-authorization key for a service that admits listed clients only: `ADDRESS.onion=FILE` (from onion hiddenserver client-key); repeatable", EnvVars: []string{"ONION_CLIENT_KEY"}}
}

// clientKeys reads --client-key values.
func clientKeys(c *cli.Context) (map[string]*ecdh.PrivateKey, error) {
	keys := map[string]*ecdh.PrivateKey{}
	for _, v := range c.StringSlice("client-key") {
		addr, file, ok := strings.Cut(v, "=")
		addr = strings.ToLower(strings.TrimSpace(addr))
		if !ok || file == "" {
			return nil, fmt.Errorf("--client-key %q: want ADDRESS.onion=FILE", v)
		}
		if _, err := onion.ParseAddress(addr); err != nil {
			return nil, fmt.Errorf("--client-key %q: %w", v, err)
		}
		k, err := keyfile.LoadX25519(file)
		if err != nil {
			return nil, fmt.Errorf("--client-key for %s: %w", addr, err)
		}
		keys[addr] = k
	}
	return keys, nil
}

func clientKeyCommand() *cli.Command {
	return &cli.Command{
		Name:      "client-key",
		Usage:     "make a client-authorization key and list it in a service's clients file",
		ArgsUsage: "NAME",
		Description: "Writes the client's private key to --key (mode 0600; an existing key is kept) and prints\n" +
			"the line `NAME PUBLIC-KEY` for the service's clients file, adding it there with --clients.\n" +
			"Give the key file to the client: onion proxy --client-key ADDRESS.onion=FILE.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "key", Usage: "the client's key `FILE` to create (or reuse)", Required: true},
			&cli.StringFlag{Name: "clients", Usage: "the service's clients `FILE` to add the client to (e.g. SERVICE-DIR/clients)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("usage: onion hiddenserver client-key --key FILE [--clients FILE] NAME", 2)
			}
			line, err := hiddenserver.ClientKey(c.String("key"), c.String("clients"), c.Args().First())
			if err != nil {
				return err
			}
			fmt.Println(line)
			if c.String("clients") != "" {
				fmt.Fprintf(os.Stderr, "client %s listed in %s; restart the service to apply\n", c.Args().First(), c.String("clients"))
			}
			return nil
		},
	}
}
