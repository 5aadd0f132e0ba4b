package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestConfigUnknownKey: a key that is no flag of the command is an error
// naming it (and the flag it was probably meant to be), before anything runs.
func TestConfigUnknownKey(t *testing.T) {
	for content, want := range map[string]string{
		"socks = \"127.0.0.1:0\"\nsock = \"127.0.0.1:1\"\n": `unknown key "sock": not a flag of onion try (did you mean socks?)`,
		"[proxy]\nsocks = \"127.0.0.1:0\"\n":                `unknown key "proxy": not a flag of onion try (onion config example try lists them)`,
		"log-level = \"debug\"\nsocks = \"x\"\n":            "",
	} {
		file := filepath.Join(t.TempDir(), "c.toml")
		os.WriteFile(file, []byte(content), 0o600)
		ran := false
		cmd := withConfigFile(&cli.Command{Name: "try", Flags: []cli.Flag{&cli.StringFlag{Name: "socks"}},
			Action: func(*cli.Context) error { ran = true; return nil }})
		err := (&cli.App{Flags: globalLogFlags(), Commands: []*cli.Command{cmd}}).Run([]string{"onion", "try", "--config", file})
		switch {
		case want == "" && (err != nil || !ran):
			t.Errorf("%q: %v, ran %v", content, err, ran)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want) || ran):
			t.Errorf("%q: %v (ran %v), want an error with %q", content, err, ran, want)
		}
	}
}

// TestUpWritesConfigExample: `onion up --data-dir DIR` leaves DIR/up.toml,
// commented out, never over a file already there; uncommented, every key
// of it is accepted by `onion up --config`.
func TestUpWritesConfigExample(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path, err := writeUpConfigExample(dir)
	if err != nil || path != filepath.Join(dir, upConfigFile) {
		t.Fatalf("write: %q, %v", path, err)
	}
	b, _ := os.ReadFile(path)
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 || !strings.Contains(string(b), "\n# relays = 5\n") {
		t.Fatalf("mode %v, content:\n%s", st.Mode().Perm(), b)
	}
	uncommented := regexp.MustCompile(`(?m)^# ([a-z-]+ = )`).ReplaceAll(b, []byte("$1"))
	os.WriteFile(path, uncommented, 0o600)
	if again, err := writeUpConfigExample(dir); err != nil || again != "" {
		t.Errorf("second write: %q, %v; want nothing written", again, err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(uncommented) {
		t.Error("an existing up.toml was overwritten")
	}
	app := newApp()
	var relays int
	for _, c := range app.Commands {
		if c.Name == "up" {
			c.Action = func(c *cli.Context) error { relays = c.Int("relays"); return nil }
		}
	}
	if err := app.Run([]string{"onion", "up", "--config", path}); err != nil || relays != 5 {
		t.Errorf("onion up --config (the example, uncommented): %v, relays %d", err, relays)
	}
}
