//go:build !linux

package testhosts

import (
	"errors"
	"fmt"
)

// doIn fails: network namespaces are Linux's. Every test host needs them,
// so the tests that use one skip or fail before they get here.
func doIn(int, func() error) error {
	return fmt.Errorf("testhosts: network namespaces need Linux: %w", errors.ErrUnsupported)
}
