package directory

import (
	"context"
	"crypto/ed25519"
	"net"
	"testing"
	"time"
)

func TestServeShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- (&Server{Key: dirKey(1)}).Serve(ctx, ln) }()

	c := &Client{URL: "http://" + ln.Addr().String(), Key: dirKey(1).Public().(ed25519.PublicKey)}
	if err := c.Publish(t.Context(), descriptor(t, 1, time.Now())); err != nil {
		t.Fatal(err)
	}
	if l, err := c.Relays(t.Context()); err != nil || len(l.Relays) != 1 {
		t.Fatalf("Relays: %d relays, %v", len(l.Relays), err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("listener still open after Serve returned")
	}
}

func TestServeWithoutKey(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Server{}).Serve(t.Context(), ln); err == nil {
		t.Error("Serve without a key returned nil")
	}
}
