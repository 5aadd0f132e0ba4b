package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"onion/internal/launch"
	"onion/internal/upinfo"
)

// TestUpDownload is the acceptance test of `onion up`: a 64 MiB download
// through the SOCKS5 proxy arrives byte for byte, by IP and by a host name
// the exit resolves, and while it runs the status endpoint shows its
// circuit through three distinct relays.
func TestUpDownload(t *testing.T) {
	size := 64 << 20
	if testing.Short() {
		size = 1 << 20
	}
	_, info := startUp(t)
	blob := startBlobServer(t, size)
	client := socksHTTP(t, info.Socks, true)

	for i, host := range []string{"127.0.0.1", "localhost"} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		resp, err := get(ctx, client, blob.url(host))
		if err != nil {
			t.Fatalf("GET through SOCKS: %v", err)
		}
		body := io.Reader(resp.Body)
		if i == 0 {
			// Once bytes flow, the stream is open on its circuit.
			body = &afterBytes{r: resp.Body, n: int64(size / 4), f: func() { checkLiveCircuit(t, info) }}
		}
		blob.check(t, "GET "+blob.url(host), body)
		resp.Body.Close()
		cancel()
	}

	if _, err := exec.LookPath("curl"); err != nil {
		t.Log("no curl on PATH: skipping the curl download")
		return
	}
	out := filepath.Join(t.TempDir(), "blob")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", "-sS", "--fail", "--socks5-hostname", info.Socks,
		"-o", out, blob.url("localhost"))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, msg)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blob.check(t, "curl --socks5-hostname", f)
}

// afterBytes calls f once, after n bytes have been read through it.
type afterBytes struct {
	r    io.Reader
	n    int64
	f    func()
	read int64
}

func (a *afterBytes) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	a.read += int64(n)
	if a.f != nil && a.read >= a.n {
		a.f()
		a.f = nil
	}
	return n, err
}

// checkLiveCircuit wants a circuit with an open stream through three
// distinct relays of this network, ending at an exit.
func checkLiveCircuit(t *testing.T, info *upinfo.Info) {
	t.Helper()
	cs := circuits(t, info.Status)
	for _, c := range cs {
		if threeHops(c) != nil || c.Streams < 1 {
			continue
		}
		known := true
		for k, h := range c.Path {
			i := slices.IndexFunc(info.Relays, func(r upinfo.Relay) bool { return r.Fingerprint == h.Fingerprint })
			known = known && i >= 0 && info.Relays[i].Nickname == h.Nickname && (k < 2 || info.Relays[i].Exit)
		}
		if known {
			t.Logf("live circuit %d: %s -> %s -> %s, %d streams",
				c.ID, c.Path[0].Nickname, c.Path[1].Nickname, c.Path[2].Nickname, c.Streams)
			return
		}
	}
	js, _ := json.Marshal(cs)
	t.Errorf("%v among this network's relays: GET /circuits = %s", errNoCircuit, js)
}

// TestKillRelayIdle kills a relay of the circuit in use while the network
// is idle: up keeps running, and the next request succeeds on a new path.
func TestKillRelayIdle(t *testing.T) {
	rep := report(t, Row{
		Scenario: "relay dies while idle",
		Done:     "SIGKILL the middle relay of the circuit in use while no stream is open",
		Expected: "the next request succeeds",
	})
	up, info := startUp(t)
	blob := startBlobServer(t, 64<<10)
	var verified int64
	fetch := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		err := blob.getChecked(ctx, socksHTTP(t, info.Socks, false), "localhost")
		if errors.Is(err, errWrongBytes) {
			t.Fatal(err)
		}
		if err == nil {
			verified += blob.size
		}
		return err
	}
	if err := fetch(time.Minute); err != nil {
		t.Fatalf("first request: %v", err)
	}

	victim := info.Relays[1]
	if cs := circuits(t, info.Status); len(cs) > 0 && threeHops(cs[0]) == nil {
		fp := cs[0].Path[1].Fingerprint // the middle hop: only relays can tell the proxy
		victim = info.Relays[slices.IndexFunc(info.Relays, func(r upinfo.Relay) bool { return r.Fingerprint == fp })]
	}
	t.Logf("killing %s (pid %d)", victim.Nickname, victim.PID)
	if p, err := os.FindProcess(victim.PID); err != nil || p.Kill() != nil {
		t.Fatalf("kill %s: %v", victim.Nickname, err)
	}
	waitFor(t, 10*time.Second, "up to report the relay's death", func() bool {
		return up.out.contains(victim.Nickname, "exited unexpectedly")
	})

	// The proxy should route around the dead relay by itself. A request
	// that fails fast may be retried while 30s last; one that hangs fails.
	start, attempts := time.Now(), 0
	var failed []string
	for {
		attempts++
		t0 := time.Now()
		err := fetch(15 * time.Second)
		if err == nil {
			break
		}
		t.Logf("attempt %d after the kill failed in %v: %v", attempts, time.Since(t0).Round(time.Millisecond), err)
		failed = append(failed, err.Error())
		if time.Since(t0) >= 15*time.Second || time.Since(start) > 30*time.Second {
			t.Fatalf("no request succeeded within %v of killing %s", time.Since(start).Round(time.Second), victim.Nickname)
		}
	}
	t.Logf("request after killing %s succeeded on attempt %d", victim.Nickname, attempts)
	rep.Saw("killed %s; the next request succeeded on attempt %d, byte-exact, %v after up reported the death",
		victim.Nickname, attempts, time.Since(start).Round(time.Millisecond))
	if len(failed) > 0 {
		rep.Saw("the failed attempts: %s", strings.Join(failed, "; "))
	}
	rep.BytesLost = fmt.Sprintf("0 of %d KiB", verified>>10)

	waitFor(t, 10*time.Second, "the dead relay to leave the live circuits", func() bool {
		for _, c := range circuits(t, info.Status) {
			for _, h := range c.Path {
				if h.Fingerprint == victim.Fingerprint {
					return false
				}
			}
		}
		return true
	})
	select {
	case <-up.Done():
		t.Fatalf("up exited (%s) after a relay died", up.State())
	default:
	}
	rep.Saw("the dead relay left the live circuits; up still running")
}

// TestUpSocksPortInUse: a busy --socks port is a clear error at once, not a hang.
func TestUpSocksPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := launch.New("up", onionBinary(t), "up", "--socks", ln.Addr().String(), "--data-dir", t.TempDir())
	c.Output = &logWriter{t: t}
	c.ReadyTimeout = 10 * time.Second
	t.Cleanup(func() { c.Stop(stopTimeout) })
	start := time.Now()
	_, err = c.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") {
		t.Fatalf("up with a busy --socks port: %v", err)
	}
	for _, want := range []string{"--socks", ln.Addr().String(), "in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to fail", d)
	}
}
