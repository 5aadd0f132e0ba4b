package localnet

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"onion/internal/launch"
)

// start starts the parts in the order each needs the one before: the
// directory, the relays (which publish to it), the hidden server (which
// builds circuits through them), and the proxy.
func (n *network) start(ctx context.Context) error {
	if err := n.startAuthorities(ctx); err != nil {
		return err
	}
	if err := n.startRelays(ctx); err != nil {
		return err
	}
	if err := n.startHidden(ctx); err != nil {
		return err
	}
	return n.startProxy(ctx)
}

func (n *network) startDirectory(ctx context.Context, url string) error {
	n.directory = n.directoryChild(0, strings.TrimPrefix(url, "http://"))
	ready, err := n.startPart(ctx, n.directory, nil)
	if err != nil {
		return err
	}
	n.info.Directory, n.info.DirectoryKey, n.info.DirectoryPID = ready["url"], ready["key"], n.directory.Pid()
	if err := n.noteMetrics("directory", ready); err != nil {
		return err
	}
	return need(ready, "directory", "url", "key")
}

// startHidden creates the demo user (its password kept in the data dir, so
// a kept data dir keeps it) and starts the hidden server.
func (n *network) startHidden(ctx context.Context) error {
	dir := n.subdir("hiddenserver")
	user, pw, err := demoUser(dir)
	if err != nil {
		return fmt.Errorf("demo user: %w", err)
	}
	n.info.DemoUser, n.info.DemoPassword = user, pw
	args := append(n.directoryFlags(), "--data-dir", dir, "--users", filepath.Join(dir, usersFile),
		"--publish-interval", n.cfg.PublishInterval.String())
	if n.cfg.Metrics != "" {
		// Its meeting-relay page too: a hidden server opens no listening
		// socket, not even on loopback, unless asked for local views
		// (TestHiddenNoListener); --metrics asks for them on every part.
		args = append(args, "--status", "127.0.0.1:0")
	}
	for _, f := range n.cfg.Forwards {
		args = append(args, "--forward", f)
	}
	n.info.Forwards = n.cfg.Forwards
	n.hidden = n.child("hiddenserver", "hiddenserver", args...)
	ready, err := n.startPart(ctx, n.hidden, nil)
	if err != nil {
		return err
	}
	n.info.OnionAddress, n.info.HiddenPID, n.info.HiddenStatus = ready["address"], n.hidden.Pid(), ready["status"]
	if err := n.noteMetrics("hiddenserver", ready); err != nil {
		return err
	}
	return need(ready, "hiddenserver", "address")
}

// startProxy starts the proxy with a data dir of its own, where the
// services' password costs stay pinned across runs on a kept --data-dir.
func (n *network) startProxy(ctx context.Context) error {
	args := append(n.directoryFlags(), "--socks", n.cfg.Socks, "--status", n.cfg.Status,
		"--open-urls", n.cfg.OpenURLs, "--data-dir", n.subdir("proxy"))
	if n.cfg.User != "" {
		args = append(args, "--user", n.cfg.User)
	}
	if n.cfg.WaitConnected {
		args = append(args, "--wait-connected")
	}
	if n.cfg.NoCongestionControl {
		args = append(args, "--no-congestion-control")
	}
	if n.cfg.HTTPTunnel != "" {
		args = append(args, "--http-tunnel", n.cfg.HTTPTunnel)
	}
	args = append(args, n.servePrompts()...)
	if n.info.HiddenStatus != "" {
		args = append(args, "--hidden-status", n.info.HiddenStatus)
	}
	n.proxy = n.child("proxy", "proxy", args...)
	ready, err := n.startPart(ctx, n.proxy, nil)
	if err != nil {
		return err
	}
	n.info.Socks, n.info.Status, n.info.ProxyPID = ready["socks"], ready["status"], n.proxy.Pid()
	n.info.CircuitsURL = "http://" + n.info.Status + "/circuits"
	n.info.HTTPTunnel = cmp.Or(ready["http_tunnel"], "off")
	if err := n.noteMetrics("proxy", ready); err != nil {
		return err
	}
	return need(ready, "proxy", "socks", "status")
}

// child prepares one part: the same executable, with the global log level.
func (n *network) child(name, command string, args ...string) *launch.Child {
	all := []string{"--log-level", n.cfg.LogLevel, "--log-format", cmp.Or(n.cfg.LogFormat, "plain"), "--log-part", name}
	if n.cfg.Colour && n.cfg.LogFormat == "human" {
		all = append(all, "--log-colour") // their stderr is a pipe to up's colour terminal
	}
	all = append(append(append(all, command), args...), n.metricsArgs()...)
	if n.cfg.PlainLinks && command != "directory" {
		all = append(all, "--insecure-plain-links")
	}
	if command == "proxy" || command == "hiddenserver" {
		all = append(all, "--lab") // every relay is on 127.0.0.1: one /16
	}
	c := launch.New(name, n.cfg.Executable, all...)
	c.Output = n.cfg.Stderr
	c.ReadyTimeout = n.cfg.ReadyTimeout
	c.Prefix = launch.Prefix(name, prefixWidth(n.cfg.Relays), colourIndex(name), n.cfg.Colour)
	c.NoPrefix = n.cfg.LogFormat == "json"
	return c
}

// colourIndex keeps the directory, the proxy, the hidden server and each
// relay in their own colour.
func colourIndex(name string) int {
	switch name {
	case "directory":
		return 0
	case "proxy":
		return 1
	case "hiddenserver":
		return 2
	}
	k, _ := strconv.Atoi(strings.TrimPrefix(name, "relay"))
	return 2 + k
}

func (n *network) subdir(name string) string { return filepath.Join(n.cfg.DataDir, name) }

// need checks that a ready line carried the fields up relies on.
func need(ready map[string]string, name string, keys ...string) error {
	for _, k := range keys {
		if ready[k] == "" {
			return fmt.Errorf("%s: ready line has no %s= field", name, k)
		}
	}
	return nil
}

// prefixWidth aligns the names of the parts of a network of relays relays.
func prefixWidth(relays int) int {
	return launch.PrefixWidth("directory", relayName(max(relays, 1)-1), "proxy", "hiddenserver")
}

// OwnPrefix is the prefix of up's own log lines, aligned with its parts'
// (bold on a colour terminal, in no part's colour).
func OwnPrefix(relays int, colour bool) string {
	label := launch.Prefix("up", prefixWidth(relays), 0, false)
	if colour {
		return "\x1b[1m" + label + "\x1b[0m"
	}
	return label
}
