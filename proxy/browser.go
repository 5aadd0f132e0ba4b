package proxy

// Opening the URLs hidden services send, in the system browser, under the
// user's --open-urls setting. Only http and https URLs of sane length that
// name a public host pass (onion.CheckURL), so a service cannot reach
// file://, javascript: or the web pages of the user's machine and network;
// a burst is rate-limited before anyone is asked, so a service cannot spam
// the browser or the terminal.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"onion/internal/prompt"
	"onion/onion"
)

// URL-opening bounds.
const (
	urlBurst       = 3 // URLs opened at most per urlWindow
	urlWindow      = 30 * time.Second
	openerDeadline = 10 * time.Second
	// urlPromptTimeout bounds how long a question about a URL stays open.
	urlPromptTimeout = time.Minute
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

// alwaysWarning is what --open-urls always gives away, said once at start.
const alwaysWarning = "warning: --open-urls always: every URL a hidden service sends opens in your browser " +
	"without asking; the browser connects directly, not through the onion network, so each such site " +
	"sees your IP address, and the URL can tie that address to what you did on the service\n"

// URLOpener opens service URLs.
type URLOpener struct {
	Mode   OpenMode
	Prompt Prompter           // for OpenAsk; shared with every other prompt (StdinPrompter)
	Out    io.Writer          // where it says what it opened (the proxy's terminal)
	Open   func(string) error // nil: the platform's opener (xdg-open, open, rundll32)
	Logger *slog.Logger

	mu     sync.Mutex
	recent []time.Time
}

// NewURLOpener returns the opener for mode, asking on prompt and saying
// what it opened on out. With OpenAlways it first warns on out (or, with
// none, in the log) what that mode gives away.
func NewURLOpener(mode OpenMode, prompt Prompter, out io.Writer, logger *slog.Logger) *URLOpener {
	o := &URLOpener{Mode: mode, Prompt: prompt, Out: out, Logger: logger}
	switch {
	case mode != OpenAlways:
	case out != nil:
		fmt.Fprint(out, alwaysWarning)
	default:
		o.logger().Warn(strings.TrimSpace(alwaysWarning))
	}
	return o
}

func (o *URLOpener) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Handle decides about one URL from a service and opens it if allowed.
func (o *URLOpener) Handle(raw string) {
	log := o.logger()
	if err := onion.CheckURL(raw); err != nil {
		log.Warn("refused URL from hidden service", "err", err)
		return
	}
	switch {
	case o.Mode == OpenNever:
		log.Info("hidden service sent a URL; not opening it (--open-urls never)", "url", raw)
		return
	case o.Mode == OpenAsk && o.Prompt == nil:
		log.Info("hidden service sent a URL; no terminal to ask, not opening it", "url", raw)
		return
	}
	// Counted before asking: a service that floods URL replies gets at
	// most urlBurst questions per urlWindow; the rest are dropped unasked.
	if !o.allow(time.Now()) {
		log.Warn("URL not opened: too many in a short time", "url", raw, "limit", urlBurst, "per", urlWindow)
		return
	}
	if o.Mode == OpenAsk && !o.confirm(raw) {
		log.Info("URL not opened", "url", raw)
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
		fmt.Fprintf(o.Out, "opened %s in your browser\n", terminalSafe(raw))
	}
}

// confirm shows the whole URL, escaped, and opens only on "y".
func (o *URLOpener) confirm(raw string) bool {
	// A question left unanswered is withdrawn, and it gives way to any
	// other (a login): it must not wait for whatever is typed next, which
	// may be meant for a password prompt.
	ctx, cancel := context.WithTimeout(prompt.Yielding(context.Background()), urlPromptTimeout)
	defer cancel()
	ans, err := o.Prompt.Ask(ctx, fmt.Sprintf("Hidden service asks to open %s in your browser (it will see your address). Open? [y/N] ", terminalSafe(raw)), false)
	return err == nil && strings.EqualFold(strings.TrimSpace(ans), "y")
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
		return openError(cmd.Args[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return openError(cmd.Args[0], err)
	case <-time.After(openerDeadline):
		return nil // a browser that stays in the foreground: it started
	}
}
