package proxy

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"onion/onion"
)

// recordingOpener stands in for the system browser.
type recordingOpener struct {
	mu     sync.Mutex
	opened []string
}

func (r *recordingOpener) open(u string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opened = append(r.opened, u)
	return nil
}

// countingPrompter answers every question with answer and keeps them.
type countingPrompter struct {
	answer  string
	prompts []string
}

func (c *countingPrompter) Ask(_ context.Context, prompt string, _ bool) (string, error) {
	c.prompts = append(c.prompts, prompt)
	return c.answer, nil
}

// TestURLOpenerNeverOpensLocalHosts: even with --open-urls always, a URL
// naming the user's machine or network is not opened; a public one is.
func TestURLOpenerNeverOpensLocalHosts(t *testing.T) {
	rec := &recordingOpener{}
	o := &URLOpener{Mode: OpenAlways, Open: rec.open}
	for _, u := range []string{"http://127.0.0.1:8080/", "http://[::1]/", "http://2130706433/", "http://0x7f.1/",
		"http://[::ffff:127.0.0.1]/", "http://192.168.1.1/admin", "http://localhost:631/", "http://router.local/"} {
		o.Handle(u)
	}
	o.Handle("https://www.torproject.org/")
	if want := []string{"https://www.torproject.org/"}; len(rec.opened) != 1 || rec.opened[0] != want[0] {
		t.Errorf("opened %q, want only %q", rec.opened, want)
	}
}

// TestURLOpenerLimitsPromptsBeforeAsking: a service flooding URL replies
// gets at most urlBurst questions per urlWindow, even when the user
// declines them all.
func TestURLOpenerLimitsPromptsBeforeAsking(t *testing.T) {
	rec := &recordingOpener{}
	p := &countingPrompter{answer: "n"}
	o := &URLOpener{Mode: OpenAsk, Prompt: p, Open: rec.open}
	for range 20 {
		o.Handle("https://example.org/spam")
	}
	if len(p.prompts) != urlBurst || len(rec.opened) != 0 {
		t.Errorf("%d prompts and %d opened for 20 URLs declined, want %d prompts and none opened",
			len(p.prompts), len(rec.opened), urlBurst)
	}
}

// TestURLOpenerShowsWholeURL: the question names the URL in full, even at
// the longest a URL reply can be.
func TestURLOpenerShowsWholeURL(t *testing.T) {
	u := "https://example.org/" + strings.Repeat("a", onion.MaxURLLen-len("https://example.org/"))
	p := &countingPrompter{answer: "y"}
	rec := &recordingOpener{}
	var out bytes.Buffer
	o := &URLOpener{Mode: OpenAsk, Prompt: p, Open: rec.open, Out: &out}
	o.Handle(u)
	if len(p.prompts) != 1 || !strings.Contains(p.prompts[0], " "+u+" ") || len(rec.opened) != 1 {
		t.Fatalf("prompts %q, opened %d; want one prompt with the whole URL, then the URL opened", p.prompts, len(rec.opened))
	}
	if !strings.Contains(out.String(), u) {
		t.Errorf("said %q, want the URL it opened", out.String())
	}
}

// TestOpenAlwaysWarns: --open-urls always says at start what it gives
// away; the other modes say nothing.
func TestOpenAlwaysWarns(t *testing.T) {
	for _, mode := range []OpenMode{OpenAlways, OpenAsk, OpenNever} {
		var out bytes.Buffer
		NewURLOpener(mode, nil, &out, nil)
		warned := strings.Contains(out.String(), "connects directly") && strings.Contains(out.String(), "IP address")
		if warned != (mode == OpenAlways) {
			t.Errorf("%s: said %q", mode, out.String())
		}
	}
}
