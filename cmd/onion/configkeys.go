package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"
)

// checkConfigKeys fails on the first key of the TOML file at path that is
// not a flag of cmd, naming it: altsrc reads only the keys it is asked
// for, so a misspelt `sock = ...` would otherwise be ignored in silence.
// (BurntSushi/toml is what altsrc parses the file with.)
func checkConfigKeys(path string, cmd *cli.Command) error {
	var m map[string]any
	md, err := toml.DecodeFile(path, &m)
	if err != nil {
		return err
	}
	names := flagNames(cmd.Flags)
	delete(names, "help")
	delete(names, "config")
	for _, k := range md.Keys() { // in file order, so the error names the first
		if len(k) != 1 {
			continue // inside a table: its table is the unknown key
		}
		if !names[k[0]] {
			return fmt.Errorf("unknown key %q: not a flag of onion %s%s", k[0], cmd.Name, suggest(k[0], cmd.Name, names))
		}
	}
	return nil
}

// suggest is " (did you mean NAME?)" for the flag nearest to key, if one
// is near, else where to find them all.
func suggest(key, cmd string, names map[string]bool) string {
	best, bestD := "", 3 // at most two edits away
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		if d := editDistance(key, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return fmt.Sprintf(" (onion config example %s lists them)", cmd)
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// upConfigFile is the example config `onion up --data-dir DIR` leaves in DIR.
const upConfigFile = "up.toml"

// writeUpConfigExample writes the commented example config of `onion up`
// into dir unless a file of that name is there already (the user's own
// settings, never overwritten). It returns the path written, or "".
func writeUpConfigExample(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("--data-dir: %w", err)
	}
	path := filepath.Join(dir, upConfigFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("example config: %w", err)
	}
	werr := writeConfigExample(f, upCommand())
	if err := errors.Join(werr, f.Close()); err != nil {
		return "", fmt.Errorf("example config %s: %w", path, err)
	}
	return path, nil
}

// flagNames are the names (and aliases) of flags, with help.
func flagNames(flags []cli.Flag) map[string]bool {
	m := map[string]bool{"help": true}
	for _, f := range flags {
		for _, n := range f.Names() {
			m[n] = true
		}
	}
	return m
}

// upConfigExample writes the example config into up's --data-dir, if
// given, and says so.
func upConfigExample(c *cli.Context, log *slog.Logger) error {
	dir := c.String("data-dir")
	if dir == "" {
		return nil
	}
	path, err := writeUpConfigExample(dir)
	if path != "" {
		log.Info("wrote an example config: uncomment what you change, then onion up --config "+path, "file", path)
	}
	return err
}
