package bench

import (
	"io"
	"time"
)

// Defaults of a Config.
const (
	DefaultDownloadBytes = 100_000_000 // 100 MB, the size the targets are stated for
	QuickDownloadBytes   = 8_000_000
	DefaultTimeout       = 5 * time.Minute
	// Streams is the number of concurrent streams of the aggregate figures.
	Streams = 8
)

const (
	networkStarted  = "started"
	networkExternal = "external"
)

// Config is what `onion bench` was asked for.
type Config struct {
	// Exe is the onion executable that starts the network (`Exe up ...`).
	// "" means this process's own executable.
	Exe string
	// Socks, if set, is the SOCKS5 address of a proxy already running: it
	// is measured instead of a network started for the run.
	Socks string
	// InfoFile is the --info-file of the `onion up` behind Socks. Without
	// it the CPU and memory of the network and the hidden server are not
	// measured.
	InfoFile string
	// DownloadBytes is the size of one download; 0 means
	// DefaultDownloadBytes, or QuickDownloadBytes when Quick.
	DownloadBytes int64
	// Quick runs few repetitions of everything: a smoke test, not figures.
	Quick bool
	// JSON writes the report as one JSON object instead of a table.
	JSON bool
	// Timeout bounds the whole run; 0 means DefaultTimeout.
	Timeout time.Duration
	// Stdout receives the report; nil discards it.
	Stdout io.Writer
	// Stderr receives progress and, when the run fails, the network's last
	// lines of output; nil means silence.
	Stderr io.Writer
	// Live redraws progress in place: set it when Stderr is a terminal.
	Live bool
	// Hosts measures circuit builds, warm TTFB and the one-stream rate on
	// a network spread over network namespaces (hosts.go); needs root.
	Hosts bool
	// LoadOnly measures only the latency under load (load.go), with the
	// idle baseline it needs.
	LoadOnly bool
	// LoadCap is each download's rate in the capped under-load case, B/s;
	// 0 means LoadCapRate.
	LoadCap float64
	// NoCongestionControl starts the network with its proxy at
	// --no-congestion-control (stream windows alone), to compare runs.
	NoCongestionControl bool
}

// loadCap is each download's rate in the capped under-load case.
func (c Config) loadCap() float64 {
	if c.LoadCap > 0 {
		return c.LoadCap
	}
	return LoadCapRate
}

// plan is how many times each figure is measured, and the bounds that keep
// a run within Timeout on a slow machine.
type plan struct {
	size                     int64
	builds, ttfbs, contacts  int
	transfers                int
	linearReps               int           // small downloads for CPU linearity (linear.go)
	idle                     []int         // idle circuits read at, ascending, beyond warm-up (idle.go)
	latencyBudget            time.Duration // per latency figure, all repetitions
	loadBudget               time.Duration // per under-load case, all rounds (load.go)
	transferBudget           time.Duration // per transfer figure, all repetitions
	opTimeout, transferLimit time.Duration // one operation, one transfer
}

func (c *Config) plan() plan {
	p := plan{
		size: DefaultDownloadBytes, builds: 50, ttfbs: 20, contacts: 5, transfers: 3,
		linearReps: 10, idle: []int{1000, 2500, 5000, 7500, 10000},
		latencyBudget: 15 * time.Second, transferBudget: 20 * time.Second,
		opTimeout: 15 * time.Second, transferLimit: 60 * time.Second,
		loadBudget: 40 * time.Second,
	}
	if c.Quick {
		p = plan{
			size: QuickDownloadBytes, builds: 5, ttfbs: 5, contacts: 2, transfers: 1,
			linearReps: 3, idle: []int{50, 100, 200, 400},
			latencyBudget: 5 * time.Second, transferBudget: 10 * time.Second,
			opTimeout: 10 * time.Second, transferLimit: 20 * time.Second,
			loadBudget: 5 * time.Second,
		}
	}
	if c.DownloadBytes > 0 {
		p.size = c.DownloadBytes
	}
	return p
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}
