package statusview

import (
	"fmt"
	"time"
)

// Bytes is n in B, KiB, MiB or GiB.
func Bytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 2 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMG"[i])
}

// Age is a duration in seconds, short: 45s, 3m05s, 2h10m.
func Age(sec int64) string {
	d := time.Duration(max(sec, 0)) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", sec)
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", sec/60, sec%60)
	default:
		return fmt.Sprintf("%dh%02dm", sec/3600, sec%3600/60)
	}
}

// Short is the start of a fingerprint, enough to tell relays apart.
func Short(fp string) string {
	if len(fp) > 16 {
		return fp[:16]
	}
	return fp
}
