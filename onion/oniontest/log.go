package oniontest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// Record is one captured log line with its attributes flattened to text.
type Record struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func (r Record) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %q", r.Level, r.Msg)
	for k, v := range r.Attrs {
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	return b.String()
}

// Logs records everything logged through Logger. When the test fails the
// records are written to its log.
type Logs struct {
	mu      sync.Mutex
	records []Record
	changed chan struct{} // closed and replaced on every record
}

// NewLogs returns an empty recorder that dumps itself into tb's log if tb fails.
func NewLogs(tb testing.TB) *Logs {
	l := &Logs{changed: make(chan struct{})}
	tb.Cleanup(func() {
		if tb.Failed() {
			for _, r := range l.All() {
				tb.Log(r)
			}
		}
	})
	return l
}

// Logger logs at debug level and above into l.
func (l *Logs) Logger() *slog.Logger { return slog.New(&logHandler{l: l}) }

// All returns every record so far.
func (l *Logs) All() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Record(nil), l.records...)
}

// Await waits up to DefaultTimeout for a record that Find(msg, want) would
// return, and returns it; it fails the test if none comes.
func (l *Logs) Await(tb testing.TB, msg string, want map[string]string) Record {
	tb.Helper()
	deadline := time.After(DefaultTimeout)
	for {
		l.mu.Lock()
		changed := l.changed
		l.mu.Unlock()
		if found := l.Find(msg, want); len(found) > 0 {
			return found[0]
		}
		select {
		case <-changed:
		case <-deadline:
			tb.Fatalf("no log record %q %v within %v", msg, want, DefaultTimeout)
			return Record{}
		}
	}
}

// Find returns the records with message msg whose attributes include every
// key and value of want.
func (l *Logs) Find(msg string, want map[string]string) []Record {
	var out []Record
	for _, r := range l.All() {
		if r.Msg != msg {
			continue
		}
		ok := true
		for k, v := range want {
			if r.Attrs[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

type logHandler struct {
	l     *Logs
	attrs []slog.Attr
}

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	rec := Record{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.Attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	h.l.mu.Lock()
	h.l.records = append(h.l.records, rec)
	if h.l.changed != nil {
		close(h.l.changed)
		h.l.changed = make(chan struct{})
	}
	h.l.mu.Unlock()
	return nil
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logHandler{l: h.l, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

// WithGroup flattens: tests match on keys, and no caller uses groups.
func (h *logHandler) WithGroup(string) slog.Handler { return h }
