package bench

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressLinePerPhase(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false)
	p.begin("download 100 MB", 100e6, true)
	p.add(50e6)
	p.begin("circuit builds", 50, false)
	p.end()
	if got, want := buf.String(), "bench: download 100 MB\nbench: circuit builds\n"; got != want {
		t.Errorf("progress off a terminal = %q, want %q", got, want)
	}
}

func TestProgressLive(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, true)
	p.begin("download 100 MB", 100e6, true)
	p.add(25e6)
	p.mu.Lock()
	line := p.lineLocked()
	p.mu.Unlock()
	p.end()
	if !strings.HasPrefix(line, "bench: download 100 MB  [######..................]  25% 25.0 MB of 100 MB  ") || !strings.HasSuffix(line, "MB/s") {
		t.Errorf("live line = %q", line)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\r\033[Kbench: download 100 MB  [........................]   0% 0.00 MB of 100 MB") || !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("live output = %q: want the line drawn at once and cleared at the end", out)
	}
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		want        string
	}{
		{0, 100, "[........................]   0%"},
		{50, 100, "[############............]  50%"},
		{100, 100, "[########################] 100%"},
		{150, 100, "[########################] 100%"},
		{1, 0, ""},
	} {
		if got := bar(tc.done, tc.total); got != tc.want {
			t.Errorf("bar(%d, %d) = %q, want %q", tc.done, tc.total, got, tc.want)
		}
	}
}
