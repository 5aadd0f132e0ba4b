//go:build !unix

package e2e

// alive cannot tell without signals; the checks that use it pass.
func alive(int) bool { return false }
