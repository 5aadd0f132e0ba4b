//go:build linux

package e2e

// One abusive client cannot deny service to another: the abuser, on
// 127.0.0.2, pushes on every bound a relay keeps per peer (abuser_test.go)
// while the victim, a proxy whose links come from 127.0.0.3, downloads
// through the same three relays. Linux routes all of 127/8 to the loopback
// interface, so the relays see two peers.

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"onion/directory"
	"onion/onion"
	ocirc "onion/onion/circuit"
	"onion/relay"
)

const (
	abuserIP = "127.0.0.2"
	victimIP = "127.0.0.3"
	// abuseFor bounds the whole attack: the abuser stops by then, whatever
	// happened.
	abuseFor        = 50 * time.Second
	victimDownloads = 3
	victimBlobSize  = 4 << 20
)

// TestAbuseByOneClient: with the abuser holding as many links and preface
// exchanges as one relay lets it, and opening exit streams, extends and
// buffers past its shares, the victim's downloads (each on a fresh circuit,
// so each needs new circuits and links through the abused relay) arrive
// byte for byte, and the abuser got no more than its shares.
func TestAbuseByOneClient(t *testing.T) {
	needLoopbackAliases(t)
	rep := report(t, Row{
		Scenario: "abusive client",
		Done: fmt.Sprintf("from %s: %d links, %d silent connections, %d exit streams, %d extends, %d MiB for a destination that never reads, against one relay; meanwhile %d downloads of %d MiB by a proxy on %s",
			abuserIP, abuseLinks, abuseSilent, abuseStreams, abuseExtends, abuseBuffer, victimDownloads, victimBlobSize>>20, victimIP),
		Expected: "the abuser gets only its per-peer shares; every download of the victim byte-exact",
	})
	n := startAbuseNet(t)
	target, next := n.hops[0], n.hops[1]
	blob := startBlobServer(t, victimBlobSize)
	// A destination that takes connections and never reads them.
	hole := fmt.Sprintf("127.0.0.1:%d", startTCPServer(t, func(net.Conn) { <-t.Context().Done() }))
	a := newAbuser(abuserIP, target)
	ctx, cancel := context.WithTimeout(t.Context(), abuseFor)
	defer cancel()
	start := time.Now()
	defer func() {
		a.close()
		t.Logf("abuser stopped %v after it started", time.Since(start).Round(time.Millisecond))
	}()

	a.floodLinks(ctx)
	a.floodSilent(ctx)
	t.Logf("links: %d taken, %d refused; silent connections: %d in the preface exchange, %d closed at once (%v)",
		len(a.links), a.linksRefused.Load(), a.silentInExchange.Load(), a.silentRefused.Load(), time.Since(start).Round(time.Millisecond))
	// The victim starts now, so its links and circuits are all new.
	victim := startProc(t, "proxy", "proxy", "--socks", "127.0.0.1:0", "--status", "127.0.0.1:0",
		"--directory", n.url, "--directory-key", n.key, "--link-source", victimIP)

	// The floods run while the victim downloads; the links and silent
	// connections stay held until the end.
	var floods sync.WaitGroup
	floods.Go(func() { a.extendFlood(ctx, next) })
	floods.Go(func() { checkNoErr(t, a.streamFlood(ctx, hole)) })
	floods.Go(func() { checkNoErr(t, a.bufferFlood(ctx, hole)) })
	flooding := make(chan struct{})
	go func() { floods.Wait(); close(flooding) }()
	during := 0
	for i := range victimDownloads {
		client := hiddenHTTP(t, victim.ready["socks"], fmt.Sprintf("victim-%d", i), "", false)
		dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
		began := time.Now()
		err := blob.getChecked(dctx, client, "127.0.0.1")
		dcancel()
		if err != nil {
			t.Fatalf("victim's download %d: %v", i, err)
		}
		select {
		case <-flooding:
		default:
			during++
		}
		t.Logf("victim's download %d: %d MiB byte-exact in %v", i, victimBlobSize>>20, time.Since(began).Round(time.Millisecond))
	}
	<-flooding
	rep.Saw("%d downloads of %d MiB byte-exact (%d of them ended while the floods still ran), all while the abuser held its links", victimDownloads, victimBlobSize>>20, during)
	a.report(t, rep)
	if !n.target.out.contains("refusing link") {
		t.Error("the abused relay logged no refused link")
	}
	rep.BytesLost = "0"
}

// report checks that the abuser got no more than its shares, and records
// what it got.
func (a *abuser) report(t *testing.T, rep *Row) {
	t.Helper()
	links, inExchange := int64(len(a.links)), a.silentInExchange.Load()
	t.Logf("exit streams: %d open, %d refused; buffers: %d streams ended; extends: %d done, %d refused",
		a.streamsOpen.Load(), a.streamsRefused.Load(), a.streamsEnded.Load(), a.extended.Load(), a.extendsRefused.Load())
	rep.Saw("the abuser got %d of %d links, %d of %d silent connections into the preface exchange, %d of %d exit streams, %d of %d extends; %d of its %d 1 MiB streams ended for the exit's buffer bound",
		links, abuseLinks, inExchange, abuseSilent, a.streamsOpen.Load(), abuseStreams, a.extended.Load(), abuseExtends, a.streamsEnded.Load(), abuseBuffer)
	for _, c := range []struct {
		what      string
		got, max  int64
		mustLimit bool
	}{
		{"links", links, relay.DefaultMaxLinksPerPeer, true},
		{"silent connections in the preface exchange", inExchange, relay.DefaultMaxHandshakesPerPeer, false},
		{"exit streams", a.streamsOpen.Load(), relay.DefaultMaxExitConnsPerPeer, true},
		{"extended circuits", a.extended.Load(), relay.DefaultMaxNextCircuitsPerPeer, true},
	} {
		if c.got > c.max || c.mustLimit && c.got < c.max/2 {
			t.Errorf("the abuser got %d %s; its share is %d", c.got, c.what, c.max)
		}
	}
	// No check on the buffers: on loopback the kernel takes about 3 MiB
	// per connection that is not read, more than a stream's window, so
	// the exit itself holds nothing (TestExitBufferBudget in relay/ checks
	// its bound). They still take exit connections and sealing work.
}

func checkNoErr(t *testing.T, err error) {
	if err != nil {
		t.Error(err)
	}
}

// needLoopbackAliases skips the test where 127.0.0.2 and 127.0.0.3 are not
// this machine's (outside Linux, loopback is often 127.0.0.1 alone).
func needLoopbackAliases(t *testing.T) {
	t.Helper()
	for _, ip := range []string{abuserIP, victimIP} {
		ln, err := net.Listen("tcp", ip+":0")
		if err != nil {
			t.Skipf("no loopback address %s here: %v", ip, err)
		}
		ln.Close()
	}
}

// abuseNet is a directory and three relays, all exits that may reach
// loopback, each its own process.
type abuseNet struct {
	url, key string
	target   *proc // relay1, the abused one
	hops     []ocirc.Hop
}

func startAbuseNet(t *testing.T) *abuseNet {
	t.Helper()
	dir := t.TempDir()
	_, url, dirKey := startLabDirectory(t, filepath.Join(dir, "directory"))
	n := &abuseNet{url: url, key: dirKey}
	byName := map[string]string{}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("relay%d", i)
		r := startProc(t, name, "relay", "--listen", "127.0.0.1:0", "--directory", n.url, "--directory-key", n.key, "--nickname", name,
			"--data-dir", filepath.Join(dir, name), "--exit", "--exit-policy", "accept-all")
		if i == 1 {
			n.target = r
		}
		byName[r.ready["fingerprint"]] = name
	}
	key, err := onion.DecodeDirectoryKey(n.key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	l, err := (&directory.Client{URL: n.url, Key: key}).Relays(ctx)
	if err != nil || len(l.Relays) != 3 {
		t.Fatalf("relay list: %d relays, %v", len(l.Relays), err)
	}
	n.hops = make([]ocirc.Hop, 3)
	for _, r := range l.Relays {
		var i int
		fmt.Sscanf(byName[r.Fingerprint()], "relay%d", &i)
		n.hops[i-1] = ocirc.Hop{Address: r.Address, IdentityKey: r.IdentityKey, OnionKey: r.OnionKey}
	}
	return n
}
