package bench

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes ParseSize knows: SI (MB = 10^6 bytes, as the
// report prints) and binary (MiB = 2^20 bytes).
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
	{"B", 1},
}

// ParseSize parses a byte count such as "100MB", "16MiB", "1.5GB" or
// "4096". It must be at least Streams bytes, so every stream of the
// concurrent figures moves something.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x != x {
		return 0, fmt.Errorf("size %q: want a number of bytes, e.g. 100MB or 16MiB", s)
	}
	n := x * float64(mult)
	if n < Streams || n > maxBlob {
		return 0, fmt.Errorf("size %q: want %d bytes to 1 TiB", s, Streams)
	}
	return int64(n), nil
}
