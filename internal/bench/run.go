package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"onion/internal/procstat"
)

// runner is one run: what it started, and the report it fills.
type runner struct {
	cfg   Config
	plan  plan
	rep   *Report
	prog  *progress
	id    string // in every SOCKS username, so that none was used before
	net   *network
	dest  *dest
	plain *hopProc   // go-socks5 in a process of its own
	floor []*hopProc // the hop floor: go-socks5, then three forwarders (hop.go)
	wait  *hopProc   // a second onion proxy with --wait-connected (waitproxy.go); nil for --socks
	errs  []error
	// expired reports whether the run's Timeout has passed: figures that
	// fail after that were cut short, not broken.
	expired func() bool
}

// Run measures the network as cfg says, writes the report to cfg.Stdout
// and returns it. Everything it started is stopped before it returns,
// also when ctx ends. A figure that could not be measured is reported as
// an error in the report and makes Run's error non-nil; a run that ctx
// interrupted returns ctx's error and no report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Hosts {
		return runHosts(ctx, cfg)
	}
	r := &runner{cfg: cfg, plan: cfg.plan(), rep: newReport(), prog: newProgress(cfg.Stderr, cfg.Live)}
	r.id = randomID()
	start := time.Now()
	r.rep.Started = start.UTC().Truncate(time.Second)
	r.describeMachine()

	runCtx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	r.expired = func() bool { return runCtx.Err() != nil }
	err := r.setUp(runCtx)
	if err == nil {
		r.measure(runCtx)
	}
	r.prog.end()
	if runCtx.Err() != nil && ctx.Err() == nil && err == nil {
		r.failed(fmt.Errorf("the run took longer than --timeout %v; later figures are missing", cfg.timeout()))
	}
	if stopErr := r.tearDown(); err == nil {
		r.failed(stopErr)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	if err != nil {
		r.showNetworkLog()
		return nil, err
	}
	r.rep.Duration = time.Since(start).Round(time.Millisecond).Seconds()
	if err := r.write(); err != nil {
		return r.rep, err
	}
	if len(r.errs) > 0 {
		r.showNetworkLog()
	}
	return r.rep, errors.Join(r.errs...)
}

func (r *runner) describeMachine() {
	r.rep.Machine = Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(),
		CPUModel: procstat.CPUModel(), Go: runtime.Version()}
	if load, err := procstat.LoadAvg(); err == nil {
		r.rep.Machine.Load1 = &load
	}
}

// setUp starts the destination, the plain proxy and the network.
func (r *runner) setUp(ctx context.Context) error {
	var err error
	if r.dest, err = startDest(); err != nil {
		return fmt.Errorf("destination server: %w", err)
	}
	exe, err := r.exe()
	if err != nil {
		return err
	}
	if r.plain, err = startHop(ctx, exe, HopSOCKS, ""); err != nil {
		return fmt.Errorf("plain SOCKS5 proxy: %w", err)
	}
	if err := r.startFloor(ctx, exe); err != nil {
		return fmt.Errorf("hop floor: %w", err)
	}
	if r.cfg.Socks != "" {
		r.net, err = externalNetwork(r.cfg.Socks, r.cfg.InfoFile)
		r.rep.Setup.Network = networkExternal
	} else {
		r.prog.begin("starting the network (onion up)", 0, false)
		r.net, err = r.startNetwork(ctx)
		r.rep.Setup.Network = networkStarted
	}
	if err != nil {
		return err
	}
	if r.net.up != nil {
		if r.wait, err = startWaitProxy(ctx, exe, r.net.info); err != nil {
			return fmt.Errorf("second proxy: %w", err)
		}
	}
	r.describeSetup()
	return nil
}

func (r *runner) startNetwork(ctx context.Context) (*network, error) {
	exe, err := r.exe()
	if err != nil {
		return nil, err
	}
	extra := []string{"--forward", r.forwardArg()}
	if r.cfg.NoCongestionControl {
		extra = append(extra, noCCFlagValue)
	}
	return startNetwork(ctx, exe, extra...)
}

// exe is the onion executable that bench starts its processes from.
func (r *runner) exe() (string, error) {
	if r.cfg.Exe != "" {
		return r.cfg.Exe, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the onion executable: %w", err)
	}
	return exe, nil
}

// startFloor starts the hop floor's chain from the destination back:
// three forwarders, then a SOCKS5 proxy that sends every CONNECT to the
// first of them.
func (r *runner) startFloor(ctx context.Context, exe string) error {
	next := r.dest.httpAddr()
	for range 3 {
		h, err := startHop(ctx, exe, HopForward, next)
		if err != nil {
			return err
		}
		r.floor = append(r.floor, h)
		next = h.addr
	}
	h, err := startHop(ctx, exe, HopSOCKS, next)
	if err != nil {
		return err
	}
	r.floor = append(r.floor, h)
	return nil
}

func (r *runner) describeSetup() {
	s := &r.rep.Setup
	s.DownloadBytes, s.Streams, s.Quick = r.plan.size, Streams, r.cfg.Quick
	if info := r.net.info; info != nil {
		s.Relays, s.Exits = len(info.Relays), info.Exits()
		s.Hidden = info.OnionAddress != "" && info.DemoUser != ""
	}
	if r.net.info == nil {
		r.rep.note("no --info-file for --socks: the network's CPU and memory and the hidden server are not measured")
	}
}

// tearDown stops what setUp started, the network first.
func (r *runner) tearDown() error {
	errs := []error{r.wait.Close()} // a client of the network: before it
	if r.net != nil {
		r.prog.begin("stopping the network", 0, false)
		errs = append(errs, r.net.stop())
		r.prog.end()
	}
	errs = append(errs, r.plain.Close())
	for _, h := range r.floor {
		errs = append(errs, h.Close())
	}
	if r.dest != nil {
		errs = append(errs, r.dest.Close())
	}
	return errors.Join(errs...)
}

// failed records an error that no figure holds.
func (r *runner) failed(err error) {
	if err != nil {
		r.errs = append(r.errs, err)
		r.rep.note("error: " + err.Error())
	}
}

// record keeps a figure's error for Run's result. Once the run's timeout
// has passed, failures are only marked: the timeout is the one error.
func (r *runner) record(f *Figure, err error) {
	switch {
	case err == nil:
	case r.expired():
		f.fail(errNotMeasured)
	default:
		f.fail(err)
		r.errs = append(r.errs, fmt.Errorf("%s: %w", f.Label, err))
	}
}

var errNotMeasured = errors.New("not measured: the run's --timeout passed")

func (r *runner) write() error {
	out := r.cfg.Stdout
	if out == nil {
		out = io.Discard
	}
	if r.cfg.JSON {
		return r.rep.WriteJSON(out)
	}
	return r.rep.WriteTable(out)
}

// showNetworkLog prints the last lines of the network's output, which
// usually say why a figure failed.
func (r *runner) showNetworkLog() {
	if r.cfg.Stderr == nil || r.net == nil || r.net.log == nil {
		return
	}
	if tail := r.net.log.tail(); tail != "" {
		fmt.Fprintf(r.cfg.Stderr, "bench: the network's last output:\n%s\n", tail)
	}
}

func randomID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}
