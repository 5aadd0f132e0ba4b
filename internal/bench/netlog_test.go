package bench

import (
	"slices"
	"strings"
	"testing"
)

func TestNetLog(t *testing.T) {
	l := newNetLog(2)
	for _, line := range []string{
		"onion network is up: a directory, 5 relays", // banner: dropped
		"relay1 | time=... level=WARN msg=one",
		"proxy | time=... level=INFO msg=two",
		"relay2 | panic: runtime error: index out of range",
		"relay2 | goroutine 7 [running]:", // stack: dropped
		"proxy | time=... level=ERROR msg=three",
	} {
		l.Write([]byte(line + "\n"))
	}
	if got, want := l.tail(), "relay2 | panic: runtime error: index out of range\nproxy | time=... level=ERROR msg=three"; got != want {
		t.Errorf("tail = %q, want %q", got, want)
	}
	if f := l.faultLines(); len(f) != 1 || !strings.Contains(f[0], "panic:") {
		t.Errorf("faults = %q", f)
	}
}

func TestWithoutOnionEnv(t *testing.T) {
	got := withoutOnionEnv([]string{"PATH=/bin", "ONION_PASSWORD=x", "HOME=/root", "ONION_SOCKS=1.2.3.4:5", "XONION_Y=1"})
	if want := []string{"PATH=/bin", "HOME=/root", "XONION_Y=1"}; !slices.Equal(got, want) {
		t.Errorf("withoutOnionEnv = %q, want %q", got, want)
	}
}
