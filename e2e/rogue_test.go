package e2e

// A malicious relay in the path: relay5 of a hand-started network runs
// e2e/rogue, a real relay behind a wrapper on its links that tampers with,
// replays, drops or reorders every 8th RELAY cell it sends, or forges every
// CREATED. Whatever it does, a download through the network arrives
// byte for byte or fails, promptly and with a logged reason, and the proxy
// goes on to build circuits that avoid it.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"onion/internal/launch"
)

// The rogue tests' sizes and bounds.
const (
	rogueDownloads = 12
	rogueBlobSize  = 2 << 20
	// rogueDownloadTimeout bounds one download, circuit build included.
	rogueDownloadTimeout = 20 * time.Second
	// rogueDetectWithin bounds how long a download through the rogue relay
	// may run before it fails: it acts on every 8th cell, so a circuit
	// through it meets a bad cell within its first few cells.
	rogueDetectWithin = 10 * time.Second
	// rogueBuildTimeout is the proxy's --build-timeout: a reorder that holds
	// back a build answer, with no later cell to release it, stalls that
	// build until the timeout, and the download must still end well within
	// rogueDownloadTimeout.
	rogueBuildTimeout = "5s"
	rogueNick         = "relay5"
)

var rogueBuild struct {
	once sync.Once
	path string
	err  error
}

// rogueBinary builds the rogue relay (package e2e/rogue) once per test run
// (with -race when the tests run with it) and returns its path.
func rogueBinary(t testing.TB) string {
	t.Helper()
	rogueBuild.once.Do(func() {
		path := filepath.Join(binDir, "onion-rogue")
		args := []string{"build", "-o", path}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command(goTool(), append(args, "onion/e2e/rogue")...)
		cmd.Dir = ".." // the module root
		if out, err := cmd.CombinedOutput(); err != nil {
			rogueBuild.err = fmt.Errorf("%v: %v\n%s", cmd.Args, err, out)
			return
		}
		rogueBuild.path = path
	})
	if rogueBuild.err != nil {
		t.Fatalf("build onion-rogue: %v", rogueBuild.err)
	}
	return rogueBuild.path
}

// rogueStartProc is startProc with the binary given and env added to the
// test's environment.
func rogueStartProc(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{Child: launch.New(name, bin, args...), out: &logWriter{t: t}}
	p.Output = p.out
	p.Prefix = fmt.Sprintf("%-10s| ", name)
	p.ReadyTimeout = readyTimeout
	if len(env) > 0 {
		p.Cmd.Env = append(os.Environ(), env...) // later entries win
	}
	t.Cleanup(func() { p.stop(t) })
	ready, err := p.Start(t.Context())
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p.ready = ready
	return p
}

// rogueNet is a directory, five relays (relay1 and relay2 exits, relay5
// the rogue) and a proxy, each its own process.
type rogueNet struct {
	procs []*proc // in start order; the proxy last
	proxy *proc
	socks string
}

func startRogueNet(t *testing.T, mode string) *rogueNet {
	t.Helper()
	rogue := rogueBinary(t) // before starting anything: it may take a while
	dir := t.TempDir()
	n := &rogueNet{}
	d := rogueStartProc(t, "directory", onionBinary(t), nil, "directory", "--allow-private-addresses", "--max-relays-per-address", "64",
		"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "directory"))
	url, key := d.ready["url"], d.ready["key"]
	if url == "" || key == "" {
		t.Fatalf("directory ready line without url or key: %v", d.ready)
	}
	n.procs = append(n.procs, d)
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("relay%d", i)
		args := []string{"relay", "--listen", "127.0.0.1:0", "--directory", url, "--directory-key", key,
			"--nickname", name, "--data-dir", filepath.Join(dir, name), "--publish-interval", "2s"}
		if i <= 2 {
			args = append(args, "--exit", "--exit-policy", "accept-all")
		}
		bin, env := onionBinary(t), []string(nil)
		if name == rogueNick {
			// The rogue is a relay only: it takes `onion relay`'s flags alone.
			bin, env, args = rogue, []string{"ONION_ROGUE=" + mode}, args[1:]
		}
		n.procs = append(n.procs, rogueStartProc(t, name, bin, env, args...))
	}
	// Every relay is ready, so the directory lists all five: the proxy's
	// first list has them all.
	n.proxy = rogueStartProc(t, "proxy", onionBinary(t), nil, "proxy",
		"--socks", "127.0.0.1:0", "--status", "127.0.0.1:0", "--directory", url, "--directory-key", key,
		"--refresh-interval", "2s", "--build-timeout", rogueBuildTimeout)
	n.procs = append(n.procs, n.proxy)
	n.socks = n.proxy.ready["socks"]
	waitFor(t, 10*time.Second, "the proxy to verify a list of all five relays", func() bool {
		return n.proxy.out.contains("relay list verified", "relays=5", "exits=2")
	})
	// Stop all seven at once (before the cleanups of rogueStartProc, which
	// then find them stopped): a -race binary lingers a second after it
	// exits, and one at a time that is most of a subtest's run.
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, p := range n.procs {
			wg.Go(func() { p.stop(t) })
		}
		wg.Wait()
	})
	return n
}

// rogueLines copies the lines w has kept so far.
func rogueLines(w *logWriter) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.lines...)
}

// rogueDownload is one GET of the blob on a circuit of its own.
type rogueDownload struct {
	err      error
	took     time.Duration
	from, to int // the proxy's log lines written meanwhile
}

// rogueRun does rogueDownloads sequential downloads, each with a fresh
// SOCKS username and so on a fresh circuit with a random path. About half
// the paths go through the rogue relay; if none of them did, it goes on,
// up to twice as many downloads, until one does.
func rogueRun(t *testing.T, n *rogueNet, mode string) []rogueDownload {
	t.Helper()
	blob := startBlobServer(t, rogueBlobSize)
	var ds []rogueDownload
	hit := false
	for i := 0; i < rogueDownloads || !hit && i < 2*rogueDownloads; i++ {
		if i == rogueDownloads {
			t.Logf("no path of %d went through %s: downloading more", i, rogueNick)
		}
		client := hiddenHTTP(t, n.socks, fmt.Sprintf("%s-%d", mode, i), "rogue", false)
		d := rogueDownload{from: len(rogueLines(n.proxy.out))}
		ctx, cancel := context.WithTimeout(t.Context(), rogueDownloadTimeout)
		start := time.Now()
		d.err = blob.getChecked(ctx, client, "127.0.0.1")
		d.took = time.Since(start)
		cancel()
		if errors.Is(d.err, errWrongBytes) {
			t.Errorf("download %d: %v", i, d.err)
		}
		ds = append(ds, d)
		_, rogue := rogueBuilds(rogueLines(n.proxy.out)[d.from:])
		hit = hit || rogue
	}
	// A line logged during the last download may still be in the pipe.
	time.Sleep(100 * time.Millisecond)
	for i := range ds {
		if i+1 < len(ds) {
			ds[i].to = ds[i+1].from
		} else {
			ds[i].to = len(rogueLines(n.proxy.out))
		}
	}
	return ds
}

// rogueBuilds summarises the proxy's builds among lines: the paths built and the
// relays whose build failed, and whether any involved the rogue relay.
func rogueBuilds(lines []string) (summary []string, rogue bool) {
	for _, l := range lines {
		switch {
		case strings.Contains(l, "circuit built"):
			summary = append(summary, rogueAttr(l, "path"))
		case strings.Contains(l, "circuit build failed"):
			summary = append(summary, "failed at "+rogueAttr(l, "relay"))
		default:
			continue
		}
		rogue = rogue || strings.Contains(l, rogueNick)
	}
	return summary, rogue
}

// rogueAttr returns the value of key in a slog text line, quotes and all.
func rogueAttr(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(key)+2:]
	if strings.HasPrefix(v, `"`) {
		if j := strings.Index(v[1:], `"`); j >= 0 {
			return v[:j+2]
		}
		return v
	}
	if j := strings.IndexByte(v, ' '); j >= 0 {
		return v[:j]
	}
	return v
}

// rogueTeardowns returns the lines of any process that end a circuit (the
// proxy's "tearing down circuit", a relay's "destroying circuit") for one
// of causes.
func rogueTeardowns(n *rogueNet, causes ...string) []string {
	var out []string
	for _, p := range n.procs {
		for _, l := range rogueLines(p.out) {
			if !strings.Contains(l, "tearing down circuit") && !strings.Contains(l, "destroying circuit") {
				continue
			}
			for _, c := range causes {
				if strings.Contains(l, c) {
					out = append(out, l)
					break
				}
			}
		}
	}
	return out
}

// rogueAllRunning fails the test for each process that has exited; the
// cleanups then stop the rest with SIGTERM and want exit status 0.
func rogueAllRunning(t *testing.T, n *rogueNet) {
	t.Helper()
	for _, p := range n.procs {
		select {
		case <-p.Done():
			t.Errorf("%s exited during the test (%s)", p.Name, p.State())
		default:
		}
	}
}

// TestRogueRelay: a relay that tampers with, replays, drops or reorders
// every 8th RELAY cell it sends is in about half the paths. Every download
// arrives byte for byte or fails within rogueDetectWithin, some fail with a
// teardown logged for the right cause, and some succeed: the network works
// around the rogue.
func TestRogueRelay(t *testing.T) {
	causes := map[string][]string{
		"tamper":  {"layer failed authentication"},
		"replay":  {"out of sequence", "layer failed authentication"},
		"drop":    {"out of sequence", "layer failed authentication"},
		"reorder": {"out of sequence", "layer failed authentication"},
	}
	does := map[string]string{
		"tamper":  "flips a bit in every 8th RELAY cell it sends",
		"replay":  "replays every 8th RELAY cell it sends",
		"drop":    "drops every 8th RELAY cell it sends",
		"reorder": "holds back every 8th RELAY cell it sends",
	}
	for _, mode := range []string{"tamper", "replay", "drop", "reorder"} {
		t.Run(mode, func(t *testing.T) {
			rep := report(t, Row{
				Scenario: "rogue relay: " + mode,
				Done: fmt.Sprintf("%s, a real relay behind the link wrapper of e2e/rogue, %s; %d or more downloads of %d MiB, each on a fresh circuit",
					rogueNick, does[mode], rogueDownloads, rogueBlobSize>>20),
				Expected: fmt.Sprintf("a circuit through it torn down with a logged reason within %v; the client rebuilds elsewhere; no wrong byte delivered",
					rogueDetectWithin),
			})
			start := time.Now()
			n := startRogueNet(t, mode)
			t.Logf("network up in %v", time.Since(start).Round(time.Millisecond))
			ds := rogueRun(t, n, mode)

			proxyLines := rogueLines(n.proxy.out)
			var ok, failed, hits, wrong int
			var failedIn []time.Duration
			for i, d := range ds {
				summary, rogue := rogueBuilds(proxyLines[d.from:d.to])
				if rogue {
					hits++
				}
				if d.err == nil {
					ok++
					t.Logf("download %2d: ok in %v; builds %v", i, d.took.Round(time.Millisecond), summary)
					continue
				}
				failed++
				failedIn = append(failedIn, d.took.Round(time.Millisecond))
				if errors.Is(d.err, errWrongBytes) {
					wrong++
				}
				t.Logf("download %2d: FAILED in %v; builds %v: %v", i, d.took.Round(time.Millisecond), summary, d.err)
				if d.took >= rogueDetectWithin {
					t.Errorf("download %d took %v to fail; want under %v", i, d.took.Round(time.Millisecond), rogueDetectWithin)
				}
				if !rogue {
					t.Errorf("download %d failed on paths %v, none through the rogue %s", i, summary, rogueNick)
				}
			}
			t.Logf("%s: %d downloads, %d involved %s, %d failed, %d ok", mode, len(ds), hits, rogueNick, failed, ok)
			rep.Saw("%d downloads, %d on paths through %s: %d failed (in %s), %d byte-exact",
				len(ds), hits, rogueNick, failed, durations(failedIn), ok)
			rep.BytesLost = fmt.Sprintf("%d downloads with wrong bytes; %.0f MiB delivered, all right",
				wrong, mib(int64(ok)*rogueBlobSize))
			if failed == 0 {
				t.Errorf("no download failed: the rogue relay (%s) was never noticed", mode)
			}
			if ok == 0 {
				t.Errorf("no download succeeded: the network did not work around the rogue relay")
			}
			if failed > 0 {
				var lines []string
				deadline := time.Now().Add(5 * time.Second)
				for lines = rogueTeardowns(n, causes[mode]...); len(lines) == 0 && time.Now().Before(deadline); lines = rogueTeardowns(n, causes[mode]...) {
					time.Sleep(50 * time.Millisecond)
				}
				if len(lines) == 0 {
					t.Errorf("downloads failed but no process logged a circuit teardown for %q", causes[mode])
				}
				reasons := map[string]bool{}
				for _, l := range lines {
					t.Logf("detected: %s", l)
					reasons[rogueAttr(l, "err")] = true
				}
				var avoided []string
				for _, l := range proxyLines {
					if strings.Contains(l, "avoiding a relay") {
						t.Logf("avoided: %s", l)
						avoided = append(avoided, rogueAttr(l, "relay"))
					}
				}
				rep.Saw("torn down for %s; relays avoided: %s",
					strings.Join(slices.Sorted(maps.Keys(reasons)), ", "), strings.Join(avoided, ", "))
			}
			rogueAllRunning(t, n)
		})
	}
}

// durations shows the range of some durations: "8ms–116ms", or the one.
func durations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "—"
	}
	lo, hi := slices.Min(ds), slices.Max(ds)
	if lo == hi {
		return lo.String()
	}
	return fmt.Sprintf("%v–%v", lo, hi)
}

// TestRogueRelayForge: a relay that answers every CREATE with a forged
// CREATED never joins a circuit: a build through it fails its handshake,
// the proxy tries another path and avoids it, and every download succeeds.
func TestRogueRelayForge(t *testing.T) {
	rep := report(t, Row{
		Scenario: "forged handshake",
		Done: fmt.Sprintf("%s answers every CREATE with random bytes; %d or more downloads of %d MiB, each on a fresh circuit",
			rogueNick, rogueDownloads, rogueBlobSize>>20),
		Expected: "a build through it fails, another path is used; every download succeeds",
	})
	n := startRogueNet(t, "forge")
	ds := rogueRun(t, n, "forge")
	proxyLines := rogueLines(n.proxy.out)
	hits, ok := 0, 0
	for i, d := range ds {
		summary, rogue := rogueBuilds(proxyLines[d.from:d.to])
		if rogue {
			hits++
		}
		t.Logf("download %2d: %v in %v; builds %v", i, d.err, d.took.Round(time.Millisecond), summary)
		if d.err != nil {
			t.Errorf("download %d failed: %v", i, d.err)
			continue
		}
		ok++
	}
	rep.BytesLost = fmt.Sprintf("%d of %d downloads failed; %.0f MiB delivered, all right",
		len(ds)-ok, len(ds), mib(int64(ok)*rogueBlobSize))
	var forged []string
	for _, l := range proxyLines {
		switch {
		case strings.Contains(l, "circuit built") && strings.Contains(l, rogueNick):
			t.Errorf("a circuit was built through %s, whose every CREATED is forged: %s", rogueNick, l)
		case strings.Contains(l, "circuit build failed") && rogueAttr(l, "relay") == rogueNick:
			forged = append(forged, l)
		}
	}
	t.Logf("forge: %d downloads, %d involved %s, %d builds failed at it", len(ds), hits, rogueNick, len(forged))
	rep.Saw("%d downloads, %d byte-exact; %s through %s failed", len(ds), ok, plural(len(forged), "build"), rogueNick)
	if len(forged) == 0 {
		t.Logf("no path picked %s: its forged handshake went untested", rogueNick)
		rep.Saw("no path picked %s: its forged handshake went untested", rogueNick)
	}
	for _, l := range forged {
		t.Logf("detected: %s", l)
		if !strings.Contains(l, "handshake failed") {
			t.Errorf("the build failure at %s does not say the handshake failed: %s", rogueNick, l)
		}
	}
	if len(forged) > 0 {
		rep.Saw("the first: %s", rogueAttr(forged[0], "err"))
	}
	rogueAllRunning(t, n)
}
