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

// TestConfigExample: the example names every flag the file can set, and
// with its lines uncommented it is a config file the proxy accepts.
func TestConfigExample(t *testing.T) {
	var b strings.Builder
	if err := writeConfigExample(&b, proxyCommand()); err != nil {
		t.Fatal(err)
	}
	ex := b.String()
	for _, want := range []string{`# socks = "127.0.0.1:1080"`, `# circuit-lifetime = "10m0s"`, "# wait-connected = false", "# directory-key = []"} {
		if !strings.Contains(ex, want) {
			t.Errorf("example lacks %q:\n%s", want, ex)
		}
	}
	if strings.Contains(ex, "link-source") {
		t.Error("the example shows a hidden flag")
	}
	var lines []string
	for _, l := range strings.Split(ex, "\n") {
		if k, _, ok := strings.Cut(strings.TrimPrefix(l, "# "), " = "); ok && !strings.Contains(k, " ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	file := filepath.Join(t.TempDir(), "proxy.toml")
	os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	var socks string
	cmd := withConfigFile(proxyCommand())
	cmd.Action = func(c *cli.Context) error { socks = c.String("socks"); return nil }
	app := &cli.App{Commands: []*cli.Command{cmd}}
	err := app.Run([]string{"onion", "proxy", "--config", file, "--directory", "http://127.0.0.1:7000", "--directory-key", "K"})
	if err != nil || socks != "127.0.0.1:1080" {
		t.Fatalf("the uncommented example: socks %q, %v\n%s", socks, err, strings.Join(lines, "\n"))
	}
}

// TestConfigFileForEveryRole: list flags come from the file too: the
// relay's required authorities, the hidden server's forwards.
func TestConfigFileForEveryRole(t *testing.T) {
	dir := t.TempDir()
	relayFile := filepath.Join(dir, "relay.toml")
	os.WriteFile(relayFile, []byte("directory = [\"http://127.0.0.1:7000\", \"http://127.0.0.1:7001\"]\ndirectory-key = [\"K1\", \"K2\"]\nnickname = \"fromfile\"\n"), 0o600)
	var dirs []string
	var nick string
	relay := withConfigFile(relayCommand())
	relay.Action = func(c *cli.Context) error { dirs, nick = c.StringSlice("directory"), c.String("nickname"); return nil }
	if err := (&cli.App{Commands: []*cli.Command{relay}}).Run([]string{"onion", "relay", "--config", relayFile}); err != nil {
		t.Fatal(err)
	}
	if len(dirs) != 2 || dirs[1] != "http://127.0.0.1:7001" || nick != "fromfile" {
		t.Errorf("relay from file: directories %q, nickname %q", dirs, nick)
	}
	if err := (&cli.App{Commands: []*cli.Command{withConfigFile(relayCommand())}}).Run([]string{"onion", "relay"}); err == nil ||
		!strings.Contains(err.Error(), "--directory") {
		t.Errorf("relay without authorities anywhere: %v, want the missing flags named", err)
	}
	hsFile := filepath.Join(dir, "hs.toml")
	os.WriteFile(hsFile, []byte("forward = [\"80=127.0.0.1:8080\", \"22=127.0.0.1:22\"]\n"), 0o600)
	var fwd []string
	hs := withConfigFile(hiddenserverCommand())
	hs.Action = func(c *cli.Context) error { fwd = c.StringSlice("forward"); return nil }
	if err := (&cli.App{Commands: []*cli.Command{hs}}).Run([]string{"onion", "hiddenserver", "--config", hsFile}); err != nil {
		t.Fatal(err)
	}
	if len(fwd) != 2 || fwd[0] != "80=127.0.0.1:8080" {
		t.Errorf("hidden server forwards from file: %q", fwd)
	}
}
