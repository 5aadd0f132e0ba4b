package testhosts

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTwoHosts builds three hosts, one IPv6-only, and connects over TCP
// between them (and not where BlockInbound forbids); it checks that the
// root namespace never sees the hosts' addresses and that Close leaves
// nothing behind. Budget: about 2 s.
func TestTwoHosts(t *testing.T) {
	n := New(t)
	a := n.MustAdd(t, "a", false)
	b := n.MustAdd(t, "b", false)
	c := n.MustAdd(t, "c", true)

	echo(t, b, "tcp4", b.AddrPort(7))
	roundTrip(t, a, b.AddrPort(7))
	echo(t, c, "tcp6", c.AddrPort(7))
	roundTrip(t, a, c.AddrPort(7))
	if _, err := c.Dial(t.Context(), "tcp", b.AddrPort(7)); err == nil {
		t.Error("an IPv6-only host reached an IPv4 address")
	}
	// The root namespace is untouched: none of its interfaces holds a
	// host's address. (Dialling from it proves nothing: a sandbox may
	// accept any TCP connection.)
	if out, err := exec.Command("ip", "-o", "addr").Output(); err != nil || strings.Contains(string(out), " "+b.IPv4.String()+"/") {
		t.Errorf("root namespace addresses: %v\n%s", err, out)
	}

	// An IPv6-only host given a route to one IPv4 address reaches that
	// address and no other.
	if err := c.RouteIPv4To(b); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, b.AddrPort(7))
	if _, err := c.Dial(t.Context(), "tcp", a.AddrPort(7)); !errors.Is(err, syscall.ENETUNREACH) {
		t.Errorf("IPv6-only host with a route to b dialled a: %v, want network unreachable", err)
	}

	// A host cut off the bridge is unreachable; plugged back, reachable.
	if err := b.LinkDown(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	if conn, err := a.Dial(ctx, "tcp", b.AddrPort(7)); err == nil {
		conn.Close()
		t.Error("reached a host whose link is down")
	}
	if err := b.LinkUp(); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, a, b.AddrPort(7))

	// Inbound blocked from a only: a's connect fails, b's passes.
	if err := c.BlockInbound(7, a); err != nil {
		t.Fatal(err)
	}
	if conn, err := a.Dial(t.Context(), "tcp", c.AddrPort(7)); err == nil {
		conn.Close()
		t.Error("reached a port that BlockInbound blocked")
	}
	roundTrip(t, b, c.AddrPort(7))

	// A command runs in its host: it sees eth0 with the host's address.
	out, err := a.Command("ip", "-o", "addr", "show", "dev", "eth0").CombinedOutput()
	if err != nil || !strings.Contains(string(out), a.IPv4.String()+"/8") {
		t.Errorf("ip addr in host a: %v\n%s", err, out)
	}

	// A host's own /etc/hosts: its commands see it, other hosts' do not.
	if err := a.SetHosts(b.IPv6.String() + " b.testhosts-test\n"); err != nil {
		t.Fatal(err)
	}
	if out, err := a.Command("getent", "-s", "files", "hosts", "b.testhosts-test").Output(); err != nil || !strings.HasPrefix(string(out), b.IPv6.String()+" ") {
		t.Errorf("getent in host a: %q, %v", out, err)
	}
	if out, err := b.Command("getent", "-s", "files", "hosts", "b.testhosts-test").Output(); err == nil {
		t.Errorf("host b resolved host a's name: %q", out)
	}

	names := []string{n.BridgeNS(), a.NS, b.NS, c.NS}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if _, err := os.Stat(filepath.Join(netnsDir, name)); err == nil {
			t.Errorf("namespace %s left after Close", name)
		}
		if _, err := os.Stat(filepath.Join(etcDir, name)); err == nil {
			t.Errorf("%s/%s left after Close", etcDir, name)
		}
	}
}

// TestLeftovers: a namespace named for a process that is gone is removed by
// the next Create; one of a live process is left alone.
func TestLeftovers(t *testing.T) {
	Require(t)
	dead := namePrefix + "999999999-1-x" // above pid_max: never alive
	live := newPrefix() + "x"
	for _, name := range []string{dead, live} {
		if err := addNS(name); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { removeNS(live); removeNS(dead) })
	n, err := Create()
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := os.Stat(filepath.Join(netnsDir, dead)); err == nil {
		t.Error("a dead run's namespace was not removed")
	}
	if _, err := os.Stat(filepath.Join(netnsDir, live)); err != nil {
		t.Error("a live run's namespace was removed")
	}
}

// echo serves an echo on addr in host h until the test ends.
func echo(t *testing.T, h *Host, network, addr string) {
	t.Helper()
	ln, err := h.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
}

func roundTrip(t *testing.T, from *Host, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, err := from.Dial(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, from.Name, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	msg := "hello " + addr
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != msg {
		t.Fatalf("echo from %s: %q %v", addr, buf, err)
	}
}
