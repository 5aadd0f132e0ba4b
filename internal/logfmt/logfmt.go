package logfmt

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Format is how log lines are written.
type Format string

// The formats. Text is the default: Human on a terminal, Plain elsewhere.
const (
	Text  Format = "text"
	JSON  Format = "json"
	Human Format = "human"
	Plain Format = "plain"
)

// Parse reads a --log-format value; "" means Text.
func Parse(s string) (Format, error) {
	switch f := Format(s); f {
	case "":
		return Text, nil
	case Text, JSON, Human, Plain:
		return f, nil
	}
	return "", fmt.Errorf("--log-format %q: want text or json (or human, plain to force text's two forms)", s)
}

// Resolve turns Text into Human when the output is a terminal, Plain
// otherwise; other formats stay as they are.
func (f Format) Resolve(terminal bool) Format {
	if f != Text {
		return f
	}
	if terminal {
		return Human
	}
	return Plain
}

// Options say how to build a handler.
type Options struct {
	Level slog.Leveler
	// Component names the part logging ("relay", "relay3"): the prefix of a
	// human line, the "role" attribute of the other forms. Empty for none.
	Component string
	// Colour draws a human line's prefix and level in ANSI colours.
	Colour bool
}

// New returns a handler writing f to w; Text, not resolved, is Plain.
func New(w io.Writer, f Format, o Options) slog.Handler {
	ho := &slog.HandlerOptions{Level: o.Level}
	var h slog.Handler
	switch f {
	case JSON:
		ho.ReplaceAttr = stringers
		h = slog.NewJSONHandler(w, ho)
	case Human:
		return newHuman(w, o)
	default:
		h = slog.NewTextHandler(w, ho)
	}
	if o.Component != "" {
		h = h.WithAttrs([]slog.Attr{slog.String("role", o.Component)})
	}
	return h
}

// stringers writes a value that has a String method, and no JSON form of
// its own, as that string: a named number such as a reason code reads
// "next relay not listed" in JSON as in text, not 6.
func stringers(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindAny {
		return a
	}
	v := a.Value.Any()
	if _, ok := v.(json.Marshaler); ok {
		return a
	}
	if _, ok := v.(error); ok {
		return a
	}
	if s, ok := v.(fmt.Stringer); ok {
		return slog.String(a.Key, s.String())
	}
	return a
}
