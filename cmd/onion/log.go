package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// newLogger builds the stderr logger every subcommand uses, at the level of
// the global --log-level flag (debug, info, warn or error; warning too).
func newLogger(c *cli.Context, role string) (*slog.Logger, error) {
	var level slog.Level
	name := strings.Replace(cmp.Or(c.String("log-level"), "info"), "warning", "warn", 1)
	if err := level.UnmarshalText([]byte(name)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	return slog.New(h).With("role", role), nil
}
