package testnet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"onion/client"
	"onion/directory"
	"onion/hiddenserver"
	"onion/onion"
)

func TestHiddenEcho(t *testing.T) {
	n := Start(t, Options{HiddenServer: true})
	ctx := Deadline(t, 30*time.Second)
	conn, err := n.Manager.DialStream(ctx, client.DialRequest{Host: n.Service.Address(), Port: hiddenserver.PortEcho})
	if err != nil {
		t.Fatalf("dial hidden echo: %v", err)
	}
	defer conn.Close()
	msg := bytes.Repeat([]byte("hidden "), 150000) // ~1 MiB
	go func() {
		conn.Write(msg)
		conn.(interface{ CloseWrite() error }).CloseWrite()
	}()
	got, err := io.ReadAll(conn)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo: %d bytes, err %v; want %d bytes back", len(got), err, len(msg))
	}
}

func httpVia(n *Net, req client.DialRequest) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return n.Manager.DialStream(ctx, req)
		},
	}, Timeout: 30 * time.Second}
}

func TestHiddenHTTPAndURL(t *testing.T) {
	var mu sync.Mutex
	var opened []string
	n := Start(t, Options{HiddenServer: true, Proxy: func(c *client.Config) {
		c.OpenURL = func(u string) { mu.Lock(); opened = append(opened, u); mu.Unlock() }
	}})
	addr := n.Service.Address()
	c := httpVia(n, client.DialRequest{Host: addr, Port: hiddenserver.PortHTTP})
	resp, err := c.Post("http://"+addr+"/echo", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" {
		t.Fatalf("POST /echo = %q", b)
	}
	resp, err = c.Get("http://" + addr + "/open/tor")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	want := hiddenserver.DefaultLinks()["tor"]
	if strings.TrimSpace(string(b)) != want {
		t.Fatalf("GET /open/tor = %q", b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := append([]string(nil), opened...)
		mu.Unlock()
		if len(got) == 1 && got[0] == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("URL replies seen by the proxy: %q, want [%q]", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHiddenAuth(t *testing.T) {
	n, _ := startLoginNet(t, nil)
	addr := n.Service.Address()
	ctx := Deadline(t, 60*time.Second)

	conn, err := n.Manager.DialStream(ctx, client.DialRequest{Host: addr, Port: hiddenserver.PortEcho, Username: "demo", Password: "s3cret"})
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	conn.Write([]byte("x"))
	one := make([]byte, 1)
	if _, err := io.ReadFull(conn, one); err != nil || one[0] != 'x' {
		t.Fatalf("echo after login: %q %v", one, err)
	}
	conn.Close()

	_, err = n.Manager.DialStream(ctx, client.DialRequest{Host: addr, Port: hiddenserver.PortEcho, Username: "demo", Password: "wrong"})
	var oe *client.OpenError
	if !errors.As(err, &oe) || oe.Reason != onion.EndExitPolicy {
		t.Fatalf("wrong password: err %v, want an OpenError with EndExitPolicy", err)
	}
	_, err = n.Manager.DialStream(ctx, client.DialRequest{Host: addr, Port: hiddenserver.PortEcho})
	if !errors.As(err, &oe) || oe.Reason != onion.EndExitPolicy {
		t.Fatalf("no credentials: err %v, want an OpenError with EndExitPolicy", err)
	}
}

func TestUnknownOnionAddress(t *testing.T) {
	n := Start(t, Options{HiddenServer: true})
	ctx := Deadline(t, 30*time.Second)
	other := onion.EncodeAddress(ed25519.NewKeyFromSeed(seed("nobody", 1)).Public().(ed25519.PublicKey))
	_, err := n.Manager.DialStream(ctx, client.DialRequest{Host: other, Port: 80})
	var oe *client.OpenError
	if !errors.As(err, &oe) || oe.Reason != onion.EndResolve || !errors.Is(err, client.ErrDescriptorNotFound) {
		t.Fatalf("unknown address: %v, want EndResolve, ErrDescriptorNotFound", err)
	}
	typo := []byte(n.Service.Address())
	typo[3] ^= 1
	_, err = n.Manager.DialStream(ctx, client.DialRequest{Host: string(typo), Port: 80})
	if !errors.As(err, &oe) || oe.Reason != onion.EndResolve || !errors.Is(err, client.ErrBadOnionAddress) {
		t.Fatalf("typo address: %v, want EndResolve, ErrBadOnionAddress", err)
	}
}

// TestHiddenMovesOffDeadMeetingRelay: when a meeting relay dies, the service
// builds a circuit to another, re-publishes, and new clients reach it.
func TestHiddenMovesOffDeadMeetingRelay(t *testing.T) {
	n := Start(t, Options{HiddenServer: true})
	addr := n.Service.Address()
	d := n.Service.Descriptor()
	if len(d.MeetingPoints) == 0 {
		t.Fatal("service has no meeting points")
	}
	dead := d.MeetingPoints[0]
	for _, r := range n.Relays {
		if r.Addr == dead.Address {
			r.Stop()
		}
	}
	// Wait until the directory serves a descriptor without the dead relay:
	// the service re-publishes (through a circuit) when its set changes.
	dir := &directory.Client{URL: n.DirURL}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx := Deadline(t, 5*time.Second)
		pub, err := dir.Service(ctx, addr)
		moved := err == nil && len(pub.MeetingPoints) == len(d.MeetingPoints)
		for _, mp := range pub.MeetingPoints {
			if mp.Address == dead.Address {
				moved = false
			}
		}
		if moved {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("directory still lists the dead meeting relay after 30s: %+v, %v", pub.MeetingPoints, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A fresh client (new isolation key) joins through the new set.
	ctx := Deadline(t, 30*time.Second)
	conn, err := n.Manager.DialStream(ctx, client.DialRequest{Host: addr, Port: hiddenserver.PortEcho, Username: "fresh"})
	if err != nil {
		t.Fatalf("dial after the meeting relay died: %v", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo after move: %q %v", buf, err)
	}
}
