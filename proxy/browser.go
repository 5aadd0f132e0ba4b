package proxy

// Opening the URLs hidden services send, in the system browser, under the
// user's --open-urls setting. Only http and https URLs of sane length pass,
// and a burst is rate-limited, so a service cannot spam or reach file:// or
// javascript:.

import (
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"onion/onion"
)

// URL-opening bounds.
const (
	urlBurst       = 3 // URLs opened at most per urlWindow
	urlWindow      = 30 * time.Second
	openerDeadline = 10 * time.Second
)

// OpenMode is the --open-urls setting.
type OpenMode string

// Open modes.
const (
	OpenAsk    OpenMode = "ask"
	OpenAlways OpenMode = "always"
	OpenNever  OpenMode = "never"
)

// ParseOpenMode reads --open-urls; "" means ask when there is a terminal.
func ParseOpenMode(s string, haveTerminal bool) (OpenMode, error) {
	switch OpenMode(strings.ToLower(s)) {
	case "":
		if haveTerminal {
			return OpenAsk, nil
		}
		return OpenNever, nil
	case OpenAsk:
		if !haveTerminal {
			return OpenNever, nil
		}
		return OpenAsk, nil
	case OpenAlways:
		return OpenAlways, nil
	case OpenNever:
		return OpenNever, nil
	}
	return "", fmt.Errorf("--open-urls %q: want ask, always or never", s)
}

// URLOpener opens service URLs.
type URLOpener struct {
	Mode   OpenMode
	Prompt Prompter           // for OpenAsk
	Out    io.Writer          // where it says what it opened (the proxy's terminal)
	Open   func(string) error // nil: the platform's opener (xdg-open, open, rundll32)
	Logger *slog.Logger

	mu     sync.Mutex
	recent []time.Time
}

// Handle decides about one URL from a service and opens it if allowed.
func (o *URLOpener) Handle(raw string) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := onion.CheckURL(raw); err != nil {
		log.Warn("refused URL from hidden service", "err", err)
		return
	}
	switch o.Mode {
	case OpenNever:
		log.Info("hidden service sent a URL; not opening it (--open-urls never)", "url", raw)
		return
	case OpenAsk:
		if o.Prompt == nil {
			log.Info("hidden service sent a URL; no terminal to ask, not opening it", "url", raw)
			return
		}
		ans, err := o.Prompt.Ask(fmt.Sprintf("Hidden service asks to open %s in your browser (it will see your address). Open? [y/N] ", raw), false)
		if err != nil || !strings.EqualFold(strings.TrimSpace(ans), "y") {
			log.Info("URL not opened", "url", raw)
			return
		}
	}
	if !o.allow(time.Now()) {
		log.Warn("URL not opened: too many in a short time", "url", raw, "limit", urlBurst, "per", urlWindow)
		return
	}
	open := o.Open
	if open == nil {
		open = SystemOpen
	}
	if err := open(raw); err != nil {
		log.Warn("opening URL failed", "url", raw, "err", err)
		return
	}
	log.Info("opened URL from hidden service in the system browser", "url", raw)
	if o.Out != nil {
		fmt.Fprintf(o.Out, "opened %s in your browser\n", raw)
	}
}

func (o *URLOpener) allow(now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	keep := o.recent[:0]
	for _, t := range o.recent {
		if now.Sub(t) < urlWindow {
			keep = append(keep, t)
		}
	}
	o.recent = keep
	if len(o.recent) >= urlBurst {
		return false
	}
	o.recent = append(o.recent, now)
	return true
}

// SystemOpen hands raw to the platform's URL opener. The URL is one argv
// element, never parsed by a shell.
func SystemOpen(raw string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", raw)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", raw)
	default:
		cmd = exec.Command("xdg-open", raw)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(openerDeadline):
		return nil // a browser that stays in the foreground: it started
	}
}
