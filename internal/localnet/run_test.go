package localnet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunInvalid: a bad Config is refused before anything is touched.
func TestRunInvalid(t *testing.T) {
	info := filepath.Join(t.TempDir(), "info.json")
	if err := os.WriteFile(info, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := validConfig()
	cfg.Relays, cfg.InfoFile = 1, info
	if err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "--relays 1") {
		t.Fatalf("Run = %v, want the --relays error", err)
	}
	if _, err := os.Stat(info); err != nil {
		t.Errorf("info file touched by a refused Run: %v", err)
	}
}

// TestRunCannotStart: with an executable that does not exist, Run fails at
// the first part, after removing the earlier info file, and removes its
// temporary data directory. No process is started.
func TestRunCannotStart(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	info := filepath.Join(t.TempDir(), "info.json")
	if err := os.WriteFile(info, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := validConfig()
	cfg.Executable, cfg.InfoFile = filepath.Join(t.TempDir(), "no-such-onion"), info
	err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "start directory") {
		t.Fatalf("Run = %v, want the directory's start error", err)
	}
	if _, err := os.Stat(info); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("earlier info file still there: %v", err)
	}
	if ents, _ := os.ReadDir(os.Getenv("TMPDIR")); len(ents) != 0 {
		t.Errorf("temporary data dir left behind: %v", ents)
	}
}
