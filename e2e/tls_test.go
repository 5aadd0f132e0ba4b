package e2e

import (
	"bytes"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	xproxy "golang.org/x/net/proxy"

	"onion/linktls"
	"onion/onion"
)

// TestLinksAreTLS: every byte on the links of a small network (three
// relays, the proxy, a hidden server) is a TLS 1.3 record, and the link
// preface never crosses the wire in clear. The test captures the loopback
// traffic to and from the relays' ports with tcpdump while it pushes bytes
// through a circuit, reassembles every TCP connection and parses each
// direction as TLS records from its first byte to its last (PROTOCOL.md
// §2.1). With plain links it fails: TestCheckTLSRecords shows the checker
// refusing a plain link. Budget: 30 s (a 15 s run on an idle machine).
func TestLinksAreTLS(t *testing.T) {
	dir := t.TempDir()
	_, url, key := startLabDirectory(t, filepath.Join(dir, "directory"))
	ports := []int{closedPort(t), closedPort(t), closedPort(t)}
	var filter []string
	for _, p := range ports {
		filter = append(filter, "port "+strconv.Itoa(p))
	}
	capt := startCapture(t, "tcp and ("+strings.Join(filter, " or ")+")")

	var procs []*proc
	for i, port := range ports {
		name := fmt.Sprintf("relay%d", i+1)
		args := []string{"relay", "--listen", "127.0.0.1:" + strconv.Itoa(port), "--directory", url, "--directory-key", key,
			"--nickname", name, "--data-dir", filepath.Join(dir, name), "--exit-policy", "accept-all"}
		if i == 2 {
			args = append(args, "--exit")
		}
		procs = append(procs, startProc(t, name, args...))
	}
	hs := startProc(t, "hidden", "hiddenserver", "--directory", url, "--directory-key", key,
		"--data-dir", filepath.Join(dir, "hiddenserver"))
	p := startProc(t, "proxy", "proxy", "--socks", "127.0.0.1:0", "--status", "127.0.0.1:0",
		"--directory", url, "--directory-key", key)
	procs = append(procs, hs, p)

	conn, rep := socksDial(t, p.ready["socks"], "127.0.0.1", startTCPServer(t, echo))
	if rep != socksSucceeded {
		t.Fatalf("SOCKS CONNECT reply %#x", rep)
	}
	conn.SetDeadline(time.Now().Add(time.Minute))
	data := pseudoRandom(256<<10, 7)
	go conn.Write(data)
	got := make([]byte, len(data))
	if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("echo of %d bytes: equal=%v, err=%v", len(data), bytes.Equal(got, data), err)
	}
	conn.Close()
	// Every connection ends before the capture does: no stream is cut off.
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop(t)
	}
	checkCapture(t, capt.stop(t), len(data))
}

// checkCapture checks every connection in the capture at path as TLS
// records both ways, and that together they carried at least 2*echoed
// bytes (the echo there and back) so that the check saw the traffic.
func checkCapture(t *testing.T, path string, echoed int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(onion.LinkPreface)) {
		t.Errorf("the link preface %q is in the capture in clear", onion.LinkPreface)
	}
	flows, err := readPcap(path)
	if err != nil {
		t.Fatal(err)
	}
	var total, records, conns int
	for k, fl := range flows {
		s, err := fl.stream()
		if err != nil {
			t.Errorf("%v: %v", k, err)
			continue
		}
		n, err := checkTLSRecords(s, false)
		if err != nil {
			t.Errorf("%v: not TLS records: %v", k, err)
		}
		if len(s) > 0 {
			conns++
		}
		total, records = total+len(s), records+n
	}
	t.Logf("capture: %d TCP directions with data, %d bytes, %d TLS records, all TLS", conns, total, records)
	if total < 2*echoed || conns < 4 {
		t.Errorf("the capture holds %d bytes in %d directions: it missed the links", total, conns)
	}
}

// impostor listens at a listed relay's address with a key of its own, as
// someone who took over the relay's address (or its traffic) would. It
// counts the TLS handshakes it is offered and those that complete.
type impostor struct {
	offered, completed atomic.Int64
	appBytes           atomic.Int64
}

func startImpostor(t *testing.T, addr string) *impostor {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := linktls.ServerConfig(priv, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	waitFor(t, 10*time.Second, "the killed relay's port to be free", func() bool {
		ln, err = net.Listen("tcp", addr)
		return err == nil
	})
	t.Cleanup(func() { ln.Close() })
	im := &impostor{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			im.offered.Add(1)
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				tc := tls.Server(c, cfg)
				if tc.Handshake() != nil {
					return
				}
				im.completed.Add(1)
				n, _ := io.Copy(io.Discard, tc)
				im.appBytes.Add(n)
			}()
		}
	}()
	return im
}

// TestImpostorRelayRefused: a process at a listed relay's address that
// holds another identity key is refused during the TLS handshake, before
// any cell, by the proxy (as a first hop) and by relays (as the next hop
// of an EXTEND), with a log line naming the relay expected; every download
// goes through other relays. Budget: 60 s (about 10 s on an idle machine).
func TestImpostorRelayRefused(t *testing.T) {
	dir := t.TempDir()
	_, url, key := startLabDirectory(t, filepath.Join(dir, "directory"))
	var relays []*proc
	for i := 1; i <= 4; i++ {
		name := fmt.Sprintf("relay%d", i)
		args := []string{"relay", "--listen", "127.0.0.1:0", "--directory", url, "--directory-key", key,
			"--nickname", name, "--data-dir", filepath.Join(dir, name), "--exit-policy", "accept-all"}
		if i <= 2 {
			args = append(args, "--exit")
		}
		relays = append(relays, startProc(t, name, args...))
	}
	p := startProc(t, "proxy", "proxy", "--socks", "127.0.0.1:0", "--status", "127.0.0.1:0",
		"--directory", url, "--directory-key", key)
	waitFor(t, 10*time.Second, "the proxy to verify a list of all four relays", func() bool {
		return p.out.contains("relay list verified", "relays=4")
	})

	// relay3 (a middle) goes; the impostor takes its address while the
	// list still names relay3 there.
	victim := relays[2]
	addr, fp := victim.ready["addr"], victim.ready["fingerprint"]
	victim.killed = true
	if err := victim.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-victim.Done()
	im := startImpostor(t, addr)

	echoAddr := fmt.Sprintf("127.0.0.1:%d", startTCPServer(t, echo))
	data := pseudoRandom(64<<10, 9)
	// Each echo on a fresh circuit, until one path went through relay3's
	// address, and five more after: a build that failed there is retried
	// on another path, and relay3 is avoided from then on.
	after, echoes := 0, 0
	for ; after < 5 && echoes < 40; echoes++ {
		if err := echoVia(p.ready["socks"], fmt.Sprintf("impostor-%d", echoes), echoAddr, data); err != nil {
			t.Fatalf("echo %d: %v", echoes, err)
		}
		if im.offered.Load() > 0 {
			after++
		}
	}
	t.Logf("%d echoes right; the impostor was offered %d handshakes", echoes, im.offered.Load())
	if im.offered.Load() == 0 {
		t.Fatal("no circuit tried relay3's address: the test proved nothing")
	}
	if n := im.completed.Load(); n != 0 {
		t.Errorf("%d handshakes with the impostor completed (%d bytes after)", n, im.appBytes.Load())
	}
	// The proxy refuses it as a first hop, a relay as the next hop of an
	// EXTEND: which one met it depends on the path.
	refusal := "peer is not relay " + fp
	var by []string
	if p.out.contains("circuit build failed", refusal) {
		by = append(by, "the proxy")
	}
	for _, r := range relays {
		if r.out.contains("extend failed", refusal) {
			by = append(by, r.Child.Name)
		}
	}
	if len(by) == 0 {
		t.Errorf("no log line says %q", refusal)
	}
	t.Logf("refused by %v", by)
}

// echoVia sends data to the echo server at addr through the SOCKS5 proxy
// at socks, on the circuit of SOCKS user user, and checks the echo.
func echoVia(socks, user, addr string, data []byte) error {
	d, err := xproxy.SOCKS5("tcp", socks, &xproxy.Auth{User: user, Password: "x"}, xproxy.Direct)
	if err != nil {
		return err
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	go c.Write(data)
	got := make([]byte, len(data))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, data) {
		return errors.New("echo differs")
	}
	return nil
}
