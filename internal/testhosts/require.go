package testhosts

import (
	"os"
	"os/exec"
)

// TB is the part of TB this package uses; declaring it keeps the
// testing package out of the onion binary, which uses this package for
// `onion bench --hosts`.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// Missing says why this machine cannot build test hosts ("" if it can):
// namespaces need root and the ip command.
func Missing() string {
	if os.Geteuid() != 0 {
		return "network namespaces need root"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "the ip command (iproute2) is not installed"
	}
	return ""
}

// Require skips t when test hosts cannot be built here, or fails it when
// the environment variable CI is set: CI runs as root with iproute2, so
// there a skip would hide a broken setup.
func Require(t TB) {
	t.Helper()
	RequireTools(t)
}

// RequireTools is Require, and also needs each of tools on PATH.
func RequireTools(t TB, tools ...string) {
	t.Helper()
	why := Missing()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil && why == "" {
			why = tool + " is not installed"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("test hosts: %s (CI is set, so this fails instead of skipping)", why)
	}
	t.Skipf("test hosts: %s; skipping", why)
}

// New is Create for a test: it calls Require, and removes the network
// when the test ends, failed or not.
func New(t TB) *Net {
	t.Helper()
	Require(t)
	n, err := Create()
	if err != nil {
		t.Fatalf("test hosts: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("test hosts: remove: %v", err)
		}
	})
	return n
}

// MustAdd adds a host (IPv6-only if v6only) or fails t.
func (n *Net) MustAdd(t TB, name string, v6only bool) *Host {
	t.Helper()
	add := n.Add
	if v6only {
		add = n.AddIPv6Only
	}
	h, err := add(name)
	if err != nil {
		t.Fatalf("test hosts: %v", err)
	}
	return h
}
