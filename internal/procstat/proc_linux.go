//go:build linux

package procstat

import (
	"os"
	"path/filepath"
)

const root = "/proc"

// readFile returns the text of /proc/<path>.
func readFile(path string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, path))
	return string(b), err
}

func readDir(path string) ([]os.DirEntry, error) { return os.ReadDir(filepath.Join(root, path)) }

func readlink(path string) (string, error) { return os.Readlink(filepath.Join(root, path)) }
