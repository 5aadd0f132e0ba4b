package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestCompletionScripts: bash (and zsh, fish where installed) accept the
// scripts `onion completion SHELL` prints.
func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			var out bytes.Buffer
			app := newApp()
			app.Writer = &out
			if err := app.Run([]string{"onion", "completion", shell}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "onion") {
				t.Fatalf("script does not name onion:\n%s", out.String())
			}
			path, err := exec.LookPath(shell)
			if err != nil {
				if shell == "bash" && os.Getenv("CI") != "" {
					t.Fatal("bash is missing in CI")
				}
				t.Skipf("%s not installed", shell)
			}
			cmd := exec.Command(path, "-n")
			cmd.Stdin = &out
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, b)
			}
		})
	}
	if err := newApp().Run([]string{"onion", "completion", "tcsh"}); err == nil || !strings.Contains(err.Error(), "bash, zsh or fish") {
		t.Errorf("completion tcsh: %v", err)
	}
}

// TestHelpExamples walks every visible command: its --help has examples,
// and each example's flags are flags of that command (or global ones).
func TestHelpExamples(t *testing.T) {
	app := newApp()
	global := flagNames(app.Flags)
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, cmd := range cmds {
			p := strings.TrimSpace(path + " " + cmd.Name)
			walk(p, cmd.Subcommands)
			if cmd.Hidden || cmd.Name == "help" {
				continue
			}
			if !strings.Contains(cmd.Description, "Example") {
				t.Errorf("onion %s --help has no example", p)
			}
			for _, ex := range examples[p] {
				checkExample(t, "onion "+p, ex, flagNames(cmd.Flags), global)
			}
		}
	}
	walk("", app.Commands)
}

// checkExample fails for a --flag in the part of ex that runs cmd which
// is neither the command's nor global.
func checkExample(t *testing.T, cmd, ex string, local, global map[string]bool) {
	t.Helper()
	i := strings.Index(ex, cmd+" ")
	if i < 0 {
		return // another program's line, such as curl
	}
	words := strings.Fields(strings.SplitN(ex[i+len(cmd):], "#", 2)[0])
	for _, w := range words {
		if w == "|" || w == ">" {
			break
		}
		name, ok := strings.CutPrefix(w, "--")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, "=")
		if !local[name] && !global[name] {
			t.Errorf("%s: example %q: no flag --%s", cmd, ex, name)
		}
	}
}
