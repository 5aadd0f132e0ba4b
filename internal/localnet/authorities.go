package localnet

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"onion/directory"
	"onion/internal/launch"
	"onion/onion"
)

// DefaultVoteInterval is how often up's authorities agree on a relay list:
// short, so that a relay that starts is listed within seconds.
const DefaultVoteInterval = 2 * time.Second

// authorityName is the log prefix and data dir of authority i: the first is
// "directory", as with a single one.
func authorityName(i int) string {
	if i == 0 {
		return "directory"
	}
	return "directory" + strconv.Itoa(i+1)
}

// startAuthorities starts cfg.Authorities directory authorities. With more
// than one, each must know every authority's address and key before it
// starts: up makes the keys in their data dirs and reserves their ports
// first.
func (n *network) startAuthorities(ctx context.Context) error {
	urls, keys, err := n.prepareAuthorities()
	if err != nil {
		return err
	}
	if n.cfg.Authorities <= 1 {
		return n.startDirectory(ctx, urls[0])
	}
	n.info.Directories, n.info.DirectoryKeys = urls, keys
	for i := range urls {
		c := n.directoryChild(i, strings.TrimPrefix(urls[i], "http://"))
		ready, err := n.startPart(ctx, c, nil)
		if err != nil {
			return err
		}
		if ready["key"] != keys[i] {
			return fmt.Errorf("%s: ready with key %s, want %s", c.Name, ready["key"], keys[i])
		}
		if err := n.noteMetrics(c.Name, ready); err != nil {
			return err
		}
		n.authorities = append(n.authorities, c)
	}
	n.directory = n.authorities[0]
	n.info.Directory, n.info.DirectoryKey, n.info.DirectoryPID = urls[0], keys[0], n.directory.Pid()
	return nil
}

// prepareAuthorities makes each authority's key and its listening socket,
// which up holds for the whole run and hands to the authority (and to its
// successor after a restart) as file descriptor 3: a port picked free and
// then closed could be taken by another program before the authority
// listens (TestForward saw it happen).
func (n *network) prepareAuthorities() (urls, keys []string, err error) {
	for i := range max(1, n.cfg.Authorities) {
		key, err := directory.LoadKey(n.subdir(authorityName(i)))
		if err != nil {
			return nil, nil, err
		}
		f, addr, err := listenFile()
		if err != nil {
			return nil, nil, fmt.Errorf("listen for authority %d: %w", i+1, err)
		}
		n.listeners = append(n.listeners, f)
		urls = append(urls, "http://"+addr)
		keys = append(keys, onion.EncodeKey(key.Public().(ed25519.PublicKey)))
	}
	return urls, keys, nil
}

// listenFile listens on a free loopback port and returns the socket as a
// file to hand to a child, and its address.
func listenFile() (*os.File, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	defer ln.Close() // the file is a duplicate of the socket
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return nil, "", err
	}
	return f, ln.Addr().String(), nil
}

// closeListeners closes up's copies of the authorities' sockets.
func (n *network) closeListeners() {
	for _, f := range n.listeners {
		f.Close()
	}
}

// directoryChild prepares authority i to listen on addr; its key lives in
// its data dir, so a restarted one has the same. Every relay is on
// loopback, so it must list private addresses.
func (n *network) directoryChild(i int, addr string) *launch.Child {
	name := authorityName(i)
	args := []string{"--listen", addr, "--data-dir", n.subdir(name),
		"--relay-ttl", n.cfg.RelayTTL.String(), "--allow-private-addresses",
		// Every relay is on 127.0.0.1: one address, which would list two.
		"--max-relays-per-address", strconv.Itoa(max(n.cfg.Relays, directory.DefaultMaxRelaysPerAddress))}
	if len(n.info.Directories) > 1 {
		args = append(args, "--authority", strings.Join(n.info.Directories, ","),
			"--authority-key", strings.Join(n.info.DirectoryKeys, ","),
			"--vote-interval", n.cfg.VoteInterval.String())
	}
	if i < len(n.listeners) {
		args = append(args, "--listen-fd", "3")
	}
	c := n.child(name, "directory", args...)
	if i < len(n.listeners) {
		c.Cmd.ExtraFiles = []*os.File{n.listeners[i]}
	}
	return c
}

// directoryFlags are the flags relays, the hidden server and the proxy
// reach the authorities with.
func (n *network) directoryFlags() []string {
	if len(n.info.Directories) > 1 {
		return []string{"--directory", strings.Join(n.info.Directories, ","),
			"--directory-key", strings.Join(n.info.DirectoryKeys, ",")}
	}
	return []string{"--directory", n.info.Directory, "--directory-key", n.info.DirectoryKey}
}

func (n *network) isAuthority(c *launch.Child) bool {
	for _, a := range n.authorities {
		if a == c {
			return true
		}
	}
	return false
}

// allAuthorities is n.directory (the first, as restarted) and the others.
func (n *network) allAuthorities() []*launch.Child {
	return append([]*launch.Child{n.directory}, n.authorities[min(1, len(n.authorities)):]...)
}
