package testnet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"onion/client"
	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// fakeResolver is an exit's resolver: fixed answers, and a record of the
// names asked.
type fakeResolver struct {
	mu    sync.Mutex
	asked []string
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.asked = append(r.asked, host)
	r.mu.Unlock()
	switch host {
	case "mixed.test":
		return []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("2001:4860::8888"), netip.MustParseAddr("8.8.4.4")}, nil
	case "private.test":
		return []netip.Addr{netip.MustParseAddr("192.168.1.1")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r *fakeResolver) LookupAddr(_ context.Context, addr string) ([]string, error) {
	r.mu.Lock()
	r.asked = append(r.asked, "ptr "+addr)
	r.mu.Unlock()
	return []string{"dns.test."}, nil
}

// TestResolveAtExit: RESOLVE and RESOLVE_PTR are answered by the exit's
// resolver, through the SOCKS port as torsocks asks, filtered by the exit
// policy (reject-private here), and a .onion is never sent.
func TestResolveAtExit(t *testing.T) {
	oniontest.CheckLeaks(t)
	res := &fakeResolver{}
	n := Start(t, Options{Relay: func(_ int, cfg *relay.Config) {
		cfg.Resolver = res
		cfg.Policy = relay.RejectPrivate
	}})
	ctx := Deadline(t, 30*time.Second)
	answers, err := n.Manager.Resolve(ctx, client.DialRequest{Host: "mixed.test"}, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range answers {
		got = append(got, a.Addr.String())
	}
	if want := []string{"2001:4860::8888", "8.8.4.4"}; !slices.Equal(got, want) {
		t.Errorf("answers %q, want %q (the private one dropped)", got, want)
	}
	var re *client.ResolveError
	if _, err := n.Manager.Resolve(ctx, client.DialRequest{Host: "private.test"}, false); !errors.As(err, &re) {
		t.Errorf("private only: %v, want a ResolveError", err)
	}
	if _, err := n.Manager.Resolve(ctx, client.DialRequest{Host: "10.0.0.1"}, true); !errors.As(err, &re) {
		t.Errorf("PTR of a private address: %v, want a ResolveError", err)
	}
	onionName := onion.EncodeAddress(ed25519.NewKeyFromSeed(seed("nobody", 1)).Public().(ed25519.PublicKey))
	if _, err := n.Manager.Resolve(ctx, client.DialRequest{Host: onionName}, false); !errors.Is(err, client.ErrResolveOnion) {
		t.Errorf(".onion: %v", err)
	}

	// Through the SOCKS port, as torsocks does it.
	if rep := socksResolve(t, n.SOCKSAddr, 0xF0, []byte{3, byte(len("mixed.test"))}, "mixed.test"); !bytes.Equal(rep, []byte{5, 0, 0, 1, 8, 8, 4, 4, 0, 0}) {
		t.Errorf("SOCKS RESOLVE reply %x", rep)
	}
	if rep := socksResolve(t, n.SOCKSAddr, 0xF0, []byte{3, byte(len("nosuch.test"))}, "nosuch.test"); len(rep) < 2 || rep[1] != 0x04 {
		t.Errorf("SOCKS RESOLVE of an unknown name: reply %x, want code 4", rep)
	}
	want := append([]byte{5, 0, 0, 3, byte(len("dns.test"))}, "dns.test\x00\x00"...)
	if rep := socksResolve(t, n.SOCKSAddr, 0xF1, []byte{1, 8, 8, 8, 8}, ""); !bytes.Equal(rep, want) {
		t.Errorf("SOCKS RESOLVE_PTR reply %q, want %q", rep, want)
	}
	res.mu.Lock()
	defer res.mu.Unlock()
	if want := []string{"mixed.test", "private.test", "mixed.test", "nosuch.test", "ptr 8.8.8.8"}; !slices.Equal(res.asked, want) {
		t.Errorf("exits asked %q, want %q", res.asked, want)
	}
}

// socksResolve sends one SOCKS5 request with cmd and the address bytes
// (ATYP and, for a name, its length, then name) and returns the whole
// answer, read to EOF.
func socksResolve(t *testing.T, addr string, cmd byte, atyp []byte, name string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	req := append([]byte{5, 1, 0, 5, cmd, 0}, atyp...)
	req = append(append(req, name...), 0, 0)
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || !bytes.Equal(b[:2], []byte{5, 0}) {
		t.Fatalf("method reply %x", b)
	}
	return b[2:]
}
