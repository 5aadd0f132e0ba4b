package e2e

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"onion/directory"
	"onion/internal/upinfo"
	"onion/onion"
)

// TestUpRestartsDirectory: a directory that dies under `onion up` comes back
// on its address with its key, the relays re-publish to it, and the network
// keeps working throughout.
func TestUpRestartsDirectory(t *testing.T) {
	rep := report(t, Row{
		Scenario: "directory dies under `onion up`",
		Done:     "SIGKILL the directory process that `up` started",
		Expected: "`up` brings it back on the same address with the same key; relays listed again; downloads work",
	})
	up, info := startUp(t)
	infoPath := filepath.Join(filepath.Dir(info.DataDir), "info.json")
	if err := syscall.Kill(info.DirectoryPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	waitFor(t, 30*time.Second, "up to restart its directory", func() bool {
		return up.out.contains("restarting the directory")
	})
	rep.Saw("`up` restarting it %v after the kill", time.Since(killed).Round(time.Millisecond))
	key, err := onion.DecodeDirectoryKey(info.DirectoryKey)
	if err != nil {
		t.Fatal(err)
	}
	client := &directory.Client{URL: info.Directory, Key: ed25519.PublicKey(key)}
	waitFor(t, 40*time.Second, "every relay listed by the restarted directory", func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		l, err := client.Relays(ctx)
		return err == nil && len(l.Relays) == len(info.Relays)
	})
	rep.Saw("all %d relays listed again %v after the kill", len(info.Relays), time.Since(killed).Round(time.Millisecond))
	waitFor(t, 10*time.Second, "the info file to name the new directory pid", func() bool {
		now, err := upinfo.Read(infoPath)
		return err == nil && now.DirectoryPID != info.DirectoryPID && alive(now.DirectoryPID)
	})

	blob := startBlobServer(t, 1<<20)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	resp, err := get(ctx, socksHTTP(t, info.Socks, false), blob.url("localhost"))
	if err != nil {
		t.Fatalf("download after the directory came back: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s", resp.Status)
	}
	blob.check(t, "download after restart", resp.Body)
	rep.Saw("new directory pid in the info file; %d MiB byte-exact through the network after it", blob.size>>20)
	rep.BytesLost = fmt.Sprintf("0 of %d MiB", blob.size>>20)
}
