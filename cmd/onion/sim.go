package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"onion/internal/pathsim"
)

func simCommand() *cli.Command {
	d := pathsim.DefaultParams()
	return &cli.Command{
		Name:  "sim",
		Usage: "simulate path selection over a synthetic network the size of Tor's, with a Sybil attacker",
		Description: "Draws a list of honest relays (bandwidth log-normal), adds an attacker's relays from a few\n" +
			"addresses, lists them through the directory's admission rules, and runs the client's path\n" +
			"selection over the result. Prints how many Sybil relays were listed, the share of circuits\n" +
			"whose first hop and exit are both the attacker's beside the closed-form expectation, and how\n" +
			"many first hops a client uses over simulated days with and without entry guards.\n" +
			"No network traffic; the same seed gives the same figures (docs/SECURITY.md quotes them).",
		Flags: []cli.Flag{
			&cli.Uint64Flag{Name: "seed", Value: d.Seed, Usage: "random seed"},
			&cli.IntFlag{Name: "relays", Value: d.Network.Relays, Usage: "honest relays"},
			&cli.Float64Flag{Name: "attacker-share", Value: d.Attacker.Share, Usage: "the attacker's `FRACTION` of all bandwidth"},
			&cli.IntFlag{Name: "sybils", Value: d.Attacker.Relays, Usage: "relays the attacker publishes"},
			&cli.IntFlag{Name: "sybil-addresses", Value: d.Attacker.Addresses, Usage: "IP addresses (each its own /16) they come from"},
			&cli.IntFlag{Name: "per-address", Usage: "the directory's per-address limit (0: its default)"},
			&cli.Int64Flag{Name: "weight-cap", Value: d.WeightCap, Usage: "the authorities' weight cap in `BYTES/S` (0: none)"},
			&cli.IntFlag{Name: "circuits", Value: d.Circuits, Usage: "circuits drawn per scenario"},
			&cli.IntFlag{Name: "clients", Value: d.Exposure.Clients, Usage: "clients simulated for first-hop exposure"},
			&cli.IntFlag{Name: "days", Value: d.Exposure.Days, Usage: "days simulated"},
		},
		Action: runSim,
	}
}

func runSim(c *cli.Context) error {
	p := pathsim.DefaultParams()
	p.Seed, p.Network.Relays, p.PerAddress, p.WeightCap = c.Uint64("seed"), c.Int("relays"), c.Int("per-address"), c.Int64("weight-cap")
	p.Attacker.Share, p.Attacker.Relays, p.Attacker.Addresses = c.Float64("attacker-share"), c.Int("sybils"), c.Int("sybil-addresses")
	p.Circuits, p.Exposure.Clients, p.Exposure.Days = c.Int("circuits"), c.Int("clients"), c.Int("days")
	r, err := pathsim.Run(p)
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	return r.Write(os.Stdout)
}
