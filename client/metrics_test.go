package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onion/onion"
	"onion/onion/circuit"
)

func TestBuildFailureReason(t *testing.T) {
	for err, want := range map[error]string{
		fmt.Errorf("x: %w", context.DeadlineExceeded): "timeout",
		context.Canceled: "canceled",
		fmt.Errorf("hop 2: %w", &circuit.ExtendError{Reason: 3}):         "extend_refused",
		fmt.Errorf("create: %w", onion.ErrHandshake):                     "handshake",
		circuit.ErrLinkClosed:                                            "link_closed",
		fmt.Errorf("connect to first hop: %w", &net.OpError{Op: "dial"}): "connect",
		errors.New("something else"):                                     "other",
	} {
		if got := BuildFailureReason(err); got != want {
			t.Errorf("BuildFailureReason(%v) = %q, want %q", err, got, want)
		}
	}
}

func TestBuildMetrics(t *testing.T) {
	b := NewBuildMetrics("test")
	reg := prometheus.NewRegistry()
	reg.MustRegister(b.Collectors()...)
	b.Observe(20*time.Millisecond, nil)
	b.Observe(time.Second, context.DeadlineExceeded)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.Metric {
			key := f.GetName()
			for _, l := range m.Label {
				key += " " + l.GetValue()
			}
			got[key] = m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	want := map[string]float64{"test_circuit_builds_total ok": 1, "test_circuit_builds_total failed": 1,
		"test_circuit_build_failures_total timeout": 1, "test_circuit_build_seconds": 2}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

// TestFailures: the newest first, at most maxFailures, successes not kept.
func TestFailures(t *testing.T) {
	var f Failures
	if got := f.Recent(); got == nil || len(got) != 0 {
		t.Fatalf("empty: %v", got)
	}
	f.Build(time.Second, nil)
	for i := range maxFailures + 5 {
		f.Build(time.Second, fmt.Errorf("build %d: %w", i, context.DeadlineExceeded))
	}
	got := f.Recent()
	if len(got) != maxFailures || got[0].Detail != fmt.Sprintf("build %d: context deadline exceeded", maxFailures+4) || got[0].Reason != "timeout" {
		t.Errorf("%d kept, newest %+v", len(got), got[0])
	}
}
