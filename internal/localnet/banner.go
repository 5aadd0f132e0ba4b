package localnet

import (
	"cmp"
	"fmt"
	"io"
	"strings"

	"onion/internal/upinfo"
)

// announce writes the ready line (for scripts, first, as every command
// does) and then the banner for people.
func (n *network) announce() {
	// An error writing our own output has nowhere better to go.
	_, _ = io.WriteString(n.cfg.Stdout, readyLine(&n.info)+banner(&n.info))
}

// readyLine is the `up ready` line, with its newline.
func readyLine(i *upinfo.Info) string {
	return fmt.Sprintf("up ready socks=%s status=%s directory=%s key=%s relays=%d onion=%s http_tunnel=%s\n",
		i.Socks, i.Status, i.Directory, i.DirectoryKey, len(i.Relays), i.OnionAddress, cmp.Or(i.HTTPTunnel, "off"))
}

// banner says what runs where and gives commands to try.
func banner(i *upinfo.Info) string {
	var relays, exits []string
	for _, r := range i.Relays {
		relays = append(relays, r.Nickname)
		if r.Exit {
			exits = append(exits, r.Nickname)
		}
	}
	dataDir := i.DataDir
	if i.TempDataDir {
		dataDir += " (temporary: removed when up exits; keep one with --data-dir)"
	}
	creds := i.DemoUser + ":" + i.DemoPassword
	tunnel := cmp.Or(i.HTTPTunnel, "off")
	dirs, join := "a directory", ""
	if len(i.Directories) > 1 { // a relay joining needs them all
		dirs = fmt.Sprintf("%d directory authorities", len(i.Directories))
		join = fmt.Sprintf("\n  join with      --directory %s --directory-key %s",
			strings.Join(i.Directories, ","), strings.Join(i.DirectoryKeys, ","))
	}
	return fmt.Sprintf(`
onion network is up: %s, %d relays, a hidden server and the SOCKS5 proxy, each its own process.

  SOCKS5 proxy   %s  (also SOCKS4a and HTTP proxy)
  HTTP proxy     %s  (HTTPS_PROXY=http://%s)
  circuits       %s
  status page    http://%s/   (in a terminal: onion status --status %s)
  directory      %s   (network page: %s/network)
  directory key  %s%s
  relays         %s (exits: %s)
  hidden server  http://%s/%s
  demo login     user %s, password %s
  data dir       %s
%s
Try (the proxy resolves names at the exit; socks5h / --socks5-hostname, never --socks5):
  curl --socks5-hostname %s http://example.com/
  curl %s
  curl -x socks5h://%s@%s http://%s/echo -d hello
  curl -x socks5h://%s@%s http://%s/
  curl -x socks5h://%s@%s http://%s/open/tor     (the proxy opens URLs per --open-urls)
  curl -x http://%s https://example.com/

%sCtrl-C stops the network.
`, dirs, len(i.Relays), i.Socks, tunnel, tunnel, i.CircuitsURL, i.Status, i.Status, i.Directory, i.Directory, i.DirectoryKey, join,
		strings.Join(relays, " "), strings.Join(exits, " "), i.OnionAddress, hiddenStatus(i), i.DemoUser, i.DemoPassword, dataDir, metricsLines(i),
		i.Socks, i.CircuitsURL,
		creds, i.Socks, i.OnionAddress,
		creds, i.Socks, i.OnionAddress,
		creds, i.Socks, i.OnionAddress,
		tunnel, forwardsLine(i))
}

// forwardsLine lists the hidden server's forwarded ports, if any.
func forwardsLine(i *upinfo.Info) string {
	if len(i.Forwards) == 0 {
		return ""
	}
	return "Forwarded to your apps (" + i.OnionAddress + "): " + strings.Join(i.Forwards, " ") + "\n\n"
}

// hiddenStatus points at the hidden server's status page, if it has one.
func hiddenStatus(i *upinfo.Info) string {
	if i.HiddenStatus == "" {
		return ""
	}
	return "   (meeting relays: http://" + i.HiddenStatus + "/)"
}
