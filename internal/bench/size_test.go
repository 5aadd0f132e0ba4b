package bench

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"100MB": 100_000_000, "100 MB": 100_000_000, "8MB": 8_000_000, "16MiB": 16 << 20,
		"1.5GB": 1_500_000_000, "4096": 4096, "64kB": 64_000, "2KiB": 2048, "1000B": 1000,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "ten", "-5MB", "4", "2TB", "NaN"} {
		if got, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", bad, got)
		}
	}
}
