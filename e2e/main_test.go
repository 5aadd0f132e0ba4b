package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// binDir holds the onion binary built for this test run.
var binDir string

var build struct {
	once sync.Once
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "onion-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binDir = dir
	// Most networks here put every relay on 127.0.0.1, one /16: their
	// proxies and hidden servers run in lab mode (PROTOCOL.md §8.5) unless
	// a test says --lab=false (startAuthNet's relays are on 127.N.0.1).
	os.Setenv("ONION_LAB", "1")
	code := m.Run()
	if err := printReport(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		code = max(code, 1)
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// onionBinary builds cmd/onion once per test run, with -race when the tests
// themselves run with -race, and returns its path.
func onionBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		path := filepath.Join(binDir, "onion")
		args := []string{"build", "-o", path}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command(goTool(), append(args, "onion/cmd/onion")...)
		cmd.Dir = ".." // the module root: tests run in their package directory
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("%v: %v\n%s", cmd.Args, err, out)
			return
		}
		build.path = path
	})
	if build.err != nil {
		t.Fatalf("build onion: %v", build.err)
	}
	return build.path
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
