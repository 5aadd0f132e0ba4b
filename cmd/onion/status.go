package main

import (
	"encoding/json"
	"errors"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"onion/internal/statusview"
	"onion/internal/upinfo"
	"onion/proxy"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show a running proxy's relays and circuits, hop by hop",
		Description: "Asks the proxy's status endpoint (the status= address of its ready line, or of `onion up`'s)\n" +
			"and prints a table of relays and one line per circuit, coloured on a terminal.\n" +
			"Stream destinations are never shown. The same picture, live, is at http://STATUS/.\n\n" +
			"Example: onion status --status 127.0.0.1:9051    or    onion status --info-file up.json",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "status", Usage: "the proxy's status address, HOST:PORT", EnvVars: []string{"ONION_STATUS"}},
			&cli.StringFlag{Name: "info-file", Usage: "the --info-file `PATH` of a running onion up: its proxy's status address"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON: {\"relays\": [...], \"circuits\": [...], \"failures\": [...]}, as /relays, /circuits and /failures give them"},
		},
		Action: runStatus,
	}
}

func runStatus(c *cli.Context) error {
	addr := c.String("status")
	if path := c.String("info-file"); path != "" {
		info, err := upinfo.Read(path)
		if err != nil {
			return err
		}
		addr = info.Status
	}
	if addr == "" || addr == "off" {
		return errors.New("which proxy? give --status HOST:PORT (the status= of its ready line) or --info-file of `onion up`")
	}
	s, err := proxy.FetchStatus(c.Context, addr)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"relays": s.Relays, "circuits": s.Circuits, "failures": s.Failures})
	}
	colour := term.IsTerminal(int(os.Stdout.Fd())) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	return statusview.Text(os.Stdout, s, colour)
}
