package e2e

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"onion/directory"
	"onion/onion"
)

// TestUpRestartsDirectory: a directory that dies under `onion up` comes back
// on its address with its key, the relays re-publish to it, and the network
// keeps working throughout.
func TestUpRestartsDirectory(t *testing.T) {
	up, info := startUp(t)
	infoPath := filepath.Join(filepath.Dir(info.DataDir), "info.json")
	if err := syscall.Kill(info.DirectoryPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "up to restart its directory", func() bool {
		return up.out.contains("restarting the directory")
	})
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
	var now upInfo
	waitFor(t, 10*time.Second, "the info file to name the new directory pid", func() bool {
		data, err := readFileQuiet(infoPath)
		return err == nil && json.Unmarshal(data, &now) == nil && now.DirectoryPID != info.DirectoryPID && alive(now.DirectoryPID)
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
}

func readFileQuiet(path string) ([]byte, error) { return os.ReadFile(path) }
