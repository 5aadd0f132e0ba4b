package e2e

// Reliability under failure and load with real processes: a
// relay killed mid-download, the directory killed and restarted or down
// for a minute, a slow reader facing a fast sender. Each test logs what it
// measured and records it as a row of the report (report_test.go); the
// soak is in soak_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onion/directory"
	"onion/internal/procstat"
	"onion/internal/upinfo"
	"onion/onion"
)

// Bounds and figures of the reliability tests.
const (
	// failWithin is the required bound: a stream through a relay that dies
	// ends at the application within this time.
	failWithin = 5 * time.Second
	// rssBound is the goal for every process under a slow reader. A binary
	// built with -race keeps shadow memory for everything it touches and
	// starts at about 33 MiB instead of 12, so it gets a bound of its own.
	rssBound     = 64 << 20
	rssBoundRace = 128 << 20
	// streamSeed seeds the stream server's bytes.
	streamSeed = 5
)

// TestKillRelayMidDownload is the headline scenario: a relay killed with
// SIGKILL during a 256 MiB download makes the download fail within 5 s (no
// hang), and the next download through the same proxy succeeds byte for
// byte. Once with the Go client, once with curl.
func TestKillRelayMidDownload(t *testing.T) {
	size, killAt := int64(256<<20), int64(16<<20)
	if testing.Short() {
		size, killAt = 32<<20, 4<<20
	}
	big := startStreamServer(t)
	next := startBlobServer(t, 16<<20)
	t.Run("go", func(t *testing.T) {
		killMidDownload(t, goDownload, big, next, size, killAt)
	})
	t.Run("curl", func(t *testing.T) {
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("no curl on PATH")
		}
		killMidDownload(t, curlDownload, big, next, size, killAt)
	})
}

func killMidDownload(t *testing.T, dl downloader, big *streamServer, next *blobServer, size, killAt int64) {
	rep := report(t, Row{
		Scenario: "relay dies mid-stream",
		Done: fmt.Sprintf("SIGKILL the middle relay %d MiB into a %d MiB download; then %d MiB through the same proxy",
			killAt>>20, size>>20, next.size>>20),
		Expected: fmt.Sprintf("the application sees an error within %v; the next download succeeds", failWithin),
	})
	up, info := startUp(t)
	var victim upinfo.Relay
	var killed time.Time
	kill := func() {
		victim = middleOfLiveCircuit(t, info)
		t.Logf("%d MiB read: killing the middle relay %s (pid %d) with SIGKILL", killAt>>20, victim.Nickname, victim.PID)
		killPID(t, victim.PID)
		killed = time.Now()
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	body, wait, err := dl(ctx, t, info.Socks, "", big.url(size))
	if err != nil {
		t.Fatalf("start download: %v", err)
	}
	n, err := consumeStream(body, newStreamChecker(), killAt, kill)
	err = errors.Join(err, wait())
	ended := time.Since(killed)
	switch {
	case errors.Is(err, errStreamCorrupt):
		t.Fatalf("after %d bytes: %v", n, err)
	case killed.IsZero():
		t.Fatalf("download ended after %d bytes before the kill: %v", n, err)
	case err == nil:
		t.Fatalf("download of %d bytes succeeded (%d read) although %s was killed", size, n, victim.Nickname)
	case ctx.Err() != nil:
		t.Fatalf("download hung after the kill: %d of %d bytes, cut by the test's timeout after %v", n, size, ended.Round(time.Millisecond))
	}
	t.Logf("time to failure: %v after SIGKILL (%d of %d bytes read): %v", ended.Round(time.Millisecond), n, size, err)
	rep.Saw("error %v after SIGKILL: %v", ended.Round(time.Millisecond), err)
	rep.BytesLost = fmt.Sprintf("0 wrong of %.1f MiB read, each byte checked; the other %.1f MiB cut off with an error",
		mib(n), mib(size-n))
	if ended > failWithin {
		t.Errorf("the download failed %v after the kill, want within %v", ended.Round(time.Millisecond), failWithin)
	}

	waitFor(t, 10*time.Second, "up to report the relay's death", func() bool {
		return up.out.contains(victim.Nickname, "exited unexpectedly")
	})
	waitFor(t, 15*time.Second, "the exit to close its connection to the server", func() bool {
		return big.active.Load() == 0
	})

	// The same proxy, the same (empty) credentials: the proxy must replace
	// the dead circuit by itself.
	start := time.Now()
	body, wait, err = dl(ctx, t, info.Socks, "", next.url("127.0.0.1"))
	if err != nil {
		t.Fatalf("next download: %v", err)
	}
	next.check(t, "next download of 16 MiB", body)
	if err := wait(); err != nil {
		t.Fatalf("next download: %v", err)
	}
	t.Logf("next download took %v", time.Since(start).Round(time.Millisecond))
	rep.Saw("the next %d MiB byte-exact in %v", next.size>>20, time.Since(start).Round(time.Millisecond))
	through := 0
	for _, c := range circuits(t, info.Status) {
		if slices.ContainsFunc(c.Path, func(h circuitHop) bool { return h.Fingerprint == victim.Fingerprint }) {
			t.Errorf("circuit %d still runs through the dead %s", c.ID, victim.Nickname)
			through++
		}
	}
	if through == 0 {
		rep.Saw("no circuit left through the dead %s", victim.Nickname)
	}
}

// downloader starts a GET of url through the SOCKS5 proxy at socks (with
// user as SOCKS username if not empty) and returns the body and a function
// that waits for the client to end and reports how it ended.
type downloader func(ctx context.Context, t *testing.T, socks, user, url string) (io.Reader, func() error, error)

func goDownload(ctx context.Context, t *testing.T, socks, user, url string) (io.Reader, func() error, error) {
	client := hiddenHTTP(t, socks, user, "", false)
	resp, err := get(ctx, client, url)
	if err != nil {
		return nil, nil, err
	}
	return resp.Body, resp.Body.Close, nil
}

// curlDownload runs curl with its body on stdout; wait returns curl's exit
// status and last words.
func curlDownload(ctx context.Context, t *testing.T, socks, user, url string) (io.Reader, func() error, error) {
	args := []string{"-sS", "--max-time", "120", "--socks5-hostname", socks}
	if user != "" {
		args = append(args, "--proxy-user", user+":x")
	}
	cmd := exec.CommandContext(ctx, "curl", append(args, url)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	wait := func() error {
		io.Copy(io.Discard, out) // Wait must not close the pipe under a reader
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("curl: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
		return nil
	}
	return out, wait, nil
}

// consumeStream reads r to its end, checking every byte, and calls at once
// after the first atLeast bytes. It returns the bytes read and the error
// that ended the read (nil at EOF).
func consumeStream(r io.Reader, check *streamChecker, atLeast int64, at func()) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if cerr := check.verify(buf[:k]); cerr != nil {
			return n, cerr
		}
		if at != nil && n >= atLeast {
			at()
			at = nil
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// middleOfLiveCircuit returns the middle relay of the one circuit that
// carries a stream.
func middleOfLiveCircuit(t *testing.T, info *upinfo.Info) upinfo.Relay {
	t.Helper()
	var live []circuit
	for _, c := range circuits(t, info.Status) {
		if threeHops(c) == nil && c.Streams > 0 {
			live = append(live, c)
		}
	}
	if len(live) != 1 {
		js, _ := json.Marshal(live)
		t.Fatalf("want exactly one circuit with a stream, got %s", js)
	}
	c := live[0]
	t.Logf("the download's circuit %d: %s -> %s -> %s", c.ID, c.Path[0].Nickname, c.Path[1].Nickname, c.Path[2].Nickname)
	i := slices.IndexFunc(info.Relays, func(r upinfo.Relay) bool { return r.Fingerprint == c.Path[1].Fingerprint })
	if i < 0 {
		t.Fatalf("middle relay %s is not in the info file", c.Path[1].Nickname)
	}
	return info.Relays[i]
}

// circuitHop is one relay of a circuit in GET /circuits.
type circuitHop = struct {
	Nickname    string `json:"nickname"`
	Fingerprint string `json:"fingerprint"`
	Address     string `json:"address"`
}

func killPID(t *testing.T, pid int) {
	t.Helper()
	p, err := os.FindProcess(pid)
	if err == nil {
		err = p.Kill()
	}
	if err != nil {
		t.Fatalf("kill pid %d: %v", pid, err)
	}
}

// TestDirectoryRestart: with the directory killed, the proxy builds new
// circuits from its last verified list; a new directory on the same address
// with the same key gets every relay back as they re-publish, and new
// circuits work again. `up` stops the whole network when its directory
// dies, so this network is started by hand.
func TestDirectoryRestart(t *testing.T) {
	rep := report(t, Row{
		Scenario: "directory down, then restarted",
		Done:     "SIGKILL the directory; download on a fresh circuit; start it again on the same address and data dir; download",
		Expected: "the proxy works from its last verified list; relays re-publish; nothing restarted by hand",
	})
	n := startHandNet(t, 4, 2)
	blob := startBlobServer(t, 1<<20)
	n.download(t, blob, "before")

	n.killDirectory(t)
	took := n.download(t, blob, "directory-down")
	rep.Saw("%d MiB byte-exact in %v on a fresh circuit while it was down", blob.size>>20, took.Round(time.Millisecond))

	listed := n.restartDirectory(t)
	rep.Saw("all %d relays listed again %v after the restart", len(n.relays), listed)
	took = n.download(t, blob, "directory-back")
	rep.Saw("%d MiB byte-exact in %v on a fresh circuit after it", blob.size>>20, took.Round(time.Millisecond))
	if n.allRunning(t) {
		rep.Saw("every relay and the proxy still running")
	}
	rep.BytesLost = fmt.Sprintf("0 of %.1f MiB", mib(n.verified))
}

// TestDirectoryDownMinute: the directory is down for a minute while a
// client keeps downloading, every download on a fresh circuit (a new SOCKS
// username), so every one builds a path from the proxy's last verified
// list. Then the directory comes back, every relay is listed again, and
// nothing was restarted by hand. A minute is long: skipped with -short
// unless ONION_SOAK=1, like the soak.
func TestDirectoryDownMinute(t *testing.T) {
	if testing.Short() && os.Getenv("ONION_SOAK") != "1" {
		t.Skip("the directory stays down for a minute: skipped with -short unless ONION_SOAK=1")
	}
	rep := report(t, Row{
		Scenario: "directory down for a minute",
		Done: fmt.Sprintf("SIGKILL the directory; for %v start a download every %v, each on a fresh circuit; then start the directory again",
			dirDownFor, dirDownEvery),
		Expected: "every download works from the last verified list; relays listed again once it is back; nothing restarted by hand",
	})
	n := startHandNet(t, 4, 2)
	blob := startBlobServer(t, 1<<20)
	n.download(t, blob, "before")

	n.killDirectory(t)
	down := time.Now()
	builtBefore := n.proxy.out.count("circuit built")
	var downloads int
	var slowest time.Duration
	// Pacing, not synchronisation: a client using the network, not a load test.
	tick := time.NewTicker(dirDownEvery)
	defer tick.Stop()
	for time.Since(down) < dirDownFor {
		slowest = max(slowest, n.download(t, blob, fmt.Sprintf("outage-%d", downloads)))
		downloads++
		<-tick.C
	}
	outage := time.Since(down).Round(time.Second)
	rep.Saw("%d downloads of %d MiB in %v of outage, all byte-exact, the slowest %v",
		downloads, blob.size>>20, outage, slowest.Round(time.Millisecond))
	// A fresh username cannot reuse a circuit: each download built one from
	// the list the proxy verified before the outage. The last line may
	// still be in the pipe.
	waitFor(t, 5*time.Second, "the proxy to log a circuit built for each download", func() bool {
		return n.proxy.out.count("circuit built")-builtBefore >= downloads
	})
	rep.Saw("%d circuits built meanwhile", n.proxy.out.count("circuit built")-builtBefore)

	listed := n.restartDirectory(t)
	rep.Saw("all %d relays listed again %v after the restart", len(n.relays), listed)
	took := n.download(t, blob, "directory-back")
	rep.Saw("the next download byte-exact in %v", took.Round(time.Millisecond))
	if n.allRunning(t) {
		rep.Saw("every relay and the proxy still running")
	}
	rep.BytesLost = fmt.Sprintf("0 of %.1f MiB", mib(n.verified))
}

// The directory outage of TestDirectoryDownMinute.
const (
	dirDownFor   = time.Minute
	dirDownEvery = time.Second
)

// handNet is a network started part by part, as a user with several
// machines would: the test controls each process.
type handNet struct {
	dir                     *proc
	dirURL, dirKey, dirData string
	relays                  []*proc
	proxy                   *proc
	socks, status           string
	verified                int64 // bytes downloaded and checked
}

// startHandNet starts a directory, relays (the first exits of them exits)
// publishing every 2 s and each holding a list of them all, and a proxy
// refreshing its list every 2 s.
func startHandNet(t *testing.T, relays, exits int) *handNet {
	t.Helper()
	dir := t.TempDir()
	n := &handNet{dirData: filepath.Join(dir, "directory")}
	n.dir, n.dirURL, n.dirKey = startLabDirectory(t, n.dirData)
	for i := 1; i <= relays; i++ {
		name := fmt.Sprintf("relay%d", i)
		args := []string{"relay", "--listen", "127.0.0.1:0", "--directory", n.dirURL, "--directory-key", n.dirKey, "--nickname", name,
			"--data-dir", filepath.Join(dir, name), "--exit-policy", "accept-all", "--publish-interval", "2s"}
		if i <= exits {
			args = append(args, "--exit")
		}
		n.relays = append(n.relays, startProc(t, name, args...))
	}
	introduceRelays(t, n.dirURL, n.dirKey)
	n.proxy = startProc(t, "proxy", "proxy", "--socks", "127.0.0.1:0", "--status", "127.0.0.1:0",
		"--directory", n.dirURL, "--directory-key", n.dirKey, "--refresh-interval", "2s")
	n.socks, n.status = n.proxy.ready["socks"], n.proxy.ready["status"]
	return n
}

// download fetches blob through the proxy with user as SOCKS username, so
// on that user's circuit, checks every byte and returns how long it took.
func (n *handNet) download(t *testing.T, blob *blobServer, user string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	body, wait, err := goDownload(ctx, t, n.socks, user, blob.url("127.0.0.1"))
	if err != nil {
		t.Fatalf("download as %q: %v", user, err)
	}
	blob.check(t, "download as "+user, body)
	wait()
	took := time.Since(start)
	n.verified += blob.size
	t.Logf("download as %q took %v; the proxy has %d circuits", user,
		took.Round(time.Millisecond), len(circuits(t, n.status)))
	return took
}

// killDirectory kills the directory with SIGKILL and waits until the proxy
// and every relay have failed to reach it.
func (n *handNet) killDirectory(t *testing.T) {
	t.Helper()
	n.dir.killed = true
	if err := n.dir.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	waitDone(t, n.dir, 10*time.Second)
	waitFor(t, 15*time.Second, "the proxy to fail a refresh", func() bool {
		return n.proxy.out.contains("relay list refresh failed")
	})
	for _, r := range n.relays {
		waitFor(t, 15*time.Second, r.Name+" to fail a publication", func() bool {
			return r.out.contains("re-publishing descriptor failed")
		})
	}
}

// restartDirectory starts a directory on the killed one's address and data
// directory, checks it has the same key, and returns how long after its
// start it listed every relay again.
func (n *handNet) restartDirectory(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	d := startProc(t, "directory2", "directory", "--listen", strings.TrimPrefix(n.dirURL, "http://"),
		"--data-dir", n.dirData, "--allow-private-addresses", "--max-relays-per-address", "64")
	if d.ready["url"] != n.dirURL || d.ready["key"] != n.dirKey {
		t.Fatalf("restarted directory: %v, want url=%s key=%s", d.ready, n.dirURL, n.dirKey)
	}
	client := &directory.Client{URL: n.dirURL, Key: n.key(t)}
	waitFor(t, 40*time.Second, "every relay to re-publish", func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		l, err := client.Relays(ctx)
		return err == nil && n.allListed(l)
	})
	listed := time.Since(start).Round(time.Millisecond)
	t.Logf("all %d relays listed by the new directory %v after its start", len(n.relays), listed)
	return listed
}

// allRunning reports whether every relay and the proxy still run, failing
// the test for each that does not.
func (n *handNet) allRunning(t *testing.T) bool {
	t.Helper()
	ok := true
	for _, p := range append(n.relays, n.proxy) {
		if p.State() != "running" {
			t.Errorf("%s: %s", p.Name, p.State())
			ok = false
		}
	}
	return ok
}

func (n *handNet) key(t *testing.T) []byte {
	t.Helper()
	k, err := onion.DecodeDirectoryKey(n.dirKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// allListed reports whether l holds every relay of n.
func (n *handNet) allListed(l onion.RelayList) bool {
	for _, r := range n.relays {
		if !slices.ContainsFunc(l.Relays, func(d onion.RelayDescriptor) bool {
			return d.Fingerprint() == r.ready["fingerprint"]
		}) {
			return false
		}
	}
	return true
}

// count returns how many lines of output hold word.
func (w *logWriter) count(word string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, l := range w.lines {
		if strings.Contains(l, word) {
			n++
		}
	}
	return n
}

// waitDone waits (bounded) for p to exit.
func waitDone(t *testing.T, p *proc, d time.Duration) {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(d):
		t.Fatalf("%s still running %v after SIGKILL", p.Name, d)
	}
}

// TestSlowReaderBounded: the server sends 512 MiB as fast as it can, the
// client reads 2 MiB/s for 20 s, or 100 KB/s (the required rate) for 15 s;
// flow control must hold the rest back at the server, so the proxy's and
// every relay's memory stays bounded, and every byte read is the right
// one. Then the client closes, the exit drops the server connection, and
// the network still works.
func TestSlowReaderBounded(t *testing.T) {
	needProcfs(t)
	size := int64(512 << 20)
	cases := []struct {
		name    string
		rate    int64 // bytes per second
		readFor time.Duration
	}{
		{"2MiBps", 2 << 20, 20 * time.Second},
		{"100KBps", 100_000, 15 * time.Second},
	}
	if testing.Short() {
		size, cases[0].readFor, cases[1].readFor = 64<<20, 8*time.Second, 5*time.Second
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { slowReader(t, size, c.rate, c.readFor) })
	}
}

func slowReader(t *testing.T, size, rate int64, readFor time.Duration) {
	bound := int64(rssBound)
	if raceEnabled {
		bound = rssBoundRace
	}
	rep := report(t, Row{
		Scenario: "slow reader",
		Done: fmt.Sprintf("the server sends %d MiB as fast as it can; the client reads %s for %v",
			size>>20, rateString(rate), readFor),
		Expected: fmt.Sprintf("the proxy and every relay under %d MiB RSS; nothing lost or reordered", bound>>20),
	})
	_, info := startUp(t, "--relays", "3", "--exits", "1")
	srv := startStreamServer(t)
	sampler := startSampler(t, upProcesses(info), 500*time.Millisecond)

	ctx, cancel := context.WithTimeout(t.Context(), readFor+time.Minute)
	defer cancel()
	body, closeBody, err := goDownload(ctx, t, info.Socks, "", srv.url(size))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	read, err := readSlowly(body, newStreamChecker(), rate, readFor)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("slow read after %d bytes: %v", read, err)
	}
	sent := srv.sent.Load()
	closeBody()
	samples := sampler.stop()
	t.Logf("slow reader: read %d MiB in %v (all bytes right); the server had sent %.1f MiB, %.1f MiB ahead of the reader",
		read>>20, readFor, mib(sent), mib(sent-read))
	rep.Saw("%.1f MiB read byte-exact in %v (%s); the server %.1f MiB ahead of the reader",
		mib(read), took.Round(100*time.Millisecond), rateString(read*int64(time.Second)/int64(took)), mib(sent-read))
	rep.BytesLost = fmt.Sprintf("0 of %.1f MiB read", mib(read))

	t.Logf("RSS per process, %d samples every 500ms (bound %d MiB):\n%s", samples, bound>>20, sampler.table())
	for _, p := range sampler.procs {
		if p.max >= bound {
			t.Errorf("%s: max RSS %.1f MiB, over the bound of %d MiB", p.name, mib(p.max), bound>>20)
		}
	}
	rep.Saw("peak RSS %s", sampler.peaks())

	waitFor(t, 15*time.Second, "the exit to close its connection to the server", func() bool {
		return srv.active.Load() == 0
	})
	small := startBlobServer(t, 1<<20)
	body, closeBody, err = goDownload(ctx, t, info.Socks, "after", small.url("127.0.0.1"))
	if err != nil {
		t.Fatalf("download after the slow reader: %v", err)
	}
	small.check(t, "download after the slow reader", body)
	closeBody()
	rep.Saw("then the exit dropped the server connection and 1 MiB through the network was byte-exact")
}

// rateString shows bytes per second as the targets do: KB/s under 1 MiB/s.
func rateString(rate int64) string {
	if rate < 1<<20 {
		return fmt.Sprintf("%.0f KB/s", float64(rate)/1000)
	}
	return fmt.Sprintf("%.1f MiB/s", mib(rate))
}

// readSlowly reads from r at about rate bytes a second until EOF or for d.
func readSlowly(r io.Reader, check *streamChecker, rate int64, d time.Duration) (int64, error) {
	buf := make([]byte, 64<<10)
	start := time.Now()
	var n int64
	for time.Since(start) < d {
		k, err := r.Read(buf)
		n += int64(k)
		if cerr := check.verify(buf[:k]); cerr != nil {
			return n, cerr
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		// Pacing, not synchronisation: the reader is slow on purpose.
		time.Sleep(time.Duration(n)*time.Second/time.Duration(rate) - time.Since(start))
	}
	return n, nil
}

// streamServer serves GET /stream/N: the first N bytes of a fixed-seed
// stream, as fast as the connection takes them, without holding them in
// memory.
type streamServer struct {
	port   int
	active atomic.Int64 // handlers running
	sent   atomic.Int64 // bytes written by all handlers
}

func startStreamServer(t *testing.T) *streamServer {
	t.Helper()
	s := &streamServer{}
	srv := &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.port = ln.Addr().(*net.TCPAddr).Port
	return s
}

func (s *streamServer) url(size int64) string {
	return fmt.Sprintf("http://127.0.0.1:%d/stream/%d", s.port, size)
}

func (s *streamServer) serve(w http.ResponseWriter, r *http.Request) {
	size, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/stream/"), 10, 64)
	if err != nil || size < 0 {
		http.NotFound(w, r)
		return
	}
	s.active.Add(1)
	defer s.active.Add(-1)
	// A reader that never drains must not keep this handler forever.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(5 * time.Minute))
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Type", "application/octet-stream")
	rng := rand.NewChaCha8([32]byte{streamSeed})
	buf := make([]byte, 256<<10)
	for left := size; left > 0; {
		chunk := buf[:min(left, int64(len(buf)))]
		rng.Read(chunk)
		k, err := w.Write(chunk)
		s.sent.Add(int64(k))
		left -= int64(k)
		if err != nil {
			return
		}
	}
}

// errStreamCorrupt is a stream whose bytes differ from the server's.
var errStreamCorrupt = errors.New("bytes lost, reordered or corrupted")

// streamChecker compares bytes read with the stream server's.
type streamChecker struct {
	rng  *rand.ChaCha8
	want []byte
	off  int64
}

func newStreamChecker() *streamChecker {
	return &streamChecker{rng: rand.NewChaCha8([32]byte{streamSeed})}
}

func (c *streamChecker) verify(p []byte) error {
	if cap(c.want) < len(p) {
		c.want = make([]byte, len(p))
	}
	want := c.want[:len(p)]
	c.rng.Read(want)
	for i := range p {
		if p[i] != want[i] {
			return fmt.Errorf("%w: byte %d is %#x, want %#x", errStreamCorrupt, c.off+int64(i), p[i], want[i])
		}
	}
	c.off += int64(len(p))
	return nil
}

// namedPID is one process of a network, as the tables name it.
type namedPID struct {
	name string
	pid  int
}

// upProcesses lists up's proxy and relays.
func upProcesses(info *upinfo.Info) []namedPID {
	ps := []namedPID{{"proxy", info.ProxyPID}}
	for _, r := range info.Relays {
		ps = append(ps, namedPID{r.Nickname, r.PID})
	}
	return ps
}

// sampler records the RSS of some processes at a fixed interval.
type sampler struct {
	t       *testing.T
	procs   []*sampled
	samples int
	quit    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	err     error
}

type sampled struct {
	namedPID
	first, max, last int64
}

func startSampler(t *testing.T, ps []namedPID, every time.Duration) *sampler {
	t.Helper()
	s := &sampler{t: t, quit: make(chan struct{}), done: make(chan struct{})}
	for _, p := range ps {
		s.procs = append(s.procs, &sampled{namedPID: p})
	}
	s.sample() // the baseline, before the test starts its load
	go s.run(every)
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *sampler) run(every time.Duration) {
	defer close(s.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-s.quit:
			s.sample()
			return
		case <-tick.C:
			s.sample()
		}
	}
}

func (s *sampler) sample() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		rss, err := procstat.RSS(p.pid)
		if err != nil {
			s.err = errors.Join(s.err, fmt.Errorf("%s (pid %d): %w", p.name, p.pid, err))
			continue
		}
		if s.samples == 0 {
			p.first = rss
		}
		p.max, p.last = max(p.max, rss), rss
	}
	s.samples++
}

// stop ends the sampling (once) and returns the number of samples taken;
// a process that could not be sampled fails the test.
func (s *sampler) stop() int {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		s.t.Errorf("sampling RSS: %v", s.err)
		s.err = nil
	}
	return s.samples
}

func (s *sampler) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-8s %7s %10s %10s %10s\n", "process", "pid", "start MiB", "max MiB", "end MiB")
	for _, p := range s.procs {
		fmt.Fprintf(&b, "  %-8s %7d %10.1f %10.1f %10.1f\n", p.name, p.pid, mib(p.first), mib(p.max), mib(p.last))
	}
	return b.String()
}

// peaks is the highest RSS of the first process (the proxy) and the range
// of the others' (the relays').
func (s *sampler) peaks() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var relays []int64 // in MiB
	for _, p := range s.procs[1:] {
		relays = append(relays, wholeMiB(p.max))
	}
	return fmt.Sprintf("%s %d MiB, relays %s MiB", s.procs[0].name, wholeMiB(s.procs[0].max), spread(relays))
}

// spread shows the range of some figures: "17–20", or "17" when they agree.
func spread(v []int64) string {
	lo, hi := slices.Min(v), slices.Max(v)
	if lo == hi {
		return strconv.FormatInt(lo, 10)
	}
	return fmt.Sprintf("%d–%d", lo, hi)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// wholeMiB rounds n bytes to the nearest MiB.
func wholeMiB(n int64) int64 { return (n + 1<<19) >> 20 }

func needProcfs(t *testing.T) {
	t.Helper()
	if !procstat.Supported() {
		t.Skip("no /proc: cannot measure other processes' memory and descriptors")
	}
}
