package e2e

// Applications nobody here wrote, from Debian's packages, against `onion
// up` (issue 15): curl through the HTTP tunnel and the SOCKS port (CONNECT,
// absolute form, https_proxy, SOCKS4a), git with http.proxy, torsocks
// (names resolved by Tor's RESOLVE extension, and a hidden service with
// SOCKS credentials from torsocks' config), proxychains4 with proxy_dns,
// ncat with both proxy types, and a raw RESOLVE.
//
// The destination is an HTTP server on this machine's first non-loopback
// address (torsocks would send a loopback destination around the proxy),
// named apps-origin.test. Only `onion up` can resolve that name: it runs in
// a mount namespace of its own (unshare -m) whose /etc/hosts names it, so a
// name that reaches the server was resolved by the network, never by the
// applications or this test, which cannot resolve it. (That the proxy
// hands names to the exit unresolved is internal/testnet's
// TestHostnameReachesExitUnresolved and TestResolveAtExit.)

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"onion/onion"
)

const (
	appsName    = "apps-origin.test"
	appsBody    = "hello from the apps origin\n"
	toolTimeout = 30 * time.Second
)

// needTool returns the path of a tool, or skips the test without it (fails
// in CI, where .ci/run installs it).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not on PATH: .ci/run installs it", name)
		}
		t.Skipf("no %s on PATH (apt-get install %s)", name, name)
	}
	return p
}

// hostIP is this machine's first non-loopback IPv4 address.
func hostIP(t *testing.T) net.IP {
	t.Helper()
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				return n.IP.To4()
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no non-loopback IPv4 address")
	}
	t.Skip("no non-loopback IPv4 address: torsocks would not use the proxy")
	return nil
}

// appsOrigin serves dir over HTTP and HTTPS on ip, and returns both ports.
func appsOrigin(t *testing.T, ip net.IP, dir string) (httpPort, httpsPort int) {
	t.Helper()
	h := http.FileServer(http.Dir(dir))
	plain := httptest.NewUnstartedServer(h)
	tls := httptest.NewUnstartedServer(h)
	for _, s := range []*httptest.Server{plain, tls} {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
		if err != nil {
			t.Fatal(err)
		}
		s.Listener.Close()
		s.Listener = ln
		t.Cleanup(s.Close)
	}
	plain.Start()
	tls.StartTLS()
	return plain.Listener.Addr().(*net.TCPAddr).Port, tls.Listener.Addr().(*net.TCPAddr).Port
}

// gitRepo makes dir/repo.git, a bare repository with one commit, ready for
// git's dumb HTTP protocol.
func gitRepo(t *testing.T, dir string) {
	t.Helper()
	work := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", work},
		{"-C", work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "onion apps"},
		{"clone", "-q", "--bare", work, filepath.Join(dir, "repo.git")},
		{"-C", filepath.Join(dir, "repo.git"), "update-server-info"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

// runTool runs a tool with env added to a proxy-free environment and
// stdin, and returns its stdout; stderr goes into the error.
func runTool(t *testing.T, env []string, stdin string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasSuffix(strings.ToLower(k), "_proxy") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%v: %w: %s", cmd.Args, err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// socksResolveRaw sends Tor's SOCKS5 RESOLVE for name and returns the
// reply code and address.
func socksResolveRaw(t *testing.T, socks, name string) (byte, net.IP) {
	t.Helper()
	c, err := net.DialTimeout("tcp", socks, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(socksReplyTimeout))
	req := append([]byte{5, 1, 0, 5, 0xF0, 0, 3, byte(len(name))}, name...)
	if _, err := c.Write(append(req, 0, 0)); err != nil {
		t.Fatal(err)
	}
	rep := make([]byte, 2+10)
	if _, err := c.Read(rep[:2]); err != nil || rep[1] != 0 {
		t.Fatalf("RESOLVE greeting: %x, %v", rep[:2], err)
	}
	if n, err := c.Read(rep[2:]); err != nil || n < 2 {
		t.Fatalf("RESOLVE reply: %x, %v", rep[2:2+n], err)
	}
	if rep[3] != 0 || rep[5] != 1 {
		return rep[3], nil
	}
	return 0, net.IP(rep[6:10])
}

// TestApps: budget 90 s (up's start, then about twenty tool runs of a
// second or two each, and Chromium's few seconds).
func TestApps(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("needs root for a mount namespace (unshare -m); CI runs as root")
		}
		t.Skip("needs root for a mount namespace (unshare -m)")
	}
	unshare := needTool(t, "unshare")
	needTool(t, "curl")
	ip := hostIP(t)
	if _, err := net.DefaultResolver.LookupHost(t.Context(), appsName); err == nil {
		t.Fatalf("%s resolves on this machine: the test could not tell who resolved it", appsName)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte(appsBody), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("git"); err == nil {
		gitRepo(t, dir)
	}
	httpPort, httpsPort := appsOrigin(t, ip, dir)
	hosts, _ := os.ReadFile("/etc/hosts")
	hostsFile := filepath.Join(t.TempDir(), "hosts")
	hosts = fmt.Appendf(hosts, "\n%s %s\n", ip, appsName)
	if err := os.WriteFile(hostsFile, hosts, 0o644); err != nil {
		t.Fatal(err)
	}
	n := startHiddenUp(t, upOptions{wrap: []string{unshare, "-m", "sh", "-c",
		`mount --bind "$0" /etc/hosts && exec "$@"`, hostsFile}})
	if n.HTTPTunnel == "" || n.HTTPTunnel == "off" {
		t.Fatalf("info file http_tunnel %q", n.HTTPTunnel)
	}
	origin := "http://" + net.JoinHostPort(appsName, strconv.Itoa(httpPort)) + "/hello.txt"
	socksPort := n.Socks[strings.LastIndexByte(n.Socks, ':')+1:]
	login := n.DemoUser + ":" + n.DemoPassword

	check := func(t *testing.T, out string, err error, want string) {
		t.Helper()
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("got %q, %v; want %q", out, err, want)
		}
	}
	t.Run("curl CONNECT via tunnel", func(t *testing.T) {
		out, err := runTool(t, nil, "", "curl", "-sS", "--fail", "-p", "-x", "http://"+n.HTTPTunnel, origin)
		check(t, out, err, appsBody)
	})
	t.Run("curl CONNECT via SOCKS port", func(t *testing.T) {
		out, err := runTool(t, nil, "", "curl", "-sS", "--fail", "-p", "-x", "http://"+n.Socks, origin)
		check(t, out, err, appsBody)
	})
	t.Run("curl absolute form", func(t *testing.T) {
		out, err := runTool(t, nil, "", "curl", "-sS", "--fail", "-x", "http://"+n.HTTPTunnel, origin)
		check(t, out, err, appsBody)
	})
	t.Run("https_proxy", func(t *testing.T) {
		url := "https://" + net.JoinHostPort(appsName, strconv.Itoa(httpsPort)) + "/hello.txt"
		out, err := runTool(t, []string{"https_proxy=http://" + n.HTTPTunnel}, "", "curl", "-sS", "--fail", "-k", url)
		check(t, out, err, appsBody)
	})
	t.Run("curl socks4a", func(t *testing.T) {
		out, err := runTool(t, nil, "", "curl", "-sS", "--fail", "-x", "socks4a://"+n.Socks, origin)
		check(t, out, err, appsBody)
	})
	t.Run("raw RESOLVE", func(t *testing.T) {
		code, got := socksResolveRaw(t, n.Socks, appsName)
		if code != 0 || !got.Equal(ip) {
			t.Errorf("RESOLVE %s: code 0x%02x, address %v; want %v", appsName, code, got, ip)
		}
	})
	t.Run("git clone", func(t *testing.T) {
		needTool(t, "git")
		dest := filepath.Join(t.TempDir(), "clone")
		url := "http://" + net.JoinHostPort(appsName, strconv.Itoa(httpPort)) + "/repo.git"
		_, err := runTool(t, []string{"GIT_TERMINAL_PROMPT=0"}, "", "git", "-c", "http.proxy=http://"+n.HTTPTunnel, "clone", "-q", url, dest)
		if err != nil {
			t.Fatal(err)
		}
		out, err := runTool(t, nil, "", "git", "-C", dest, "log", "--format=%s")
		check(t, out, err, "onion apps")
	})
	torsocksConf := func(t *testing.T, extra string) []string {
		conf := filepath.Join(t.TempDir(), "torsocks.conf")
		text := "TorAddress 127.0.0.1\nTorPort " + socksPort + "\nOnionAddrRange 127.42.42.0/24\n" + extra
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{"TORSOCKS_CONF_FILE=" + conf}
	}
	t.Run("torsocks curl by name", func(t *testing.T) {
		needTool(t, "torsocks")
		out, err := runTool(t, torsocksConf(t, ""), "", "torsocks", "curl", "-sS", "--fail", origin)
		check(t, out, err, appsBody)
	})
	t.Run("torsocks to the hidden echo", func(t *testing.T) {
		needTool(t, "torsocks")
		needTool(t, "ncat")
		env := torsocksConf(t, "SOCKS5Username "+n.DemoUser+"\nSOCKS5Password "+n.DemoPassword+"\n")
		out, err := runTool(t, env, "ping through torsocks\n", "torsocks", "ncat", n.OnionAddress, "7")
		check(t, out, err, "ping through torsocks")
	})
	t.Run("proxychains4", func(t *testing.T) {
		needTool(t, "proxychains4")
		conf := filepath.Join(t.TempDir(), "proxychains.conf")
		text := "strict_chain\nproxy_dns\ntcp_read_time_out 15000\ntcp_connect_time_out 8000\n[ProxyList]\nsocks5 127.0.0.1 " + socksPort + "\n"
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := runTool(t, nil, "", "proxychains4", "-q", "-f", conf, "curl", "-sS", "--fail", origin)
		check(t, out, err, appsBody)
	})
	t.Run("ncat socks5 to the hidden echo", func(t *testing.T) {
		needTool(t, "ncat")
		out, err := runTool(t, nil, "ping through ncat\n", "ncat", "--proxy", n.Socks, "--proxy-type", "socks5",
			"--proxy-auth", login, n.OnionAddress, "7")
		check(t, out, err, "ping through ncat")
	})
	t.Run("chromium via the HTTP proxy", func(t *testing.T) {
		chromium := chromiumPath()
		if chromium == "" {
			t.Skip("no chromium on PATH (.ci/run installs it where it can)")
		}
		out, err := runChromium(t, chromium, "--proxy-server=http://"+n.HTTPTunnel, "--dump-dom", origin)
		check(t, out, err, strings.TrimSpace(appsBody))
	})
	t.Run("extended codes", func(t *testing.T) {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		typo := []byte(n.OnionAddress)
		typo[5] ^= 'a' ^ 'b' // base32 letters stay letters; the checksum breaks
		for _, c := range []struct {
			host string
			want byte
		}{{onion.EncodeAddress(pub), socksOnionDescNotFound}, {string(typo), socksOnionBadAddress}} {
			if _, rep := socksDialAuth(t, n.Socks, n.DemoUser, n.DemoPassword, c.host, 80); rep != c.want {
				t.Errorf("%s: SOCKS reply 0x%02x, want 0x%02x", c.host, rep, c.want)
			}
		}
		out, err := runTool(t, nil, "", "curl", "-sS", "-p", "-x", "http://"+n.HTTPTunnel, "http://"+onion.EncodeAddress(pub)+"/")
		if err == nil || !strings.Contains(err.Error(), "502") {
			t.Errorf("CONNECT to an unknown onion: %q, %v; want a 502", out, err)
		}
	})
	t.Run("ncat http", func(t *testing.T) {
		needTool(t, "ncat")
		req := "GET /hello.txt HTTP/1.0\r\nHost: " + appsName + "\r\n\r\n"
		out, err := runTool(t, nil, req, "ncat", "--proxy", n.HTTPTunnel, "--proxy-type", "http", appsName, strconv.Itoa(httpPort))
		check(t, out, err, appsBody)
	})
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
