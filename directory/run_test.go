package directory

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"onion/onion"
)

// startRun runs the directory with cfg and returns what it said when
// ready, and stop, which ends it and returns Run's result. The test's
// cleanup stops it too.
func startRun(t *testing.T, cfg Config) (Info, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan Info, 1)
	cfg.Ready = func(i Info) { ready <- i }
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	stop := sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancel")
			return nil
		}
	})
	t.Cleanup(func() { stop() })
	select {
	case i := <-ready:
		return i, stop
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run not ready after 10s")
	}
	return Info{}, nil
}

func TestRun(t *testing.T) {
	logs := &syncBuffer{}
	info, stop := startRun(t, Config{
		Key:    dirKey(1),
		Listen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	pub := dirKey(1).Public().(ed25519.PublicKey)
	if !strings.HasPrefix(info.URL, "http://127.0.0.1:") || info.Key != onion.EncodeKey(pub) {
		t.Errorf("Ready(%+v), want an http URL on 127.0.0.1 and key %s", info, onion.EncodeKey(pub))
	}
	key, err := onion.DecodeDirectoryKey(info.Key)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{URL: info.URL, Key: key}
	if err := c.Publish(t.Context(), descriptor(t, 1, time.Now())); err != nil {
		t.Fatal(err)
	}
	if l, err := c.Relays(t.Context()); err != nil || len(l.Relays) != 1 {
		t.Fatalf("Relays: %d relays, %v", len(l.Relays), err)
	}

	if err := stop(); err != nil {
		t.Errorf("Run after cancel: %v, want nil", err)
	}
	if _, err := net.Dial("tcp", strings.TrimPrefix(info.URL, "http://")); err == nil {
		t.Error("listener still open after Run returned")
	}
	for _, msg := range []string{`msg="directory listening" url=` + info.URL, `msg="directory stopped"`} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("logs lack %s:\n%s", msg, logs)
		}
	}
}

func TestRunListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := startRun(t, Config{Key: dirKey(1), Listen: "unused:1", Listener: ln})
	if want := "http://" + ln.Addr().String(); info.URL != want {
		t.Errorf("URL %s, want the given listener's %s", info.URL, want)
	}
}

func TestRunWithoutKey(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = Run(t.Context(), Config{Listener: ln, Ready: func(Info) { t.Error("Ready called without a key") }})
	if err == nil || !strings.Contains(err.Error(), "no signing key") {
		t.Errorf("Run without a key: %v", err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Error("the given listener is still open")
	}
}

func TestRunAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	err = Run(t.Context(), Config{Key: dirKey(1), Listen: ln.Addr().String()})
	want := "listen on " + ln.Addr().String() + ": address already in use (is another directory running? choose another --listen)"
	if err == nil || err.Error() != want {
		t.Errorf("Run on a busy address: %v, want %q", err, want)
	}
}

func TestLoadKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "directory")
	key, err := LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadKey(dir)
	if err != nil || !key.Equal(again) {
		t.Fatalf("second LoadKey: a different key (%v)", err)
	}
	pub, err := os.ReadFile(filepath.Join(dir, "directory.pub"))
	if want := onion.EncodeKey(key.Public().(ed25519.PublicKey)) + "\n"; err != nil || string(pub) != want {
		t.Errorf("directory.pub holds %q (%v), want %q", pub, err, want)
	}
}
