package testhosts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Net is a bridge and the hosts on it. Its methods are safe for
// concurrent use.
type Net struct {
	prefix string
	bridge string // the bridge's namespace; the bridge in it is br0

	mu     sync.Mutex
	hosts  []*Host
	closed bool
}

// Host is one namespace on the bridge.
type Host struct {
	// Name is the host's name as given to Add; NS its namespace's name.
	Name, NS string
	// N is the host's number in the address plan.
	N int
	// IPv4 is invalid for an IPv6-only host.
	IPv4, IPv6 netip.Addr

	net *Net
}

// Addr is the host's IPv4 address, or for an IPv6-only host its IPv6 one.
func (h *Host) Addr() netip.Addr {
	if h.IPv4.IsValid() {
		return h.IPv4
	}
	return h.IPv6
}

// AddrPort is Addr with port, as HOST:PORT ([fd00::5]:9001 for IPv6).
func (h *Host) AddrPort(port uint16) string {
	return netip.AddrPortFrom(h.Addr(), port).String()
}

// Create removes the leftovers of earlier runs whose process is gone,
// then makes an empty network: a namespace holding a bridge.
func Create() (*Net, error) {
	if err := RemoveLeftovers(); err != nil {
		return nil, err
	}
	n := &Net{prefix: newPrefix()}
	n.bridge = n.prefix + "bridge"
	if err := addNS(n.bridge); err != nil {
		return nil, err
	}
	err := runAll([][]string{
		{"-n", n.bridge, "link", "add", "br0", "type", "bridge"},
		{"-n", n.bridge, "link", "set", "br0", "up"},
	})
	if err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Add adds a dual-stack host; AddIPv6Only one with only an IPv6 address.
func (n *Net) Add(name string) (*Host, error) { return n.add(name, true) }

// AddIPv6Only adds a host with no IPv4 address: only fd00::N.
func (n *Net) AddIPv6Only(name string) (*Host, error) { return n.add(name, false) }

func (n *Net) add(name string, v4 bool) (*Host, error) {
	if err := validHostName(name); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errors.New("testhosts: network closed")
	}
	if len(n.hosts) == MaxHosts {
		return nil, fmt.Errorf("testhosts: at most %d hosts", MaxHosts)
	}
	for _, h := range n.hosts {
		if h.Name == name {
			return nil, fmt.Errorf("testhosts: host %q exists", name)
		}
	}
	num := len(n.hosts) + 1
	h := &Host{Name: name, NS: n.prefix + name, N: num, IPv6: IPv6(num), net: n}
	if v4 {
		h.IPv4 = IPv4(num)
	}
	if err := addNS(h.NS); err != nil {
		return nil, err
	}
	n.hosts = append(n.hosts, h) // from here Close removes it
	return h, runAll(h.setup(n.bridge))
}

// setup is the ip commands that wire host h to the bridge.
func (h *Host) setup(bridge string) [][]string {
	v := vethName(h.N)
	cmds := [][]string{
		{"-n", h.NS, "link", "set", "lo", "up"},
		{"-n", bridge, "link", "add", v, "type", "veth", "peer", "name", "eth0", "netns", h.NS},
		{"-n", bridge, "link", "set", v, "master", "br0", "up"},
		// nodad: the address is usable at once, not tentative for a second.
		{"-n", h.NS, "addr", "add", ifaceAddr(h.IPv6), "dev", "eth0", "nodad"},
	}
	if h.IPv4.IsValid() {
		cmds = append(cmds, []string{"-n", h.NS, "addr", "add", ifaceAddr(h.IPv4), "dev", "eth0"})
	}
	return append(cmds, []string{"-n", h.NS, "link", "set", "eth0", "up"})
}

// Hosts lists the hosts in the order they were added.
func (n *Net) Hosts() []*Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Host(nil), n.hosts...)
}

// BridgeNS is the name of the namespace holding the bridge br0, where a
// capture sees every packet between hosts.
func (n *Net) BridgeNS() string { return n.bridge }

// LinkDown cuts host h off the bridge, as a pulled cable would: its end
// keeps its addresses but loses carrier. LinkUp plugs it back in.
func (h *Host) LinkDown() error { return ip("-n", h.net.bridge, "link", "set", vethName(h.N), "down") }

// LinkUp reconnects a host that LinkDown cut off.
func (h *Host) LinkUp() error { return ip("-n", h.net.bridge, "link", "set", vethName(h.N), "up") }

// Command is name with args, to run in host h.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", h.execArgs(name, args)...)
}

// CommandContext is Command, killed when ctx ends.
func (h *Host) CommandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", h.execArgs(name, args)...)
}

func (h *Host) execArgs(name string, args []string) []string {
	return append([]string{"netns", "exec", h.NS, name}, args...)
}

// Close kills every process in the network's namespaces and deletes them;
// the veths go with them. It returns the first error and keeps going.
func (n *Net) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	hosts := n.hosts
	n.closed = true
	n.hosts = nil
	n.mu.Unlock()
	var first error
	for _, h := range hosts {
		first = cmp(first, removeNS(h.NS))
	}
	return cmp(first, removeNS(n.bridge))
}

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// RemoveLeftovers deletes the namespaces of this package whose creating
// process is no longer running: what a test killed before its cleanup
// left behind.
func RemoveLeftovers() error {
	entries, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var first error
	for _, e := range entries {
		pid, ok := ownerPID(e.Name())
		if !ok || processAlive(pid) {
			continue
		}
		first = cmp(first, removeNS(e.Name()))
	}
	return first
}

// netnsDir is where `ip netns add` mounts named namespaces.
const netnsDir = "/run/netns"

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	defer p.Release() // a pidfd on Linux
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

func addNS(name string) error { return ip("netns", "add", name) }

// removeNS kills the processes in namespace name, then deletes it.
func removeNS(name string) error {
	out, err := exec.Command("ip", "netns", "pids", name).Output()
	if err != nil {
		return fmt.Errorf("ip netns pids %s: %w", name, err)
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
				p.Release()
			}
		}
	}
	return cmp(ip("netns", "delete", name), removeEtc(name))
}

func runAll(cmds [][]string) error {
	for _, args := range cmds {
		if err := ip(args...); err != nil {
			return err
		}
	}
	return nil
}

// ip runs the ip command; its error carries ip's own message.
func ip(args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.Command("ip", args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}
