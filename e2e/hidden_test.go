package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/proxy"

	"onion/internal/launch"
	"onion/internal/procstat"
	"onion/internal/upinfo"
	"onion/onion"
)

// The hidden server's acceptance tests: `onion up` runs a hidden
// server protected by a demo user, and these tests reach it through the
// SOCKS5 proxy as a user would, with the Go client and with curl.

// More SOCKS5 bytes for the raw client (RFC 1928, RFC 1929).
const (
	socksUserPass        = 0x02
	socksUserPassVersion = 0x01
	socksNotAllowed      = 0x02
	socksHostUnreachable = 0x04
	// Tor's extended codes (proposal 304), on by default.
	socksOnionDescNotFound = 0xF0
	socksOnionAuthMissing  = 0xF4
	socksOnionAuthWrong    = 0xF5
	socksOnionBadAddress   = 0xF6
)

// Bounds of the hidden-server tests' waits.
const (
	echoTimeout = 2 * time.Minute // a 1 MiB echo, both ways, under -race
	// refuseTimeout bounds a request that must fail for want of a password:
	// it may build a circuit first, but must never wait for a person.
	refuseTimeout = 10 * time.Second
)

// hiddenNet is an `onion up` with its hidden server, as its info file
// describes it.
type hiddenNet struct {
	up *proc
	*upinfo.Info
}

// upOptions are what a test changes about the `onion up` it starts.
type upOptions struct {
	env     []string // added to the test's own environment
	dataDir string   // "" means a fresh one
	args    []string // more flags
	wrap    []string // a command (and its arguments) that runs onion up: it is given the binary and up's arguments
}

// startHiddenUp runs `onion up` like startUp, with o's environment and data
// directory, and reads the hidden server's part of the info file too. When
// the test ends, up must exit 0 on SIGTERM and leave none of its children,
// the hidden server included, running.
func startHiddenUp(t *testing.T, o upOptions) *hiddenNet {
	t.Helper()
	dir := t.TempDir()
	if o.dataDir == "" {
		o.dataDir = filepath.Join(dir, "data")
	}
	infoPath := filepath.Join(dir, "info.json")
	args := append([]string{"up", "--socks", "127.0.0.1:0", "--status", "127.0.0.1:0",
		"--info-file", infoPath, "--data-dir", o.dataDir}, o.args...)
	// startProc, with an environment.
	exe := onionBinary(t)
	if len(o.wrap) > 0 {
		args = append(append(o.wrap[1:len(o.wrap):len(o.wrap)], exe), args...)
		exe = o.wrap[0]
	}
	up := &proc{Child: launch.New("up", exe, args...), out: &logWriter{t: t}}
	up.Output = up.out
	up.Prefix = fmt.Sprintf("%-10s| ", "up")
	up.ReadyTimeout = upReadyTimeout
	if len(o.env) > 0 {
		up.Cmd.Env = append(os.Environ(), o.env...) // later entries win
	}
	t.Cleanup(func() { up.stop(t) })
	start := time.Now()
	ready, err := up.Start(t.Context())
	if err != nil {
		t.Fatalf("start up: %v", err)
	}
	up.ready = ready

	n := &hiddenNet{up: up, Info: readInfo(t, infoPath)}
	if _, err := onion.ParseAddress(n.OnionAddress); err != nil || n.HiddenPID == 0 ||
		n.DemoUser == "" || n.DemoPassword == "" {
		t.Fatalf("info file lacks the hidden server (address: %v): %+v", err, n.Info)
	}
	if ready["onion"] != n.OnionAddress {
		t.Errorf("ready line onion=%s, info file %s", ready["onion"], n.OnionAddress)
	}
	t.Logf("up ready in %v: socks %s, hidden server %s", time.Since(start).Round(time.Millisecond), n.Socks, n.OnionAddress)
	t.Cleanup(func() {
		up.stop(t) // before the cleanup above, which then finds it stopped
		for _, pid := range n.PIDs() {
			if alive(pid) {
				t.Errorf("pid %d still running after up exited", pid)
			}
		}
	})
	return n
}

func (n *hiddenNet) url(path string) string { return "http://" + n.OnionAddress + path }

// payloadSizes are the echo sizes: 1 byte and 1 MiB of the acceptance
// (less in -short), and 64 KiB in between. An HTTP server that starts its
// reply before it has read the whole request may drop the unread rest of a
// body that size on a keep-alive connection (Go's does, unless told to run
// full duplex), and the echo comes back short.
func payloadSizes() []int {
	if testing.Short() {
		return []int{1, 64 << 10, 256 << 10}
	}
	return []int{1, 64 << 10, 1 << 20}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// hiddenHTTP returns an HTTP client through the SOCKS5 proxy that gives
// user and password (if either is set) as SOCKS5 credentials. Without
// keepAlive every request opens its own stream, and so logs in anew.
func hiddenHTTP(t *testing.T, socks, user, password string, keepAlive bool) *http.Client {
	t.Helper()
	var auth *proxy.Auth
	if user != "" || password != "" {
		auth = &proxy.Auth{User: user, Password: password}
	}
	d, err := proxy.SOCKS5("tcp", socks, auth, proxy.Direct)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{
		DialContext:        d.(proxy.ContextDialer).DialContext,
		DisableCompression: true,
		DisableKeepAlives:  !keepAlive,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// fetch does one request, bounded by timeout, and returns the body of a
// 200 response.
func fetch(t *testing.T, client *http.Client, method, url string, body []byte, timeout time.Duration) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the body: %w", method, url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %q", method, url, resp.Status, got)
	}
	return got, nil
}

// sameBytes reports where got and want first differ.
func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Errorf("%s: got %d bytes, want %d; first difference at byte %d", what, len(got), len(want), i)
}

// TestHiddenEchoHTTP: POST /echo answers exactly the body sent (1 byte,
// 64 KiB, 1 MiB), GET /echo?msg= answers msg, and the index page is the
// service's; through the Go SOCKS client (keeping its connection alive, as
// curl and browsers do) and through curl, with the demo credentials as
// SOCKS5 username and password.
func TestHiddenEchoHTTP(t *testing.T) {
	n := startHiddenUp(t, upOptions{})
	client := hiddenHTTP(t, n.Socks, n.DemoUser, n.DemoPassword, true) // as curl and browsers

	start := time.Now()
	page, err := fetch(t, client, "GET", n.url("/"), nil, socksReplyTimeout)
	if err != nil {
		t.Fatalf("first request: %v", err)
	}
	t.Logf("GET / (first request, joins the service) took %v", time.Since(start).Round(time.Millisecond))
	if !bytes.Contains(page, []byte("onion hidden server")) || !bytes.Contains(page, []byte("/open/tor")) {
		t.Errorf("GET / is not the service's index page:\n%s", page)
	}

	for _, size := range payloadSizes() {
		body := randomBytes(t, size)
		start := time.Now()
		got, err := fetch(t, client, "POST", n.url("/echo"), body, echoTimeout)
		if err != nil {
			t.Fatalf("POST %d bytes: %v", size, err)
		}
		sameBytes(t, fmt.Sprintf("POST /echo of %d bytes", size), got, body)
		if len(got) < size {
			t.Logf("a short echo: did the service reply before reading the whole body? (see payloadSizes)")
		}
		t.Logf("POST /echo of %d bytes took %v", size, time.Since(start).Round(time.Millisecond))
	}
	got, err := fetch(t, client, "GET", n.url("/echo?msg=hello"), nil, socksReplyTimeout)
	if err != nil || string(got) != "hello" {
		t.Errorf("GET /echo?msg=hello: %q, %v", got, err)
	}

	if _, err := exec.LookPath("curl"); err != nil {
		t.Log("no curl on PATH: skipping the curl requests")
		return
	}
	creds := n.DemoUser + ":" + n.DemoPassword + "@" + n.Socks
	out, err := runCurl(t, "--socks5-hostname", creds, n.url("/echo"), "-d", "hello")
	if err != nil || out != "hello" {
		t.Errorf("curl -d hello: %q, %v", out, err)
	}
	for _, size := range payloadSizes() {
		dir := t.TempDir()
		in, outFile := filepath.Join(dir, "in"), filepath.Join(dir, "out")
		body := randomBytes(t, size)
		if err := os.WriteFile(in, body, 0o600); err != nil {
			t.Fatal(err)
		}
		if msg, err := runCurl(t, "--socks5-hostname", creds, "--data-binary", "@"+in, "-o", outFile, n.url("/echo")); err != nil {
			t.Errorf("curl --data-binary of %d bytes: %v\n%s", size, err, msg)
			continue
		}
		got, err := os.ReadFile(outFile)
		if err != nil {
			t.Fatal(err)
		}
		sameBytes(t, fmt.Sprintf("curl POST /echo of %d bytes", size), got, body)
	}
}

// runCurl runs curl -sS --fail with args, bounded, and returns its output.
func runCurl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), echoTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", append([]string{"-sS", "--fail"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out) + stderr.String(), fmt.Errorf("%v: %w: %s", cmd.Args, err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// TestHiddenEchoPort7: virtual port 7 echoes raw bytes: 1 byte, then
// 1 MiB ended by a half-close, after which the service half-closes too.
func TestHiddenEchoPort7(t *testing.T) {
	n := startHiddenUp(t, upOptions{})
	start := time.Now()
	conn, rep := socksDialAuth(t, n.Socks, n.DemoUser, n.DemoPassword, n.OnionAddress, 7)
	if rep != socksSucceeded {
		t.Fatalf("SOCKS CONNECT %s:7: reply 0x%02x", n.OnionAddress, rep)
	}
	t.Logf("CONNECT to port 7 took %v", time.Since(start).Round(time.Millisecond))
	conn.SetDeadline(time.Now().Add(echoTimeout))

	one := randomBytes(t, 1)
	if _, err := conn.Write(one); err != nil {
		t.Fatal(err)
	}
	back := make([]byte, 1)
	if _, err := io.ReadFull(conn, back); err != nil || back[0] != one[0] {
		t.Fatalf("1 byte echo: got %x, %v; want %x", back, err, one)
	}

	sizes := payloadSizes()
	body := randomBytes(t, sizes[len(sizes)-1])
	start = time.Now()
	wrote := make(chan error, 1)
	go func() { // the echo comes back while we write: read at the same time
		_, err := conn.Write(body)
		if err == nil {
			err = conn.CloseWrite()
		}
		wrote <- err
	}()
	got, err := io.ReadAll(conn) // until the service's half-close
	if werr := <-wrote; werr != nil {
		t.Fatalf("writing %d bytes: %v", len(body), werr)
	}
	if err != nil {
		t.Fatalf("reading the echo of %d bytes (got %d): %v", len(body), len(got), err)
	}
	sameBytes(t, fmt.Sprintf("port 7 echo of %d bytes", len(body)), got, body)
	t.Logf("port 7 echo of %d bytes took %v", len(body), time.Since(start).Round(time.Millisecond))
}

// TestHiddenWrongPassword: a wrong password gets Tor's extended SOCKS5
// reply "wrong client authorization" (0xF5), curl fails, the service logs the denial, and the right
// password still works afterwards.
func TestHiddenWrongPassword(t *testing.T) {
	n := startHiddenUp(t, upOptions{})
	wrong := n.DemoPassword + "x"

	start := time.Now()
	if _, rep := socksDialAuth(t, n.Socks, n.DemoUser, wrong, n.OnionAddress, 80); rep != socksOnionAuthWrong {
		t.Errorf("wrong password: SOCKS reply 0x%02x, want 0x%02x (wrong client authorization)", rep, socksOnionAuthWrong)
	}
	t.Logf("raw SOCKS with a wrong password refused in %v", time.Since(start).Round(time.Millisecond))
	waitFor(t, 10*time.Second, "the service to log the denial", func() bool {
		return n.up.out.contains("hiddenserver", "authentication denied", "user="+n.DemoUser)
	})

	client := hiddenHTTP(t, n.Socks, n.DemoUser, wrong, false)
	_, err := fetch(t, client, "GET", n.url("/echo?msg=hello"), nil, socksReplyTimeout)
	// x/net/proxy knows no extended codes: it names the number.
	if err == nil || !strings.Contains(err.Error(), "245") {
		t.Errorf("GET with a wrong password through x/net/proxy: %v, want an error naming code 245 (0xF5)", err)
	}

	if _, lookErr := exec.LookPath("curl"); lookErr == nil {
		out, err := runCurl(t, "--socks5-hostname", n.DemoUser+":"+wrong+"@"+n.Socks, n.url("/echo"), "-d", "hello")
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 || strings.Contains(out, "hello") {
			t.Errorf("curl with a wrong password: %v, output %q; want a non-zero exit", err, out)
		} else {
			t.Logf("curl with a wrong password: %v", err)
		}
	} else {
		t.Log("no curl on PATH: skipping the curl request")
	}

	// The failures left nothing behind that refuses the right password.
	got, err := fetch(t, hiddenHTTP(t, n.Socks, n.DemoUser, n.DemoPassword, false), "GET", n.url("/echo?msg=after"), nil, socksReplyTimeout)
	if err != nil || string(got) != "after" {
		t.Errorf("the right password after wrong ones: %q, %v", got, err)
	}
}

// TestHiddenNoCredentials: with no SOCKS5 credentials (or a user name but
// no password), no --user, no ONION_PASSWORD and no terminal, the proxy
// refuses the request promptly: it never waits for a person.
func TestHiddenNoCredentials(t *testing.T) {
	n := startHiddenUp(t, upOptions{})
	for _, c := range []struct{ name, user, pass string }{
		{"no credentials", "", ""},
		{"user name without password", n.DemoUser, ""},
	} {
		start := time.Now()
		_, rep := socksDialAuth(t, n.Socks, c.user, c.pass, n.OnionAddress, 80)
		took := time.Since(start)
		t.Logf("%s: SOCKS reply 0x%02x after %v", c.name, rep, took.Round(time.Millisecond))
		if rep != socksOnionAuthMissing {
			t.Errorf("%s: SOCKS reply 0x%02x, want 0x%02x (missing client authorization)", c.name, rep, socksOnionAuthMissing)
		}
		if took > refuseTimeout {
			t.Errorf("%s: refused only after %v", c.name, took)
		}
	}
	waitFor(t, 10*time.Second, "the proxy to log why it refused", func() bool {
		return n.up.out.contains("proxy", "requires a login") && n.up.out.contains("proxy", "requires a password") &&
			n.up.out.contains("proxy", "SOCKS5 username and password", "--password-file", "on a terminal")
	})

	start := time.Now()
	_, err := fetch(t, hiddenHTTP(t, n.Socks, "", "", false), "GET", n.url("/"), nil, socksReplyTimeout)
	if err == nil || time.Since(start) > refuseTimeout {
		t.Errorf("GET / with no credentials: %v after %v; want a prompt failure", err, time.Since(start))
	}
	if _, lookErr := exec.LookPath("curl"); lookErr == nil {
		start := time.Now()
		_, err := runCurl(t, "--socks5-hostname", n.Socks, n.url("/echo"), "-d", "hello")
		if err == nil || time.Since(start) > refuseTimeout {
			t.Errorf("curl with no credentials: %v after %v; want a prompt failure", err, time.Since(start))
		}
	}
}

// TestHiddenOpenURL: GET /open/tor answers with the URL, and the proxy
// (--open-urls always) hands exactly that URL to the system opener, here a
// recording xdg-open first on PATH.
func TestHiddenOpenURL(t *testing.T) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skipf("the proxy runs xdg-open on Linux and the BSDs, not on %s", runtime.GOOS)
	}
	const want = "https://www.torproject.org/"
	bin := t.TempDir()
	record := filepath.Join(bin, "opened")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >> '" + record + "'\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	n := startHiddenUp(t, upOptions{
		env:  []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")},
		args: []string{"--open-urls", "always"},
	})

	got, err := fetch(t, hiddenHTTP(t, n.Socks, n.DemoUser, n.DemoPassword, false), "GET", n.url("/open/tor"), nil, socksReplyTimeout)
	if err != nil {
		t.Fatalf("GET /open/tor: %v", err)
	}
	if strings.TrimSpace(string(got)) != want {
		t.Errorf("GET /open/tor answered %q, want %q", got, want)
	}
	var opened []byte
	waitFor(t, 20*time.Second, "the recording xdg-open to run", func() bool {
		opened, _ = os.ReadFile(record)
		return len(opened) > 0
	})
	if string(opened) != want+"\n" {
		t.Errorf("xdg-open was run with %q, want exactly %q", opened, want)
	}
	waitFor(t, 10*time.Second, "the proxy to say what it opened", func() bool {
		return n.up.out.contains("proxy", "opened", want)
	})
}

// TestHiddenUnknownAddress: a well-formed onion address that nobody
// published, and the real address with one character changed (a bad
// checksum), both get "host unreachable" and a log line that says why.
func TestHiddenUnknownAddress(t *testing.T) {
	n := startHiddenUp(t, upOptions{})
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	unknown := onion.EncodeAddress(pub)
	typo := []byte(n.OnionAddress)
	if typo[5] == 'a' {
		typo[5] = 'b'
	} else {
		typo[5] = 'a'
	}
	if _, err := onion.ParseAddress(string(typo)); err == nil {
		t.Fatalf("%s parses: the test wants a checksum error", typo)
	}
	for _, c := range []struct {
		name, host, log string
		want            byte
	}{
		{"unpublished", unknown, "onion address lookup failed", socksOnionDescNotFound},
		{"bad checksum", string(typo), "checksum", socksOnionBadAddress},
	} {
		start := time.Now()
		_, rep := socksDialAuth(t, n.Socks, n.DemoUser, n.DemoPassword, c.host, 80)
		t.Logf("%s address %s: SOCKS reply 0x%02x after %v", c.name, c.host, rep, time.Since(start).Round(time.Millisecond))
		if rep != c.want {
			t.Errorf("%s address: SOCKS reply 0x%02x, want 0x%02x (Tor's extended code)", c.name, rep, c.want)
		}
		waitFor(t, 10*time.Second, "the proxy to log the "+c.name+" address", func() bool {
			return n.up.out.contains("proxy", c.log)
		})
	}
	// The published address still works.
	got, err := fetch(t, hiddenHTTP(t, n.Socks, n.DemoUser, n.DemoPassword, false), "GET", n.url("/echo?msg=ok"), nil, socksReplyTimeout)
	if err != nil || string(got) != "ok" {
		t.Errorf("the real address afterwards: %q, %v", got, err)
	}
}

// TestHiddenNoListener: the hidden server has no listening socket at all,
// and no process of the network listens on anything but loopback: every
// listening socket of this network namespace, mapped to the process that
// holds it (procstat reads both from /proc).
func TestHiddenNoListener(t *testing.T) {
	if !procstat.Supported() {
		t.Skipf("reads /proc/net, which %s does not have", runtime.GOOS)
	}
	n := startHiddenUp(t, upOptions{})
	// The service must be in use: a client joined, streams open and closed.
	if _, err := fetch(t, hiddenHTTP(t, n.Socks, n.DemoUser, n.DemoPassword, false), "GET", n.url("/"), nil, socksReplyTimeout); err != nil {
		t.Fatalf("GET /: %v", err)
	}

	socks, err := procstat.Listeners()
	if err != nil {
		t.Fatal(err)
	}
	procs := map[string]int{"up": n.PID, "directory": n.DirectoryPID, "proxy": n.ProxyPID, "hiddenserver": n.HiddenPID}
	for _, r := range n.Relays {
		procs[r.Nickname] = r.PID
	}
	owned := map[string][]procstat.Listener{}
	for name, pid := range procs {
		inodes, err := procstat.SocketInodes(pid)
		if err != nil {
			t.Fatalf("%s (pid %d): %v", name, pid, err)
		}
		for _, s := range socks {
			if inodes[s.Inode] {
				owned[name] = append(owned[name], s)
			}
		}
		t.Logf("%s (pid %d) listens on %v", name, pid, owned[name])
	}

	if l := owned["hiddenserver"]; len(l) > 0 {
		t.Errorf("the hidden server has listening sockets: %v", l)
	}
	for name, l := range owned {
		for _, s := range l {
			if s.Proto != "unix" && !s.IP.IsLoopback() {
				t.Errorf("%s listens on a non-loopback address: %v", name, s)
			}
		}
	}

	// The parsing finds what must be there, so an empty list above means
	// something.
	dir, err := url.Parse(n.Directory)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"proxy": {n.Socks, n.Status}, "directory": {dir.Host}}
	for _, r := range n.Relays {
		want[r.Nickname] = []string{r.Address}
	}
	for name, addrs := range want {
		for _, a := range addrs {
			found := false
			for _, s := range owned[name] {
				found = found || s.Proto == "tcp" && s.Addr() == a
			}
			if !found {
				t.Errorf("%s's listener %s not found in /proc/net/tcp: parsed %v", name, a, owned[name])
			}
		}
	}
}

// socksDialAuth is socksDial with SOCKS5 username/password (RFC 1929) when
// user or password is set. It returns the reply code; the connection is
// open only when that is 0.
func socksDialAuth(t *testing.T, socks, user, password, host string, port int) (*net.TCPConn, byte) {
	t.Helper()
	if user == "" && password == "" {
		return socksDial(t, socks, host, port)
	}
	return socksOpen(t, socks, func(conn net.Conn) (byte, error) {
		return socksUserPassConnectOn(conn, user, password, host, port)
	})
}

func socksUserPassConnectOn(conn net.Conn, user, password, host string, port int) (byte, error) {
	if len(user) > 255 || len(password) > 255 {
		return 0, errors.New("username or password longer than 255 bytes")
	}
	if _, err := conn.Write([]byte{socksVersion, 1, socksUserPass}); err != nil {
		return 0, err
	}
	var reply [2]byte
	if _, err := io.ReadFull(conn, reply[:]); err != nil {
		return 0, fmt.Errorf("method reply: %w", err)
	}
	if reply != [2]byte{socksVersion, socksUserPass} {
		return 0, fmt.Errorf("method reply %x", reply)
	}
	auth := append([]byte{socksUserPassVersion, byte(len(user))}, user...)
	auth = append(append(auth, byte(len(password))), password...)
	if _, err := conn.Write(auth); err != nil {
		return 0, err
	}
	if _, err := io.ReadFull(conn, reply[:]); err != nil {
		return 0, fmt.Errorf("username/password reply: %w", err)
	}
	if reply != [2]byte{socksUserPassVersion, 0} {
		return 0, fmt.Errorf("username/password refused: %x", reply)
	}
	return socksRequestOn(conn, host, port)
}
