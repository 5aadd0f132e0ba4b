package main

import "github.com/urfave/cli/v2"

// labFlag turns the subnet path rule off (PROTOCOL.md §8.5), for test
// networks whose relays share an address (`onion up` passes it).
func labFlag() cli.Flag {
	return &cli.BoolFlag{Name: "lab", EnvVars: []string{"ONION_LAB"},
		Usage: "lab mode: allow two relays of one IPv4 /16 or IPv6 /32 on a path (a test network on one machine); never on a real network"}
}
