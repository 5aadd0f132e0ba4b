// Package logfmt builds the log/slog handlers of the onion command: plain
// key=value lines (slog's TextHandler), one JSON object per line (slog's
// JSONHandler), and a human form for a terminal: a short time, the level,
// the component's name as a prefix, the message, then the attributes as
// key=value, optionally in colour.
//
// It is not a logging framework: it picks and configures a handler, and the
// human handler only rearranges what slog's TextHandler writes.
package logfmt
