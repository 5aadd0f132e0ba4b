package bench

import (
	"math"
	"slices"
)

// median is the middle sample, or the mean of the two middle samples for an
// even count; NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100): the
// smallest sample with at least p% of the samples at or below it; NaN for
// none. With fewer than 100 samples p99 is therefore the maximum, which is
// the honest answer: there is no finer tail to report.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 || p <= 0 || p > 100 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	// p*n first: exact for integer p, so p99 of 100 samples is the 99th.
	rank := int(math.Ceil(p * float64(len(s)) / 100))
	return s[max(rank, 1)-1]
}
