package e2e

// Several directory authorities as real processes (PROTOCOL.md §7.4, §7.5):
// one stopped, one lying, and an attacker registering many relays from one
// address. Relays listen on distinct loopback addresses 127.N.0.1, so the
// per-address limit applies as it would between machines.

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onion/directory"
	"onion/onion"
	"onion/onion/oniontest"
)

// authVoteInterval is the authorities' round in these tests: short, so
// a relay is listed within seconds.
const authVoteInterval = 2 * time.Second

// authNet is three authorities (the last may be a liar in this process),
// relays and a proxy.
type authNet struct {
	dir       string
	urls      []string
	keys      []string
	auths     []*proc // nil for the liar
	relays    []*proc
	proxy     *proc
	socks     string
	authority *directory.Authorities // the test's own reader, trusting all three keys
}

// startAuthNet starts three authorities (the third is liar's handler when
// liar is set), three relays (one exit) on 127.11.0.1 to 127.13.0.1, and a
// proxy refreshing its list every second.
func startAuthNet(t *testing.T, liar *lyingAuthority) *authNet {
	t.Helper()
	needLoopbackAddrs(t, "127.11.0.1", "127.12.0.1", "127.13.0.1", "127.14.0.1", "127.99.0.1")
	n := &authNet{dir: t.TempDir()}
	var lns []net.Listener
	var privs []ed25519.PrivateKey
	for i := range 3 {
		key, err := directory.LoadKey(filepath.Join(n.dir, fmt.Sprintf("auth%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns, privs = append(lns, ln), append(privs, key)
		n.urls = append(n.urls, "http://"+ln.Addr().String())
		n.keys = append(n.keys, onion.EncodeKey(key.Public().(ed25519.PublicKey)))
	}
	for i, ln := range lns {
		if liar != nil && i == 2 {
			liar.start(t, ln, privs[i], n.urls[0])
			n.auths = append(n.auths, nil)
			continue
		}
		ln.Close()
		n.auths = append(n.auths, startProc(t, fmt.Sprintf("auth%d", i), "directory", "--listen", ln.Addr().String(),
			"--data-dir", filepath.Join(n.dir, fmt.Sprintf("auth%d", i)), "--allow-private-addresses",
			"--authority", strings.Join(n.urls, ","), "--authority-key", strings.Join(n.keys, ","),
			"--vote-interval", authVoteInterval.String(), "--relay-ttl", "20s"))
	}
	var list []directory.Authority
	for i := range n.urls {
		k, _ := onion.DecodeDirectoryKey(n.keys[i])
		list = append(list, directory.Authority{URL: n.urls[i], Key: k})
	}
	n.authority = directory.NewAuthorities(list)
	for i := range 3 {
		n.startRelay(t, i, i == 0)
	}
	n.waitListed(t, 3)
	n.checkWeights(t)
	n.proxy = startProc(t, "proxy", "proxy", "--socks", "127.0.0.1:0", "--status", "127.0.0.1:0",
		"--directory", strings.Join(n.urls, ","), "--directory-key", strings.Join(n.keys, ","), "--refresh-interval", "1s",
		"--lab=false") // its relays are on distinct /16s: the subnet rule holds
	n.socks = n.proxy.ready["socks"]
	return n
}

// startRelay starts relay i on 127.(11+i).0.1, publishing every 2 s to
// every authority.
func (n *authNet) startRelay(t *testing.T, i int, exit bool) {
	t.Helper()
	name := fmt.Sprintf("relay%d", i+1)
	args := []string{"relay", "--listen", fmt.Sprintf("127.%d.0.1:0", 11+i),
		"--directory", strings.Join(n.urls, ","), "--directory-key", strings.Join(n.keys, ","),
		"--nickname", name, "--data-dir", filepath.Join(n.dir, name), "--exit-policy", "accept-all",
		"--publish-interval", "2s", "--no-peer-shares"}
	if exit {
		args = append(args, "--exit", "--bandwidth", "50M") // over the authorities' cap
	}
	n.relays = append(n.relays, startProc(t, name, args...))
}

// listed is the consensus as the test's reader accepts it.
func (n *authNet) listed(t *testing.T) (onion.RelayList, error) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	return n.authority.Relays(ctx)
}

// waitListed waits until the consensus lists the first count relays
// started.
func (n *authNet) waitListed(t *testing.T, count int) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("%d relays in the consensus", count), func() bool {
		l, err := n.listed(t)
		if err != nil {
			return false
		}
		have := map[string]bool{}
		for _, d := range l.Relays {
			have[d.Fingerprint()] = true
		}
		for _, r := range n.relays[:count] {
			if !have[r.ready["fingerprint"]] {
				return false
			}
		}
		return true
	})
}

// checkWeights: the consensus weighs the exit, which advertises 50 MiB/s,
// at the authorities' cap and the others at the default bandwidth
// (PROTOCOL.md §7.4).
func (n *authNet) checkWeights(t *testing.T) {
	t.Helper()
	l, err := n.listed(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range l.Relays {
		want := int64(onion.DefaultBandwidth)
		if d.Exit {
			want = onion.DefaultWeightCap
		}
		if d.Weight != want {
			t.Errorf("%s listed with weight %d, want %d", d.Nickname, d.Weight, want)
		}
	}
}

func (n *authNet) download(t *testing.T, blob *blobServer, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	body, wait, err := goDownload(ctx, t, n.socks, user, blob.url("127.0.0.1"))
	if err != nil {
		t.Fatalf("download as %q: %v", user, err)
	}
	blob.check(t, "download as "+user, body)
	wait()
}

func needLoopbackAddrs(t *testing.T, ips ...string) {
	t.Helper()
	for _, ip := range ips {
		ln, err := net.Listen("tcp", ip+":0")
		if err != nil && os.Getenv("CI") != "" {
			t.Fatalf("no loopback address %s here: %v", ip, err)
		}
		if err != nil {
			t.Skipf("no loopback address %s here: %v", ip, err)
		}
		ln.Close()
	}
}

// TestAuthorityStopped: with one of three authorities stopped, downloads
// still succeed and a new relay still gets listed. Budget: 90 s.
func TestAuthorityStopped(t *testing.T) {
	n := startAuthNet(t, nil)
	blob := startBlobServer(t, 256<<10)
	n.download(t, blob, "before")
	n.auths[2].stop(t)
	n.startRelay(t, 3, true)
	n.waitListed(t, 4)
	l, err := n.listed(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("with one authority stopped, the consensus lists %d relays", len(l.Relays))
	n.download(t, blob, "after")
	for _, p := range n.relays[:3] {
		if p.out.contains("publish descriptor: accepted by") {
			t.Errorf("%s could not publish to a majority", p.Name)
		}
	}
}

// TestAttackerFromOneAddress: 50 relays registered from one address get at
// most two into the consensus. Budget: 60 s.
func TestAttackerFromOneAddress(t *testing.T) {
	n := startAuthNet(t, nil)
	var refused int
	for i := range 50 {
		k := oniontest.RelayKeys(fmt.Sprintf("sybil%d", i))
		d := onion.RelayDescriptor{Nickname: fmt.Sprintf("sybil%d", i), Address: fmt.Sprintf("127.99.0.1:%d", 20000+i),
			OnionKey: k.OnionPub(), Exit: true, Published: time.Now().Unix()}
		d.Sign(k.Identity)
		if err := n.authority.Publish(t.Context(), d); err != nil {
			refused++
		}
	}
	t.Logf("%d of 50 publications refused by a majority", refused)
	var sybils int
	waitFor(t, 3*authVoteInterval+10*time.Second, "two rounds after the publications", func() bool {
		l, err := n.listed(t)
		if err != nil {
			return false
		}
		sybils = 0
		for _, d := range l.Relays {
			if strings.HasPrefix(d.Address, "127.99.0.1:") {
				sybils++
			}
		}
		return sybils > 0 && l.ValidAfter > time.Now().Add(-authVoteInterval).Unix()
	})
	if sybils > 2 {
		t.Fatalf("the consensus lists %d relays at one address, want at most 2", sybils)
	}
	t.Logf("the consensus lists %d of the 50 relays at 127.99.0.1", sybils)
	if refused != 48 {
		t.Errorf("%d publications refused, want 48", refused)
	}
}

// lyingAuthority is the third authority, played by the test: it votes for
// relays that do not exist and none of the honest ones, and serves clients
// either a list only it signed (forged) or the first consensus it saw from
// an honest authority (stale).
type lyingAuthority struct {
	stale atomic.Bool
	key   ed25519.PrivateKey
	fakes []onion.RelayDescriptor
	old   atomic.Pointer[[]byte] // the first honest consensus
	srv   *http.Server
}

func (l *lyingAuthority) start(t *testing.T, ln net.Listener, key ed25519.PrivateKey, honest string) {
	l.key = key
	for i := range 4 {
		k := oniontest.RelayKeys(fmt.Sprintf("fake%d", i))
		d := onion.RelayDescriptor{Nickname: fmt.Sprintf("fake%d", i), Address: fmt.Sprintf("127.%d.0.1:9", 50+i),
			OnionKey: k.OnionPub(), Exit: true, Published: time.Now().Unix()}
		d.Sign(k.Identity)
		l.fakes = append(l.fakes, d)
	}
	l.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { l.serve(w, r, honest) })}
	go l.srv.Serve(ln)
	t.Cleanup(func() { l.srv.Close() })
}

func (l *lyingAuthority) serve(w http.ResponseWriter, r *http.Request, honest string) {
	now := time.Now()
	switch {
	case r.Method == http.MethodPost: // accept anything, keep nothing
		var d onion.RelayDescriptor
		json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&d)
		json.NewEncoder(w).Encode(directory.PublishResult{Fingerprint: d.Fingerprint(), Expires: now.Add(time.Minute).Unix()})
	case r.URL.Path == "/v1/vote":
		sv, _ := directory.SignVote(directory.Vote{ValidAfter: now.Truncate(authVoteInterval).Unix(), Relays: l.fakes}, l.key)
		json.NewEncoder(w).Encode(sv)
	case r.URL.Path == "/v1/relays" && l.stale.Load():
		if b := l.old.Load(); b != nil {
			w.Write(*b)
			return
		}
		http.Error(w, `{"error":"nothing yet"}`, http.StatusServiceUnavailable)
	default: // the forged list, also as the pending consensus
		doc, _ := json.Marshal(onion.RelayList{ValidAfter: now.Unix(), ValidUntil: now.Add(10 * time.Minute).Unix(), Relays: l.fakes})
		sig := onion.SignList(string(doc), l.key)
		json.NewEncoder(w).Encode(onion.SignedList{Document: string(doc), Signatures: []onion.ListSignature{sig, sig, sig}})
	}
}

// record keeps the honest consensus n serves now as the stale list.
func (l *lyingAuthority) record(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url + "/v1/relays")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("record the honest list: %d %v", resp.StatusCode, err)
	}
	l.old.Store(&b)
}

// TestAuthorityLying: the third authority votes for relays that do not
// exist and drops the honest ones, then serves a forged list, then a stale
// one. The consensus lists exactly the honest relays; the proxy refuses
// both lists, logs why, and keeps downloading. Budget: 90 s.
func TestAuthorityLying(t *testing.T) {
	liar := &lyingAuthority{}
	n := startAuthNet(t, liar)
	blob := startBlobServer(t, 256<<10)
	n.download(t, blob, "first")
	liar.record(t, n.urls[0])

	l, err := n.listed(t)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Relays) != 3 {
		t.Errorf("the consensus lists %d relays, want the 3 honest ones", len(l.Relays))
	}
	for _, d := range l.Relays {
		if strings.HasPrefix(d.Nickname, "fake") {
			t.Errorf("the consensus lists %s, which only the liar voted for", d.Nickname)
		}
	}
	waitFor(t, 20*time.Second, "the proxy to refuse the forged list", func() bool {
		return n.proxy.out.contains("relay list refused", "signed by 1 of 3, need 2")
	})
	n.download(t, blob, "forged")

	liar.stale.Store(true)
	waitFor(t, 30*time.Second, "the proxy to refuse the stale list", func() bool {
		return n.proxy.out.contains("relay list refused", "older than the list held")
	})
	n.download(t, blob, "stale")
}
