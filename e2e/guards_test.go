package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// builtPath matches the path of a "circuit built" log line.
var builtPath = regexp.MustCompile(`msg="circuit built" .*path="\[([^\]]*)\]"`)

// hiddenPaths are the paths of the circuits the hidden server built, as
// its log lines under up say.
func hiddenPaths(up *proc) [][]string {
	up.out.mu.Lock()
	defer up.out.mu.Unlock()
	var paths [][]string
	for _, l := range up.out.lines {
		if !strings.Contains(l, "hiddenserver") {
			continue
		}
		if m := builtPath.FindStringSubmatch(l); m != nil {
			paths = append(paths, strings.Fields(m[1]))
		}
	}
	return paths
}

// readGuards adds the nicknames of the guards in the hidden server's file
// to seen, and reports whether the file held any.
func readGuards(n *hiddenNet, seen map[string]bool) bool {
	b, err := os.ReadFile(filepath.Join(n.DataDir, "hiddenserver", "guards.json"))
	var f struct {
		Guards []struct{ Fingerprint string }
	}
	if err != nil || json.Unmarshal(b, &f) != nil || len(f.Guards) == 0 {
		return false
	}
	for _, g := range f.Guards {
		for _, r := range n.Relays {
			if r.Fingerprint == g.Fingerprint {
				seen[r.Nickname] = true
			}
		}
	}
	return true
}

// TestHiddenServiceKeepsGuards: relays on the hidden server's circuits
// (never the first hop in use) are killed one after another; each time it
// builds new circuits, and every one of them starts at a relay its guards
// file names. Budget: 90 s.
func TestHiddenServiceKeepsGuards(t *testing.T) {
	n := startHiddenUp(t, upOptions{args: []string{"--relays", "8", "--exits", "3"}})
	guards := map[string]bool{} // every relay the file has named
	waitFor(t, 20*time.Second, "the hidden server's guards file", func() bool { return readGuards(n, guards) })
	t.Logf("hidden server guards: %v", guards)
	killed := map[string]bool{}
	for round := range 3 {
		paths := hiddenPaths(n.up)
		victim := ""
		for _, p := range slices.Backward(paths) {
			for _, hop := range p[1:] {
				if hop != paths[len(paths)-1][0] && !killed[hop] && victim == "" {
					victim = hop
				}
			}
		}
		if victim == "" {
			t.Fatalf("round %d: no relay to kill on the service's circuits %v", round, paths)
		}
		for _, r := range n.Relays {
			if r.Nickname == victim {
				killPID(t, r.PID)
			}
		}
		killed[victim] = true
		t.Logf("round %d: killed %s", round, victim)
		waitFor(t, 30*time.Second, "the hidden server to build a new circuit", func() bool {
			return len(hiddenPaths(n.up)) > len(paths)
		})
		readGuards(n, guards)
	}
	paths := hiddenPaths(n.up)
	firsts := map[string]bool{}
	for _, p := range paths {
		firsts[p[0]] = true
		if !guards[p[0]] {
			t.Errorf("the hidden server built %v, whose first hop is not among its guards %v", p, guards)
		}
	}
	t.Logf("%d circuits built by the hidden server, first hops %v, guards seen %v", len(paths), firsts, guards)
}
