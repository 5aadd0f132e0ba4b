package proxy

import (
	"errors"
	"fmt"
	"os/exec"
)

// xdgOpenExits are what xdg-open's exit statuses mean (its manual page).
var xdgOpenExits = map[int]string{
	1: "xdg-open: error in its command line",
	2: "xdg-open: a file it needs does not exist",
	3: "no browser found: xdg-open found no tool to open URLs (install a browser, or set BROWSER)",
	4: "the browser failed to open the URL",
}

// openError says what a failed opener means, where its exit status alone
// ("exit status 3") would not.
func openError(opener string, err error) error {
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("no %s on this machine to open URLs with (install xdg-utils and a browser): %w", opener, err)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && opener == "xdg-open" {
		if what, ok := xdgOpenExits[ee.ExitCode()]; ok {
			return fmt.Errorf("%s (%s %w)", what, opener, err)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", opener, err)
	}
	return nil
}
