package launch

import (
	"errors"
	"maps"
	"testing"
)

func TestParseReady(t *testing.T) {
	tests := []struct {
		line string
		want map[string]string
	}{
		{"directory ready url=http://127.0.0.1:4000 key=abc=",
			map[string]string{"role": "directory", "url": "http://127.0.0.1:4000", "key": "abc="}},
		{"relay ready addr=127.0.0.1:1 fingerprint=FP nickname=relay1",
			map[string]string{"role": "relay", "addr": "127.0.0.1:1", "fingerprint": "FP", "nickname": "relay1"}},
		{"x ready", map[string]string{"role": "x"}},
		{"  x   ready   a=  b=2 ", map[string]string{"role": "x", "a": "", "b": "2"}},
	}
	for _, tt := range tests {
		got, err := ParseReady(tt.line)
		if err != nil {
			t.Errorf("ParseReady(%q): %v", tt.line, err)
			continue
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("ParseReady(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

func TestParseReadyRejects(t *testing.T) {
	for _, line := range []string{"", "ready", "x", "x notready a=1", "x ready a", "x ready =1", "ready x a=1"} {
		if _, err := ParseReady(line); !errors.Is(err, ErrNotReadyLine) {
			t.Errorf("ParseReady(%q): err = %v, want ErrNotReadyLine", line, err)
		}
	}
}
