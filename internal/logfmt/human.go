package logfmt

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
)

// timeLayout is a human line's time: the date is seldom what a reader of a
// terminal wants.
const timeLayout = "15:04:05.000"

// ANSI colours.
const (
	dim    = "\x1b[2m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// human writes "15:04:05.000 INFO  relay | message key=value ...". Its
// attributes (with their groups and WithAttrs) are written by an inner
// TextHandler into a buffer, time, level and message left out; the human
// part goes in front.
type human struct {
	out   *output
	inner slog.Handler
	o     Options
}

// output is the writer and buffer a handler shares with those derived
// from it by WithAttrs and WithGroup; mu keeps their lines whole.
type output struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
}

func newHuman(w io.Writer, o Options) *human {
	out := &output{w: w}
	inner := slog.NewTextHandler(&out.buf, &slog.HandlerOptions{
		Level: o.Level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
				return slog.Attr{}
			}
			return a
		},
	})
	return &human{out: out, inner: inner, o: o}
}

func (h *human) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *human) WithAttrs(as []slog.Attr) slog.Handler {
	return &human{out: h.out, inner: h.inner.WithAttrs(as), o: h.o}
}

func (h *human) WithGroup(name string) slog.Handler {
	return &human{out: h.out, inner: h.inner.WithGroup(name), o: h.o}
}

func (h *human) Handle(ctx context.Context, r slog.Record) error {
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	h.out.buf.Reset()
	if err := h.inner.Handle(ctx, r); err != nil {
		return err
	}
	attrs := bytes.TrimSpace(h.out.buf.Bytes())
	var line bytes.Buffer
	h.paint(&line, dim, r.Time.Format(timeLayout))
	line.WriteByte(' ')
	h.paint(&line, levelColour(r.Level), padLevel(r.Level))
	line.WriteByte(' ')
	if h.o.Component != "" {
		h.paint(&line, cyan, h.o.Component+" |")
		line.WriteByte(' ')
	}
	if r.Level >= slog.LevelWarn {
		h.paint(&line, bold, r.Message)
	} else {
		line.WriteString(r.Message)
	}
	if len(attrs) > 0 {
		line.WriteByte(' ')
		line.Write(attrs)
	}
	line.WriteByte('\n')
	_, err := h.out.w.Write(line.Bytes())
	return err
}

// paint writes s, in colour c when the handler has colour.
func (h *human) paint(b *bytes.Buffer, c, s string) {
	if !h.o.Colour || c == "" {
		b.WriteString(s)
		return
	}
	b.WriteString(c)
	b.WriteString(s)
	b.WriteString(reset)
}

func levelColour(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return red
	case l >= slog.LevelWarn:
		return yellow
	case l < slog.LevelInfo:
		return dim
	}
	return ""
}

// padLevel is the level's name padded to five, so that messages line up.
func padLevel(l slog.Level) string {
	s := l.String()
	for len(s) < 5 {
		s += " "
	}
	return s
}
