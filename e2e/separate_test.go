package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"
)

// TestSeparateProcesses starts the parts one by one, as the README tells a
// user with several machines to do (here all on 127.0.0.1:0), and pushes
// bytes through them.
func TestSeparateProcesses(t *testing.T) {
	dir := t.TempDir()
	_, url, key := startLabDirectory(t, filepath.Join(dir, "directory"))

	fingerprints := map[string]string{} // nickname -> fingerprint
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("relay%d", i)
		args := []string{"relay", "--listen", "127.0.0.1:0", "--directory", url, "--directory-key", key,
			"--nickname", name, "--data-dir", filepath.Join(dir, name), "--exit-policy", "accept-all"}
		if i == 3 {
			args = append(args, "--exit")
		}
		r := startProc(t, name, args...)
		if r.ready["nickname"] != name || r.ready["fingerprint"] == "" || r.ready["addr"] == "" {
			t.Fatalf("%s ready line: %v", name, r.ready)
		}
		fingerprints[name] = r.ready["fingerprint"]
	}

	p := startProc(t, "proxy", "proxy", "--socks", "127.0.0.1:0", "--status", "127.0.0.1:0",
		"--directory", url, "--directory-key", key)
	socks, status := p.ready["socks"], p.ready["status"]

	// Raw bytes both ways through an echo server.
	conn, rep := socksDial(t, socks, "127.0.0.1", startTCPServer(t, echo))
	if rep != socksSucceeded {
		t.Fatalf("SOCKS CONNECT reply %#x", rep)
	}
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	data := pseudoRandom(1<<20, 3)
	go conn.Write(data)
	got := make([]byte, len(data))
	if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("echo of %d bytes: equal=%v, err=%v", len(data), bytes.Equal(got, data), err)
	}

	// With only three relays and one exit, the path is fixed.
	cs := circuits(t, status)
	found := false
	for _, c := range cs {
		if threeHops(c) == nil && c.Streams >= 1 && c.Path[2].Fingerprint == fingerprints["relay3"] {
			found = true
		}
	}
	if !found {
		t.Errorf("no live circuit ending at relay3 with an open stream: %+v", cs)
	}
	conn.Close()

	// And HTTP with a host name resolved by the exit.
	blob := startBlobServer(t, 1<<20)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	resp, err := get(ctx, socksHTTP(t, socks, false), blob.url("localhost"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	blob.check(t, "GET via localhost", resp.Body)
}
