package proxy

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOpenErrorSaysWhy: xdg-open's "exit status 3" says that no browser
// was found; a missing opener says what to install; success stays nil.
func TestOpenErrorSaysWhy(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	exit3 := exec.Command(sh, "-c", "exit 3").Run()
	if got := openError("xdg-open", exit3); got == nil || !strings.Contains(got.Error(), "no browser found") || !strings.Contains(got.Error(), "exit status 3") {
		t.Errorf("exit status 3: %v", got)
	}
	_, notFound := exec.LookPath("no-such-opener-anywhere")
	if got := openError("xdg-open", notFound); got == nil || !strings.Contains(got.Error(), "install") {
		t.Errorf("not found: %v", got)
	}
	if openError("xdg-open", nil) != nil {
		t.Error("success is an error")
	}
}
