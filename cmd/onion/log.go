package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// newLogger builds the stderr logger every subcommand uses, at the level of
// the global --log-level flag.
func newLogger(c *cli.Context, role string) (*slog.Logger, error) {
	var level slog.Level
	switch strings.ToLower(c.String("log-level")) {
	case "debug":
		level = slog.LevelDebug
	case "info", "":
		level = slog.LevelInfo
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	return slog.New(h).With("role", role), nil
}
