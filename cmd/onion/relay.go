package main

import "github.com/urfave/cli/v2"

func relayCommand() *cli.Command {
	return &cli.Command{Name: "relay", Usage: "not yet implemented", Action: func(*cli.Context) error { return cli.Exit("not yet implemented", 2) }}
}
