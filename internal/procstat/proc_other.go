//go:build !linux

package procstat

import (
	"errors"
	"fmt"
	"os"
)

var errNoProc = fmt.Errorf("procstat: no Linux /proc here: %w", errors.ErrUnsupported)

func readFile(string) (string, error) { return "", errNoProc }

func readDir(string) ([]os.DirEntry, error) { return nil, errNoProc }

func readlink(string) (string, error) { return "", errNoProc }
