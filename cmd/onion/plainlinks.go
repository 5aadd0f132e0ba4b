package main

import "github.com/urfave/cli/v2"

// plainLinksFlag turns TLS off on links (PROTOCOL.md §2.1). It is hidden:
// it exists so that `onion bench --compare-plain-links` can measure what
// TLS costs against the same network without it, and for nothing else.
func plainLinksFlag() cli.Flag {
	return &cli.BoolFlag{Name: "insecure-plain-links", Hidden: true,
		Usage: "links without TLS, for benchmarks only: anyone on the wire reads every cell's header, and every relay and client of the network must say the same"}
}
