package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestLogFlagPrecedence: the log flags come from after the command, then
// before it, then the environment, then --config, then the default.
func TestLogFlagPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "onion.toml")
	os.WriteFile(file, []byte("log-level = \"error\"\nlog-format = \"json\"\n"), 0o600)
	run := func(env string, args ...string) (level, format string) {
		t.Helper()
		t.Setenv("ONION_LOG_FORMAT", env)
		cmd := withConfigFile(&cli.Command{Name: "try", Action: func(c *cli.Context) error {
			level, format = logFlag(c, logLevelFlag), logFlag(c, logFormatFlag)
			return nil
		}})
		app := &cli.App{Flags: globalLogFlags(), Commands: []*cli.Command{cmd}}
		if err := app.Run(append([]string{"onion"}, args...)); err != nil {
			t.Fatal(err)
		}
		return level, format
	}
	for _, tc := range []struct {
		env           string
		args          []string
		level, format string
	}{
		{"", []string{"try"}, "", ""},
		{"", []string{"try", "--config", file}, "error", "json"},
		{"plain", []string{"try", "--config", file}, "error", "plain"},
		{"plain", []string{"--log-format", "human", "try", "--config", file}, "error", "human"},
		{"plain", []string{"--log-format", "human", "try", "--log-format", "json"}, "", "json"},
		{"", []string{"--log-level", "debug", "try", "--config", file}, "debug", "json"},
	} {
		level, format := run(tc.env, tc.args...)
		if level != tc.level || format != tc.format {
			t.Errorf("ONION_LOG_FORMAT=%q onion %v: level %q format %q, want %q %q", tc.env, tc.args, level, format, tc.level, tc.format)
		}
	}
}

func TestErrorLine(t *testing.T) {
	for in, want := range map[string]string{
		"onion: short cell":              "onion: short cell",
		"onion client is interactive":    "onion client is interactive",
		"relay: --directory not set":     "onion: relay: --directory not set",
		"onion: onion hiddenserver: bad": "onion hiddenserver: bad",
	} {
		if got := errorLine(errors.New(in)); got != want {
			t.Errorf("errorLine(%q) = %q, want %q", in, got, want)
		}
	}
}
