package statusview

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func sample() Snapshot {
	hop := func(n string) Hop {
		return Hop{Nickname: n, Fingerprint: strings.Repeat(n[len(n)-1:], 40), Address: "127.0.0.1:900" + n[len(n)-1:]}
	}
	return Snapshot{
		Relays: []Relay{
			{Nickname: "relay1", Fingerprint: strings.Repeat("1", 40), Address: "127.0.0.1:9001", Exit: true},
			{Nickname: "relay2", Fingerprint: strings.Repeat("2", 40), Address: "127.0.0.1:9002"},
			{Nickname: "<b>evil</b>\x1b[2J", Fingerprint: strings.Repeat("3", 40), Address: "127.0.0.1:9003"},
		},
		Circuits: []Circuit{{ID: 7, Path: []Hop{hop("relay2"), hop("relay3"), hop("relay1")}, Streams: 2,
			AgeSec: 125, BytesSent: 2048, BytesReceived: 3 << 20}},
		Now: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC),
	}
}

// TestHTML: the page draws each circuit as an SVG row of the proxy, its
// three relays and the far end; it escapes relay names, loads nothing from
// elsewhere, and says that destinations are not shown.
func TestHTML(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, sample(), "/live"); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"3 relays listed (1 exits), 1 circuits open", "relay2", "3.0 MiB", "2m05s",
		"Stream destinations are never shown", `<svg id="circuits"`, "&lt;b&gt;evil&lt;/b&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<b>evil", "http://", "https://", "src="} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q", bad)
		}
	}
	start := strings.Index(page, "<svg")
	end := strings.Index(page, "</svg>") + len("</svg>")
	var svg struct {
		Groups []struct {
			Nodes []struct {
				Class string `xml:"class,attr"`
				Text  string `xml:"text"`
			} `xml:"g"`
		} `xml:"g"`
	}
	if err := xml.Unmarshal([]byte(page[start:end]), &svg); err != nil {
		t.Fatalf("the SVG is not well-formed: %v", err)
	}
	if len(svg.Groups) != 1 || len(svg.Groups[0].Nodes) != 5 {
		t.Fatalf("SVG: %+v; want one circuit of 5 nodes (proxy, 3 relays, far end)", svg)
	}
	var kinds []string
	for _, n := range svg.Groups[0].Nodes {
		kinds = append(kinds, n.Class+":"+n.Text)
	}
	if got := strings.Join(kinds, " "); got != "you:this proxy relay:relay2 relay:relay3 exit:relay1 end:destination" {
		t.Errorf("SVG nodes %s", got)
	}
}

func TestLiveIsFragment(t *testing.T) {
	var b bytes.Buffer
	if err := Live(&b, Snapshot{}); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.Contains(s, "<html") || !strings.Contains(s, "No circuits yet") {
		t.Errorf("live part: %s", s)
	}
}

// TestText: one line per circuit with its path; colour only when asked;
// control characters from a relay's name never reach the terminal.
func TestText(t *testing.T) {
	var plain, coloured bytes.Buffer
	Text(&plain, sample(), false)
	Text(&coloured, sample(), true)
	p := plain.String()
	if !strings.Contains(p, "circuit 7   you ── relay2 ── relay3 ── relay1 ── (destination not shown)  2 streams, 2.0 KiB sent, 3.0 MiB received, 2m05s old") {
		t.Errorf("plain text:\n%s", p)
	}
	if strings.Contains(p, "\x1b") {
		t.Errorf("plain text holds escapes:\n%q", p)
	}
	if !strings.Contains(coloured.String(), "\x1b[32mrelay1\x1b[0m") {
		t.Errorf("coloured text does not colour the exit:\n%q", coloured.String())
	}
	if strings.Contains(coloured.String(), "\x1b[2J") {
		t.Error("a relay's name cleared the screen")
	}
	if !strings.Contains(p, "relay1  ") || !strings.Contains(p, "1111111111111111") {
		t.Errorf("relay table:\n%s", p)
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Bytes(512), "512 B"}, {Bytes(1536), "1.5 KiB"}, {Bytes(5 << 30), "5.0 GiB"},
		{Age(9), "9s"}, {Age(61), "1m01s"}, {Age(7322), "2h02m"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestFailures: recent failures are listed, newest first, with their age
// and reason, escaped in HTML and made printable in text.
func TestFailures(t *testing.T) {
	s := sample()
	s.Failures = []Failure{
		{At: s.Now.Unix() - 5, What: "circuit build", Reason: "timeout", Detail: "context deadline exceeded"},
		{At: s.Now.Unix() - 70, What: "circuit build", Reason: "extend_refused", Detail: "<script>x</script>\x1b[2J"},
	}
	var h, txt bytes.Buffer
	if err := Live(&h, s); err != nil {
		t.Fatal(err)
	}
	if err := Text(&txt, s, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Recent failures", "5s ago", "1m10s ago", "extend_refused", "&lt;script&gt;"} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(h.String(), "<script>x") {
		t.Error("HTML holds an unescaped detail")
	}
	if !strings.Contains(txt.String(), "recent failures:") || !strings.Contains(txt.String(), "5s ago  circuit build: timeout") ||
		strings.Contains(txt.String(), "\x1b") {
		t.Errorf("text:\n%s", txt.String())
	}
	var none bytes.Buffer
	Live(&none, sample())
	if !strings.Contains(none.String(), "<h2>Recent failures</h2>\n<p>None.</p>") {
		t.Error("no failures: the page does not say so")
	}
}
