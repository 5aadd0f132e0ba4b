package bench

// CPU linearity ("10x the bytes costs 10x the CPU"): one-stream
// downloads of a tenth of the size, on the circuit of the full-size ones,
// against the CPU those already measured (cpu_download_1).

import (
	"context"
	"fmt"
)

// linearFactor is how many times smaller the second download is.
const linearFactor = 10

// cpuLinearity measures the small downloads' CPU and the ratio of one full
// download's CPU to one small download's.
func (r *runner) cpuLinearity(ctx context.Context) {
	big := r.rep.CPU["cpu_download_1"]
	if r.net.up == nil || big == nil {
		return // idleCircuits noted --socks; a failed big download has its own error
	}
	size := r.plan.size / linearFactor
	rp := reps{label: "onion: download " + mb(size) + " (CPU linearity)", n: r.plan.linearReps,
		budget: r.plan.transferBudget, timeout: r.plan.transferLimit, bytes: size}
	// The circuit of download_1 is still open: no build is in these figures.
	user := r.user("dl", 0)
	_, err := r.withCPU(ctx, "cpu_download_small", fmt.Sprintf("CPU per 100 MB, 1-stream download of %s (proxy + relays)", mb(size)),
		rp, r.downloadSize(route{socks: r.net.socks}, user, size))
	r.record(r.rep.Figures["cpu_download_small"], err)

	f := r.rep.add("cpu_linear", fmt.Sprintf("CPU of one %s download vs one of %s (linear: %dx)", mb(r.plan.size), mb(size), linearFactor), unitRatio)
	if small := r.rep.CPU["cpu_download_small"]; small != nil {
		if x := cpuRatio(big, small, r.plan.size, size); x != nil {
			f.setSamples([]float64{*x}, false)
		}
	}
}

// transferCPU is the CPU seconds the proxy and relays spent, in phase p,
// per transfer of size bytes.
func transferCPU(p *CPUPhase, size int64) float64 {
	return (p.Seconds[roleProxy] + p.Seconds[roleRelays]) * float64(size) / float64(p.Bytes)
}

// cpuRatio is the CPU of one bigSize transfer of phase big over that of
// one smallSize transfer of phase small; nil if either moved or cost
// nothing.
func cpuRatio(big, small *CPUPhase, bigSize, smallSize int64) *float64 {
	if big.Bytes <= 0 || small.Bytes <= 0 {
		return nil
	}
	s := transferCPU(small, smallSize)
	if s <= 0 {
		return nil
	}
	return num(transferCPU(big, bigSize) / s)
}
