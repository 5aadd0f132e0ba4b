package hiddenserver

import (
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"onion/onion"
)

// TestStatusPage: the meeting relays, with the circuit to each and its
// age, as a page and as JSON, to loopback Hosts only.
func TestStatusPage(t *testing.T) {
	now := time.Unix(1700000000, 0)
	relay := func(name string, seed byte) onion.RelayDescriptor {
		key := ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('a'+seed)), 32)))
		return onion.RelayDescriptor{Nickname: name, Address: "127.0.0.1:900" + string(rune('0'+seed)), IdentityKey: key.Public().(ed25519.PublicKey)}
	}
	guard, middle, meet := relay("guard", 1), relay("middle", 2), relay("<i>meet</i>", 3)
	s := &Server{addr: "abc.onion", cfg: Config{Now: func() time.Time { return now }},
		meeting: map[string]*meetingCirc{meet.Fingerprint(): {relay: meet, path: []onion.RelayDescriptor{guard, middle, meet}, since: now.Add(-75 * time.Second)}}}
	var st Status
	st.add(s)
	srv := httptest.NewServer(st.Handler())
	defer srv.Close()
	get := func(path, host string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Host = host
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, page := get("/", "localhost")
	for _, want := range []string{"1 meeting relays", "&lt;i&gt;meet&lt;/i&gt;", "this server &rarr;", "guard", "1m15s ago", `fetch("/live"`} {
		if code != 200 || !strings.Contains(page, want) {
			t.Errorf("GET /: %d, lacks %q", code, want)
		}
	}
	code, body := get("/meeting", "127.0.0.1")
	var list []MeetingRelay
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list) != 1 || list[0].Service != "abc.onion" ||
		len(list[0].Path) != 3 || list[0].Path[2].Fingerprint != meet.Fingerprint() || list[0].AgeSec != 75 {
		t.Errorf("GET /meeting: %d %s %v", code, body, err)
	}
	for _, path := range []string{"/", "/live", "/meeting"} {
		if code, _ := get(path, "rebound.example"); code != http.StatusForbidden {
			t.Errorf("%s with a foreign Host: %d", path, code)
		}
	}
	var none Status
	if got := none.Meeting(); got == nil || len(got) != 0 {
		t.Errorf("no servers: %v", got)
	}
}
