package main

import (
	"strings"
	"testing"
)

func TestParseLoadCap(t *testing.T) {
	for in, want := range map[string]float64{"10MB": 10e6, "10MB/s": 10e6, " 1MiB/s ": 1 << 20, "2.5MB": 2.5e6} {
		got, err := parseLoadCap(in)
		if err != nil || got != want {
			t.Errorf("parseLoadCap(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "xyz", "0", "-5MB", "10MB/h"} {
		if got, err := parseLoadCap(in); err == nil || !strings.Contains(err.Error(), "--load-cap") {
			t.Errorf("parseLoadCap(%q) = %v, %v; want an error naming --load-cap", in, got, err)
		}
	}
}
