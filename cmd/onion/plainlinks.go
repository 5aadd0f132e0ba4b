package main

import "github.com/urfave/cli/v2"

// plainLinksFlag turns TLS off on links (PROTOCOL.md §2.1). It is hidden:
// it exists so that `onion bench --compare-plain-links` can measure what
// TLS costs against the same network without it, and for nothing else.
func plainLinksFlag() cli.Flag {
	return &cli.BoolFlag{Name: "insecure-plain-links", Hidden: true,
		Usage: "links without TLS, for benchmarks only: anyone on the wire reads every cell's header, and every relay and client of the network must say the same"}
}

// noCCFlag turns circuit congestion control off (PROTOCOL.md §6.1).
func noCCFlag(usage string) cli.Flag {
	return &cli.BoolFlag{Name: "no-congestion-control", Usage: usage, EnvVars: []string{"ONION_NO_CONGESTION_CONTROL"}}
}
