package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// TestConfigPrecedence: a flag on the command line wins over its
// environment variable, which wins over the --config file, which wins
// over the default; each rule on a flag of its own.
func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "onion.toml")
	os.WriteFile(file, []byte(`# the file sets all four
from-flag = "file"
from-env = "file"
from-file = "file"
lifetime = "7m"
relays = 9
wait = true
needed = "from the file"
`), 0o600)
	t.Setenv("TEST_FROM_ENV", "env")
	t.Setenv("TEST_FROM_FLAG", "env")
	got := map[string]any{}
	cmd := withConfigFile(&cli.Command{
		Name: "try",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from-flag", Value: "default", EnvVars: []string{"TEST_FROM_FLAG"}},
			&cli.StringFlag{Name: "from-env", Value: "default", EnvVars: []string{"TEST_FROM_ENV"}},
			&cli.StringFlag{Name: "from-file", Value: "default"},
			&cli.StringFlag{Name: "from-default", Value: "default"},
			&cli.DurationFlag{Name: "lifetime", Value: time.Minute},
			&cli.IntFlag{Name: "relays", Value: 5},
			&cli.BoolFlag{Name: "wait"},
			&cli.StringFlag{Name: "needed", Required: true},
		},
		Action: func(c *cli.Context) error {
			for _, n := range []string{"from-flag", "from-env", "from-file", "from-default"} {
				got[n] = c.String(n)
			}
			got["lifetime"], got["relays"], got["wait"] = c.Duration("lifetime"), c.Int("relays"), c.Bool("wait")
			return nil
		},
	})
	app := &cli.App{Commands: []*cli.Command{cmd}}
	if err := app.Run([]string{"onion", "try", "--config", file, "--from-flag", "flag"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"from-flag": "flag", "from-env": "env", "from-file": "file", "from-default": "default",
		"lifetime": 7 * time.Minute, "relays": 9, "wait": true}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if err := app.Run([]string{"onion", "try"}); err == nil || !strings.Contains(err.Error(), "--needed not set") {
		t.Errorf("a required flag missing everywhere: %v", err)
	}
	if err := app.Run([]string{"onion", "try", "--config", "http://example.com/x.toml"}); err == nil {
		t.Error("a URL as --config was accepted")
	}
	if err := app.Run([]string{"onion", "try", "--config", filepath.Join(t.TempDir(), "missing.toml")}); err == nil {
		t.Error("a missing --config file was accepted")
	}
}
