package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

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
	if got := testutil.ToFloat64(b.builds.WithLabelValues("ok")); got != 1 {
		t.Errorf("ok builds %v, want 1", got)
	}
	if got := testutil.ToFloat64(b.failures.WithLabelValues("timeout")); got != 1 {
		t.Errorf("timeout failures %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "test_circuit_build_seconds"); err != nil || n != 1 {
		t.Errorf("histogram: %d series, %v", n, err)
	}
}
