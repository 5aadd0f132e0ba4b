package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"onion/internal/launch"
	"onion/onion"
	"onion/onion/oniontest"
)

// TestLogFormatJSON: with --log-format json (global, or after the command,
// or from the environment) every line a directory, a relay and `onion up`
// write to stderr is one JSON object; up's children name their part. A
// relay never logs a client's address: the test's links come from
// 127.0.0.2 and misbehave in several ways, and that address appears in no
// line of the relay's log at info. up says which parts are starting and
// which are ready. Budget 60 s (about 15 s).
func TestLogFormatJSON(t *testing.T) {
	dir := t.TempDir()
	d := startSplit(t, "onion", "--log-format", "json", "directory", "--allow-private-addresses",
		"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "directory"))
	url, key := d.ready["url"], d.ready["key"]
	r := startSplit(t, "onion", "relay", "--log-format", "json", "--listen", "127.0.0.1:0", "--nickname", "relay1",
		"--directory", url, "--directory-key", key, "--data-dir", filepath.Join(dir, "relay1"))
	guard := listedRelays(t, url, key)[r.ready["fingerprint"]]
	misbehaveFrom127002(t, guard)
	d.stop(t)
	r.stop(t)
	checkJSONLines(t, "directory", d.stderr.Bytes(), "")
	checkJSONLines(t, "relay", r.stderr.Bytes(), "")
	for _, line := range strings.Split(r.stderr.String(), "\n") {
		if strings.Contains(line, "127.0.0.2") {
			t.Errorf("the relay logged its client's address 127.0.0.2 at info: %s", line)
		}
	}

	t.Setenv("ONION_LOG_FORMAT", "json")
	up := startSplit(t, "up", "up", "--relays", "3", "--authorities", "1", "--socks", "127.0.0.1:0",
		"--status", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "up"))
	up.stop(t)
	checkJSONLines(t, "up", up.stderr.Bytes(), "relay3")
	// up says which parts it starts and which are ready.
	for _, want := range []string{`"msg":"starting directory"`, `"msg":"directory ready"`, `"msg":"starting relays"`,
		`"relays_ready":"3/3"`, `"msg":"starting hiddenserver"`, `"msg":"hiddenserver ready"`, `"msg":"proxy ready"`} {
		if !strings.Contains(up.stderr.String(), want) {
			t.Errorf("up's log has no %s", want)
		}
	}
}

// misbehaveFrom127002 opens links to the relay from 127.0.0.2: one sends
// garbage, one closes during TLS, one creates a circuit and asks for an
// EXTEND to nowhere, then drops the link.
func misbehaveFrom127002(t *testing.T, guard onion.RelayDescriptor) {
	t.Helper()
	dial := func() net.Conn {
		c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).Dial("tcp", guard.Address)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := dial()
	c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	c.Read(make([]byte, 1))
	c.Close()
	dial().Close()
	p := oniontest.NewPeer(t, tlsTo(t, dial(), guard.IdentityKey))
	p.Preface()
	circ := p.Create(1, guard.IdentityKey, guard.OnionKey)
	madeUp := oniontest.RelayKeys("made-up")
	_, create, err := onion.NewClientHandshake(nil, madeUp.ID(), madeUp.OnionPub())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := onion.Extend{Create: create, Address: "127.0.0.3:9"}.MarshalBinary()
	p.Send(circ.Cell(onion.RelayMsg{Cmd: onion.RelayExtend, Body: body}))
	p.Msg(circ)
	p.Conn.Close()
}

// checkJSONLines fails unless every line of out is a JSON object with a
// level and a message; with part set, some line must carry part=part.
func checkJSONLines(t *testing.T, name string, out []byte, part string) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	lines, parts := 0, 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("%s: line %q is not one JSON object: %v", name, sc.Text(), err)
			continue
		}
		if m["level"] == nil || m["msg"] == nil {
			t.Errorf("%s: line %q has no level or msg", name, sc.Text())
		}
		if part != "" && m["part"] == part {
			parts++
		}
		lines++
	}
	if lines == 0 {
		t.Errorf("%s logged nothing", name)
	}
	if part != "" && parts == 0 {
		t.Errorf("%s: no line has part=%s", name, part)
	}
}

// splitProc is an onion process whose stdout and stderr are kept apart:
// its ready line comes from stdout, its log from stderr alone.
type splitProc struct {
	cmd    *exec.Cmd
	ready  map[string]string
	stderr syncBuffer
	done   chan struct{}
}

// startSplit runs `onion args...`, waits for the ready line on stdout and
// stops the process when the test ends.
func startSplit(t *testing.T, name string, args ...string) *splitProc {
	t.Helper()
	p := &splitProc{cmd: exec.Command(onionBinary(t), args...), done: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop(t) })
	readyc := make(chan map[string]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if f, err := launch.ParseReady(sc.Text()); err == nil && len(readyc) == 0 && p.ready == nil {
				readyc <- f
			}
		}
		close(p.done)
	}()
	select {
	case p.ready = <-readyc:
	case <-p.done:
		t.Fatalf("%s exited before it was ready:\n%s", name, p.stderr.String())
	case <-time.After(upReadyTimeout):
		t.Fatalf("%s not ready:\n%s", name, p.stderr.String())
	}
	return p
}

// stop sends SIGTERM and waits for the process, failing unless it exits 0.
func (p *splitProc) stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("%s: %v", p.cmd.Args[1:], err)
	}
	if strings.Contains(p.stderr.String(), "DATA RACE") {
		t.Errorf("%s: data race:\n%s", p.cmd.Args[1:], p.stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for os/exec's copying goroutine and
// the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.b.Bytes())
}

func (b *syncBuffer) String() string { return string(b.Bytes()) }
