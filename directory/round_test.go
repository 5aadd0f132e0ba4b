package directory

import (
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"onion/onion"
)

// authorityNet is n authorities that know each other, served by httptest
// on loopback, with the real clock.
type authorityNet struct {
	srvs  []*server
	ts    []*httptest.Server
	list  []Authority
	logs  *syncBuffer
	clock func() time.Time
}

func newAuthorityNet(t *testing.T, n int, interval time.Duration) *authorityNet {
	t.Helper()
	a := &authorityNet{logs: &syncBuffer{}, clock: time.Now}
	for i := range n {
		ts := httptest.NewUnstartedServer(nil)
		a.ts = append(a.ts, ts)
		a.list = append(a.list, Authority{URL: "http://" + ts.Listener.Addr().String(), Key: dirKey(byte(10 + i)).Public().(ed25519.PublicKey)})
	}
	for i, ts := range a.ts {
		s, err := newServer(Config{
			Key: dirKey(byte(10 + i)), Authorities: a.list, VoteInterval: interval,
			Logger: slog.New(slog.NewTextHandler(a.logs, nil)).With("authority", i),
		})
		if err != nil {
			t.Fatal(err)
		}
		a.srvs = append(a.srvs, s)
		ts.Config.Handler = s
		ts.Start()
		t.Cleanup(ts.Close)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("authority logs:\n%s", a.logs)
		}
	})
	return a
}

// publish stores d at the authorities numbered by at.
func (a *authorityNet) publish(t *testing.T, d onion.RelayDescriptor, at ...int) {
	t.Helper()
	for _, i := range at {
		if err := (&Client{URL: a.list[i].URL}).Publish(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
}

// round runs one voting round at the authorities numbered by at, at once.
func (a *authorityNet) round(t *testing.T, at ...int) {
	start := a.clock()
	var wg sync.WaitGroup
	for _, i := range at {
		wg.Go(func() { a.srvs[i].rounds.round(t.Context(), start) })
	}
	wg.Wait()
}

func fingerprints(l onion.RelayList) []string {
	var fps []string
	for _, d := range l.Relays {
		fps = append(fps, d.Fingerprint())
	}
	return fps
}

func TestVotingMajorityLists(t *testing.T) {
	a := newAuthorityNet(t, 3, 3*time.Second)
	now := a.clock()
	a.publish(t, descriptor(t, 1, now), 0, 1, 2) // everywhere: listed
	a.publish(t, descriptor(t, 2, now), 0)       // at one of three: not listed
	a.publish(t, descriptor(t, 3, now), 1, 2)    // at two of three: listed
	auths := NewAuthorities(a.list)
	if _, err := auths.Relays(t.Context()); err == nil {
		t.Fatal("a list before any round")
	}
	a.round(t, 0, 1, 2)
	for i := range a.list {
		signed, err := (&Client{URL: a.list[i].URL}).fetchList(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := len(signed.Signers(auths.keys())); got != 3 {
			t.Errorf("authority %d serves a list with %d signatures, want 3", i, got)
		}
	}
	l, err := auths.Relays(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{relayFingerprint(1), relayFingerprint(3)}
	slices.Sort(want)
	if got := fingerprints(l); !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
}

func TestVotingOneAuthorityDown(t *testing.T) {
	a := newAuthorityNet(t, 3, 3*time.Second)
	a.ts[2].Close()
	a.publish(t, descriptor(t, 1, a.clock()), 0, 1)
	a.round(t, 0, 1)
	l, err := NewAuthorities(a.list).Relays(t.Context())
	if err != nil {
		t.Fatalf("Relays with one authority down: %v", err)
	}
	if len(l.Relays) != 1 {
		t.Errorf("listed %d relays, want 1", len(l.Relays))
	}
}

// TestVotingOneAuthorityAlone: a single authority of three cannot make a
// list on its own, and says so.
func TestVotingOneAuthorityAlone(t *testing.T) {
	a := newAuthorityNet(t, 3, 1500*time.Millisecond)
	a.ts[1].Close()
	a.ts[2].Close()
	a.round(t, 0)
	if _, err := a.srvs[0].rounds.served(relaysPath); err == nil {
		t.Error("a lone authority of three serves a list")
	}
}

func TestMakeConsensus(t *testing.T) {
	old, fresh := descriptor(t, 1, t0), descriptor(t, 1, t0.Add(time.Second))
	other := descriptor(t, 2, t0)
	votes := []Vote{
		{ValidAfter: 60, Relays: []onion.RelayDescriptor{old, other}},
		{ValidAfter: 60, Relays: []onion.RelayDescriptor{fresh}},
		{ValidAfter: 60, Relays: []onion.RelayDescriptor{old}},
	}
	l := makeConsensus(votes, 3, 60, time.Minute)
	if len(l.Relays) != 1 || l.Relays[0].Published != fresh.Published {
		t.Fatalf("consensus %+v, want relay 1 alone at its newest descriptor", l.Relays)
	}
	if l.ValidAfter != 60 || l.ValidUntil != 120 {
		t.Errorf("valid %d to %d, want 60 to 120", l.ValidAfter, l.ValidUntil)
	}
	// The same votes in another order make the same document.
	slices.Reverse(votes)
	a, _ := json.Marshal(l)
	b, _ := json.Marshal(makeConsensus(votes, 3, 60, time.Minute))
	if string(a) != string(b) {
		t.Error("the order of the votes changed the document")
	}
	// Two votes of four are not a majority.
	if l := makeConsensus(votes[:2], 4, 60, time.Minute); len(l.Relays) != 0 {
		t.Errorf("2 votes of 4 listed %d relays", len(l.Relays))
	}
}

func TestVoteOpen(t *testing.T) {
	key := dirKey(10)
	pub := key.Public().(ed25519.PublicKey)
	sv, err := SignVote(Vote{ValidAfter: 60, Relays: []onion.RelayDescriptor{descriptor(t, 1, t0)}}, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sv.open(pub, 60); err != nil {
		t.Fatalf("open: %v", err)
	}
	if _, err := sv.open(dirKey(11).Public().(ed25519.PublicKey), 60); err == nil {
		t.Error("a vote opened with another authority's key")
	}
	if _, err := sv.open(pub, 120); err == nil {
		t.Error("a vote of another round opened")
	}
	twice, _ := SignVote(Vote{ValidAfter: 60, Relays: []onion.RelayDescriptor{descriptor(t, 1, t0), descriptor(t, 1, t0)}}, key)
	if _, err := twice.open(pub, 60); err == nil {
		t.Error("a vote listing one relay twice opened")
	}
}
