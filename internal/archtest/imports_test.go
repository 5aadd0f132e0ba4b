package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// roles must not import each other; the client runtime sits below the
// roles (proxy and hiddenserver use it) and imports none; the engine and
// the wire packages import neither a role nor the client runtime. leaves
// import nothing of the module, so that the benchmark and the end-to-end
// tests use them without pulling in a role.
var (
	roles   = []string{"onion/directory", "onion/relay", "onion/proxy", "onion/hiddenserver"}
	runtime = []string{"onion/client"}
	engine  = []string{"onion/onion", "onion/onion/circuit", "onion/linktls"}
	leaves  = []string{"onion/internal/launch", "onion/internal/upinfo", "onion/internal/procstat", "onion/internal/netscope", "onion/internal/testhosts", "onion/internal/sockopt", "onion/internal/prompt", "onion/internal/ptytest", "onion/internal/statusview", "onion/internal/logfmt", "onion/internal/loopback"}
)

// tools run a role's or the runtime's code from the outside (a
// simulation); nothing below cmd/onion imports them.
var tools = []string{"onion/internal/pathsim"}

func imports(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath", pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var deps []string
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct{ ImportPath string }
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		deps = append(deps, p.ImportPath)
	}
	return deps
}

func TestImportsPointDown(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	for _, p := range append(append(append([]string{}, roles...), runtime...), engine...) {
		for _, dep := range imports(t, p) {
			if dep == p {
				continue
			}
			for _, r := range roles {
				if dep == r {
					t.Errorf("%s imports the role package %s", p, r)
				}
			}
			if strings.HasPrefix(dep, "onion/cmd/") {
				t.Errorf("%s imports %s", p, dep)
			}
		}
	}
	for _, p := range append(append(append([]string{}, roles...), runtime...), engine...) {
		for _, dep := range imports(t, p) {
			for _, tool := range tools {
				if dep == tool {
					t.Errorf("%s imports the tool %s", p, tool)
				}
			}
		}
	}
	for _, p := range engine {
		for _, dep := range imports(t, p) {
			for _, r := range runtime {
				if dep == r {
					t.Errorf("%s imports the client runtime %s", p, r)
				}
			}
		}
	}
	for _, dep := range imports(t, "onion/onion") {
		if dep == "onion/onion/circuit" {
			t.Error("the wire package imports the engine")
		}
	}
}

// TestInternalBelowCmd: the internal packages serve the CLI and the tests;
// none imports the CLI, and the leaves import nothing of the module.
func TestInternalBelowCmd(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	for _, dep := range imports(t, "onion/internal/...") {
		if strings.HasPrefix(dep, "onion/cmd/") {
			t.Errorf("an internal package imports %s", dep)
		}
	}
	for _, p := range leaves {
		for _, dep := range imports(t, p) {
			if dep != p && (dep == "onion" || strings.HasPrefix(dep, "onion/")) {
				t.Errorf("%s imports %s", p, dep)
			}
		}
	}
}

// TestPathselPure: path selection is pure (the client runtime and the
// simulation share it): it imports nothing of the module but the wire
// package.
func TestPathselPure(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	wire := map[string]bool{"onion/client/pathsel": true}
	for _, dep := range imports(t, "onion/onion") {
		wire[dep] = true
	}
	for _, dep := range imports(t, "onion/client/pathsel") {
		if !wire[dep] && strings.HasPrefix(dep, "onion/") {
			t.Errorf("onion/client/pathsel imports %s", dep)
		}
	}
}
