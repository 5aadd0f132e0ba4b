package bench

import "testing"

func TestCPURatio(t *testing.T) {
	// Three 100 MB downloads for 6 CPU-s, ten 10 MB ones for 2.5 CPU-s:
	// 2 s against 0.25 s each.
	big := &CPUPhase{Bytes: 300e6, Seconds: map[string]float64{roleProxy: 2, roleRelays: 4, roleHidden: 9}}
	small := &CPUPhase{Bytes: 100e6, Seconds: map[string]float64{roleProxy: 1, roleRelays: 1.5}}
	if got := transferCPU(big, 100e6); got != 2 {
		t.Errorf("transferCPU(big) = %v, want 2 (the hidden server is not counted)", got)
	}
	if got := cpuRatio(big, small, 100e6, 10e6); got == nil || *got != 8 {
		t.Errorf("cpuRatio = %v, want 8", got)
	}
	if got := cpuRatio(big, &CPUPhase{Bytes: 100e6, Seconds: map[string]float64{}}, 100e6, 10e6); got != nil {
		t.Errorf("no CPU in the small phase: ratio %v, want nil", *got)
	}
	if got := cpuRatio(big, &CPUPhase{}, 100e6, 10e6); got != nil {
		t.Errorf("no bytes in the small phase: ratio %v, want nil", *got)
	}
}
