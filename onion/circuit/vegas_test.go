package circuit

import (
	"testing"
	"time"
)

// pathSim is a scripted path on fake time: one bottleneck that forwards
// rate cells per millisecond, FIFO, and a fixed propagation delay there and
// back (settable, for spikes). The sender sends whenever the controller
// lets it; every SendmeInc-th cell's SENDME comes back delay after the
// cell leaves the bottleneck. Nothing sleeps: time jumps from ack to ack.
type pathSim struct {
	v       *Vegas
	t0      time.Time
	now     time.Duration
	rate    float64       // cells per ms
	delay   time.Duration // round trip outside the bottleneck
	lastDep time.Duration // when the bottleneck finishes the last cell queued
	acks    []time.Duration
	sent    int
	// delivered counts the cells out of the bottleneck; queued sums, per
	// cell sent, the time it waited behind others (the queueing delay).
	delivered   []time.Duration
	queueDelays []time.Duration
}

func newPathSim(rate float64, delay time.Duration) *pathSim {
	return &pathSim{v: NewVegas(DefaultVegas), t0: time.Unix(1e9, 0), rate: rate, delay: delay}
}

func (p *pathSim) service() time.Duration { return time.Duration(float64(time.Millisecond) / p.rate) }

// run advances the simulation until now reaches end.
func (p *pathSim) run(t *testing.T, end time.Duration) {
	t.Helper()
	for p.now < end {
		for p.v.CanSend() {
			start := max(p.now, p.lastDep)
			p.queueDelays = append(p.queueDelays, start-p.now)
			p.lastDep = start + p.service()
			p.delivered = append(p.delivered, p.lastDep)
			p.v.OnSend(p.t0.Add(p.now))
			p.sent++
			if p.sent%DefaultVegas.SendmeInc == 0 {
				at := p.lastDep + p.delay
				if n := len(p.acks); n > 0 && at < p.acks[n-1] {
					at = p.acks[n-1] // SENDMEs arrive in order
				}
				p.acks = append(p.acks, at)
			}
		}
		if len(p.acks) == 0 {
			t.Fatalf("at %v: window %d full (%d in flight) and no SENDME due", p.now, p.v.Cwnd(), p.v.Inflight())
		}
		p.now = p.acks[0]
		p.acks = p.acks[1:]
		if err := p.v.OnSendme(p.t0.Add(p.now)); err != nil {
			t.Fatal(err)
		}
	}
}

// rateBetween is the delivered cells per ms in [from, to).
func (p *pathSim) rateBetween(from, to time.Duration) float64 {
	n := 0
	for _, d := range p.delivered {
		if d >= from && d < to {
			n++
		}
	}
	return float64(n) / (float64(to-from) / float64(time.Millisecond))
}

// maxQueueDelay is the longest wait behind other cells of the cells sent
// from the index'th on.
func (p *pathSim) maxQueueDelay(from int) time.Duration {
	var m time.Duration
	for _, d := range p.queueDelays[from:] {
		m = max(m, d)
	}
	return m
}

// The path's bandwidth-delay product is 80 cells (20 cells/ms, 4 ms): the
// window starts at CwndInit and must grow to fill it, and then hold a queue of
// no more than a few cells.
func TestVegasFillsUnloadedPath(t *testing.T) {
	p := newPathSim(20, 4*time.Millisecond)
	p.run(t, 300*time.Millisecond)
	if got := p.rateBetween(200*time.Millisecond, 300*time.Millisecond); got < 19 {
		t.Errorf("rate %.2f cells/ms, want ≥ 19 of 20", got)
	}
	if p.v.SlowStart() {
		t.Error("still in slow start")
	}
	bdp := 80
	if c := p.v.Cwnd(); c < bdp || c > bdp+DefaultVegas.Delta+DefaultVegas.SendmeInc {
		t.Errorf("cwnd %d, want %d–%d", c, bdp, bdp+DefaultVegas.Delta+DefaultVegas.SendmeInc)
	}
	half := len(p.queueDelays) / 2
	if q := p.maxQueueDelay(half); q > time.Duration(DefaultVegas.Delta+DefaultVegas.SendmeInc)*p.service() {
		t.Errorf("cells waited up to %v in the queue, want ≤ %d cells' time", q, DefaultVegas.Delta+DefaultVegas.SendmeInc)
	}
	t.Logf("cwnd %d, rtt %v", p.v.Cwnd(), p.v.rtt)
}

// Cross traffic takes half the bottleneck: the queue grows, the RTT with
// it, and the window must come down to the new BDP (40) plus a few cells.
func TestVegasShrinksOnQueueingDelay(t *testing.T) {
	p := newPathSim(20, 4*time.Millisecond)
	p.run(t, 300*time.Millisecond)
	before := p.v.Cwnd()
	p.rate = 10
	p.run(t, 600*time.Millisecond)
	bdp := 40
	if c := p.v.Cwnd(); c >= before || c > bdp+DefaultVegas.Beta+DefaultVegas.SendmeInc {
		t.Errorf("cwnd %d (was %d), want ≤ %d", c, before, bdp+DefaultVegas.Beta+DefaultVegas.SendmeInc)
	}
	if got := p.rateBetween(500*time.Millisecond, 600*time.Millisecond); got < 9.5 {
		t.Errorf("rate %.2f cells/ms, want ≥ 9.5 of 10", got)
	}
	half := len(p.queueDelays) - len(p.queueDelays)/4
	if q := p.maxQueueDelay(half); q > time.Duration(DefaultVegas.Delta+DefaultVegas.SendmeInc)*p.service() {
		t.Errorf("cells waited up to %v in the queue, want ≤ %d cells' time", q, DefaultVegas.Delta+DefaultVegas.SendmeInc)
	}
}

// A 50 ms delay spike (a stalled hop, say) makes the window collapse; once
// it is over the window must grow back and fill the path again.
func TestVegasRecoversAfterDelaySpike(t *testing.T) {
	p := newPathSim(20, 4*time.Millisecond)
	p.run(t, 300*time.Millisecond)
	filled := p.v.Cwnd()
	p.delay = 40 * time.Millisecond
	p.run(t, 350*time.Millisecond)
	low := p.v.Cwnd()
	p.delay = 4 * time.Millisecond
	p.run(t, 700*time.Millisecond)
	if low >= filled {
		t.Errorf("cwnd %d during the spike, not below %d", low, filled)
	}
	if got := p.rateBetween(600*time.Millisecond, 700*time.Millisecond); got < 19 {
		t.Errorf("rate %.2f cells/ms after the spike, want ≥ 19 of 20", got)
	}
	if c := p.v.Cwnd(); c < 80 {
		t.Errorf("cwnd %d after the spike, want ≥ the BDP, 80", c)
	}
	t.Logf("cwnd %d filled, %d in the spike, %d after", filled, low, p.v.Cwnd())
}

func TestVegasBounds(t *testing.T) {
	v := NewVegas(DefaultVegas)
	now := time.Unix(0, 0)
	if err := v.OnSendme(now); err != ErrUnexpectedSendme {
		t.Fatalf("SENDME with nothing sent: %v", err)
	}
	// An RTT that only grows drives the window to its floor, never below.
	for i := range 2000 {
		for v.CanSend() {
			v.OnSend(now)
		}
		now = now.Add(time.Duration(i+1) * time.Millisecond)
		if err := v.OnSendme(now); err != nil {
			t.Fatal(err)
		}
	}
	if v.Cwnd() != DefaultVegas.CwndMin {
		t.Errorf("cwnd %d, want the floor %d", v.Cwnd(), DefaultVegas.CwndMin)
	}
	// A path that never queues grows it to the cap, never past it.
	p := newPathSim(1e6, 4*time.Millisecond)
	for end := time.Duration(0); end < time.Second; end += 10 * time.Millisecond {
		p.run(t, end)
		if p.v.Cwnd() > DefaultVegas.CwndMax {
			t.Fatalf("cwnd %d past the cap", p.v.Cwnd())
		}
	}
	if p.v.Cwnd() != DefaultVegas.CwndMax {
		t.Errorf("cwnd %d, want the cap %d", p.v.Cwnd(), DefaultVegas.CwndMax)
	}
}

// BenchmarkVegasCell is the controller's cost per DATA cell: one OnSend,
// and a quarter of an OnSendme.
func BenchmarkVegasCell(b *testing.B) {
	v := NewVegas(DefaultVegas)
	now := time.Unix(0, 0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if !v.CanSend() {
			now = now.Add(time.Millisecond)
			if err := v.OnSendme(now); err != nil {
				b.Fatal(err)
			}
		}
		v.OnSend(now)
	}
}
