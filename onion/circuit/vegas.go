package circuit

// Circuit congestion control, PROTOCOL.md §6.1: Tor-Vegas (Tor's proposal
// 324) in cells of up to 16 KiB. This file is the controller alone: no
// sockets, no goroutines, no clock of its own (the caller passes the time),
// so that tests drive it on fake time.

import (
	"errors"
	"time"
)

// VegasParams are the controller's constants, in cells (DATA messages).
type VegasParams struct {
	SendmeInc int // DATA cells acknowledged by one CIRCUIT_SENDME
	CwndInit  int // the window at start, in slow start
	CwndMin   int // the window never goes below this
	CwndMax   int // nor above this
	// Queue thresholds: queue = cwnd - BDP, BDP = cwnd × RTTmin / RTT.
	Alpha int // below: grow by SendmeInc per window
	Beta  int // above: shrink by SendmeInc per window
	Gamma int // in slow start, above: leave slow start (cwnd = BDP + Gamma)
	Delta int // above: cut at once to BDP + Delta − SendmeInc
}

// DefaultVegas is what this implementation uses. Tor's thresholds in bytes
// (α 3, β 4, γ 3, δ 5 times 62 cells of 509 bytes: ~95–158 KB) are 6–10 of
// our 16 KiB cells; these keep a circuit's standing queue at 4–8 cells
// (64–128 KiB). A SENDME every 4 cells (64 KiB) gives an RTT sample per
// 64 KiB, Tor's 31 × 509 bytes being ~16 KB.
//
// The floor is high (32 cells, 512 KiB, half a stream window) because on
// a busy machine the RTT grows with CPU contention, not only with queues,
// and Vegas reads both as queueing: with a floor of 8 cells a download on
// loopback lost ~30% of its rate (docs/PERFORMANCE.md).
var DefaultVegas = VegasParams{
	SendmeInc: 4,
	CwndInit:  32,
	CwndMin:   32,
	CwndMax:   512,
	Alpha:     4,
	Beta:      8,
	Gamma:     8,
	Delta:     16,
}

// ErrUnexpectedSendme is a CIRCUIT_SENDME acknowledging cells never sent.
var ErrUnexpectedSendme = errors.New("circuit: CIRCUIT_SENDME for cells not sent")

// Vegas is one direction's sender-side controller of a circuit. It is not
// safe for concurrent use (Flow wraps it).
type Vegas struct {
	p         VegasParams
	cwnd      int
	inflight  int
	slowStart bool
	sinceMark int         // cells sent since the last timed one
	marks     []time.Time // send times of the cells whose SENDME is due, oldest first
	rttMin    time.Duration
	rtt       time.Duration // EWMA of the samples
	acks      int           // SENDMEs since the window last changed
}

// NewVegas returns a controller in slow start with p.CwndInit.
func NewVegas(p VegasParams) *Vegas {
	return &Vegas{p: p, cwnd: p.CwndInit, slowStart: true}
}

// CanSend reports whether one more DATA cell may be sent now.
func (v *Vegas) CanSend() bool { return v.inflight < v.cwnd }

// Cwnd is the congestion window, in cells.
func (v *Vegas) Cwnd() int { return v.cwnd }

// Inflight is the cells sent and not yet acknowledged.
func (v *Vegas) Inflight() int { return v.inflight }

// RTT is the smoothed round trip and the smallest smoothed value seen.
func (v *Vegas) RTT() (cur, min time.Duration) { return v.rtt, v.rttMin }

// SlowStart reports whether the controller is still in slow start.
func (v *Vegas) SlowStart() bool { return v.slowStart }

// OnSend counts one DATA cell sent at now. Every SendmeInc-th cell is
// timed: its CIRCUIT_SENDME gives the RTT sample.
func (v *Vegas) OnSend(now time.Time) {
	v.inflight++
	v.sinceMark++
	if v.sinceMark == v.p.SendmeInc {
		v.sinceMark = 0
		v.marks = append(v.marks, now)
	}
}

// OnSendme takes one CIRCUIT_SENDME that arrived at now: SendmeInc cells
// are acknowledged, the RTT sampled, and once per window's worth of acks
// the window moves.
func (v *Vegas) OnSendme(now time.Time) error {
	if len(v.marks) == 0 {
		return ErrUnexpectedSendme
	}
	sent := v.marks[0]
	copy(v.marks, v.marks[1:]) // at most CwndMax/SendmeInc entries
	v.marks = v.marks[:len(v.marks)-1]
	v.inflight -= v.p.SendmeInc
	v.sample(max(now.Sub(sent), time.Microsecond))
	v.acks++
	if v.acks*v.p.SendmeInc >= v.cwnd {
		v.acks = 0
		v.update()
	}
	return nil
}

// sample folds one RTT into the EWMA (over about half a window of
// samples, at least 2 and at most 10, as Tor does) and the minimum.
func (v *Vegas) sample(rtt time.Duration) {
	if v.rtt == 0 {
		v.rtt = rtt
	} else {
		n := time.Duration(min(max(v.cwnd/v.p.SendmeInc/2, 2), 10))
		v.rtt = (2*rtt + (n-1)*v.rtt) / (n + 1)
	}
	if v.rttMin == 0 || v.rtt < v.rttMin {
		v.rttMin = v.rtt
	}
}

// update moves the window once per window's worth of acks (once per RTT).
func (v *Vegas) update() {
	bdp := int(int64(v.cwnd) * int64(v.rttMin) / int64(v.rtt))
	queue := v.cwnd - bdp
	switch {
	case v.slowStart && queue > v.p.Gamma:
		v.slowStart = false
		v.cwnd = bdp + v.p.Gamma
	case v.slowStart:
		v.cwnd *= 2
	case queue > v.p.Delta:
		v.cwnd = bdp + v.p.Delta - v.p.SendmeInc
	case queue > v.p.Beta:
		v.cwnd -= v.p.SendmeInc
	case queue < v.p.Alpha:
		v.cwnd += v.p.SendmeInc
	}
	if v.cwnd >= v.p.CwndMax {
		v.slowStart = false
	}
	v.cwnd = min(max(v.cwnd, v.p.CwndMin), v.p.CwndMax)
}
