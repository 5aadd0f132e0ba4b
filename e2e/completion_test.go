package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBashCompletion sources `onion completion bash` in bash and asks it
// to complete command names and flags, as a Tab would. Budget 10 s (<1 s).
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("bash is missing in CI")
		}
		t.Skip("bash not installed")
	}
	dir := t.TempDir()
	if err := os.Symlink(onionBinary(t), filepath.Join(dir, "onion")); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string][]string{
		"onion rel":              {"relay"},
		"onion hiddenserver add": {"adduser"},
		"onion relay --exi":      {"--exit", "--exit-policy"},
		"onion up --rel":         {"--relays"},
	} {
		script := `source <(onion completion bash)
COMP_WORDS=(` + line + `); COMP_CWORD=$((${#COMP_WORDS[@]}-1))
_onion_complete; echo "${COMPREPLY[*]}"`
		cmd := exec.Command(bash, "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		if got := strings.Fields(string(out)); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%q<Tab>: %q, want %q", line, got, want)
		}
	}
}
