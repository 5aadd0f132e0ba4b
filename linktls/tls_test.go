package linktls

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"onion/onion"
)

func newKey(t *testing.T, seed byte) ed25519.PrivateKey {
	t.Helper()
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

// serverResult is what the relay side of a test link saw.
type serverResult struct {
	conn net.Conn // nil if the handshake failed
	err  error
	got  []byte // application bytes it read before the link ended
}

// pipeLink runs a relay with identity id on one end of a net.Pipe and
// dials it expecting want. The relay echoes nothing: it reads what comes
// until the link ends and reports it.
func pipeLink(t *testing.T, id ed25519.PrivateKey, want ed25519.PublicKey) (net.Conn, error, <-chan serverResult) {
	t.Helper()
	cfg, err := ServerConfig(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	res := make(chan serverResult, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	go func() {
		sc, err := Server(ctx, b, cfg)
		r := serverResult{conn: sc, err: err}
		if err == nil {
			r.got, _ = io.ReadAll(sc)
		}
		res <- r
	}()
	cc, err := Client(ctx, a, want)
	return cc, err, res
}

func TestRightKeyAccepted(t *testing.T) {
	id := newKey(t, 1)
	cc, err, res := pipeLink(t, id, id.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("handshake with the expected relay: %v", err)
	}
	msg := []byte(onion.LinkPreface + "cells")
	if _, err := cc.Write(msg); err != nil {
		t.Fatal(err)
	}
	cs := cc.(*Conn).ConnectionState()
	if cs.Version != tls.VersionTLS13 {
		t.Errorf("version %x, want TLS 1.3", cs.Version)
	}
	cc.Close()
	r := <-res
	if r.err != nil {
		t.Fatalf("relay side: %v", r.err)
	}
	if !bytes.Equal(r.got, msg) {
		t.Errorf("relay read %q, want %q", r.got, msg)
	}
	// No client certificate: a dialer stays anonymous.
	if n := len(r.conn.(*Conn).ConnectionState().PeerCertificates); n != 0 {
		t.Errorf("client presented %d certificates, want none", n)
	}
}

func TestWrongKeyRefusedBeforeAnyByte(t *testing.T) {
	relayKey, expected := newKey(t, 1), newKey(t, 2)
	want := expected.Public().(ed25519.PublicKey)
	cc, err, res := pipeLink(t, relayKey, want)
	if err == nil {
		cc.Close()
		t.Fatal("handshake with an impostor succeeded")
	}
	if !errors.Is(err, ErrWrongPeer) {
		t.Fatalf("error %v does not wrap ErrWrongPeer", err)
	}
	if !strings.Contains(err.Error(), "peer is not relay "+onion.Fingerprint(want)) {
		t.Errorf("error %q does not name the expected relay", err)
	}
	r := <-res
	if r.err == nil {
		t.Errorf("the impostor's handshake completed; it read %q", r.got)
	}
	if len(r.got) != 0 {
		t.Errorf("the impostor read %d application bytes", len(r.got))
	}
}

func TestClientSendsNoCertificateWhenAsked(t *testing.T) {
	id := newKey(t, 3)
	cfg, err := ServerConfig(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ClientAuth = tls.RequestClientCert // a relay that asks anyway
	a, b := net.Pipe()
	defer a.Close()
	got := make(chan int, 1)
	go func() {
		sc := tls.Server(b, cfg)
		if err := sc.Handshake(); err != nil {
			got <- -1
			return
		}
		got <- len(sc.ConnectionState().PeerCertificates)
		io.Copy(io.Discard, sc)
	}()
	cc, err := Client(context.Background(), a, id.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if n := <-got; n != 0 {
		t.Errorf("relay got %d client certificates, want 0", n)
	}
}

func TestTLS12Refused(t *testing.T) {
	id := newKey(t, 4)
	pub := id.Public().(ed25519.PublicKey)
	t.Run("old client", func(t *testing.T) {
		cfg, err := ServerConfig(id, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, b := net.Pipe()
		done := make(chan error, 1)
		go func() {
			_, err := Server(context.Background(), b, cfg)
			done <- err
		}()
		cc := ClientConfig(pub)
		cc.MinVersion, cc.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
		c := tls.Client(a, cc)
		if err := c.Handshake(); err == nil {
			t.Error("a TLS 1.2 client got a link")
		}
		a.Close()
		if err := <-done; err == nil {
			t.Error("the relay accepted TLS 1.2")
		}
	})
	t.Run("old relay", func(t *testing.T) {
		cfg, err := ServerConfig(id, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
		a, b := net.Pipe()
		go func() {
			tls.Server(b, cfg).Handshake()
			b.Close()
		}()
		if c, err := Client(context.Background(), a, pub); err == nil {
			c.Close()
			t.Error("the dialer accepted a TLS 1.2 relay")
		}
	})
}

func TestCertificateIsIdentityKey(t *testing.T) {
	id := newKey(t, 5)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &certSource{key: id, now: func() time.Time { return now }}
	c1, err := s.get(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkPeer([]*x509.Certificate{c1.Leaf}, id.Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("own certificate: %v", err)
	}
	if err := c1.Leaf.CheckSignature(c1.Leaf.SignatureAlgorithm, c1.Leaf.RawTBSCertificate, c1.Leaf.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if !c1.Leaf.NotAfter.After(now) || c1.Leaf.NotBefore.After(now) {
		t.Errorf("not valid now: %v .. %v", c1.Leaf.NotBefore, c1.Leaf.NotAfter)
	}
	if c2, _ := s.get(nil); c2 != c1 {
		t.Error("certificate made again within a day")
	}
	now = now.Add(certRenew + time.Minute)
	c3, err := s.get(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c3 == c1 || !c3.Leaf.NotAfter.After(now) {
		t.Error("certificate not renewed after a day")
	}
}

func TestServerConfigNeedsKey(t *testing.T) {
	if _, err := ServerConfig(nil, nil); err == nil {
		t.Error("ServerConfig without a key")
	}
}

// TestCloseBreaksBlockedWrite: a Write that a peer holds by reading
// nothing is broken by Close at once, as on a plain connection.
func TestCloseBreaksBlockedWrite(t *testing.T) {
	id := newKey(t, 6)
	cfg, err := ServerConfig(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	defer b.Close()
	go Server(context.Background(), b, cfg) // then reads nothing more
	cc, err := Client(context.Background(), a, id.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	werr := make(chan error, 1)
	go func() {
		_, err := cc.Write(make([]byte, 64<<10))
		werr <- err
	}()
	for !cc.writing.Load() {
		time.Sleep(time.Millisecond)
	}
	// Let the Write get past TLS to the write of its batch, where the
	// peer holds it (a Close during TLS's own Write is crypto/tls's case).
	time.Sleep(100 * time.Millisecond)
	closed := make(chan struct{})
	go func() {
		cc.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close waited for a Write that the peer holds")
	}
	if err := <-werr; err == nil {
		t.Error("the held Write succeeded")
	}
}
