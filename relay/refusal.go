package relay

// Logging refusals for resource limits: a peer that pushes on a bound gets
// refused as often as it tries, and the log must not grow with it.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"onion/onion"
)

// refusalLogEvery is how often one kind of refusal is logged above debug.
const refusalLogEvery = time.Minute

// refusals remembers, per kind and bound, when a refusal was last logged
// and how many came since.
type refusals struct {
	mu   sync.Mutex
	last map[string]time.Time
	n    map[string]int
}

// refused logs a refusal: at debug every time, with debugAttrs (which may
// name the peer's address); above debug the first time and then at most
// every refusalLogEvery per kind and err (which must name no address), with
// the number refused meanwhile. A resource bound's refusal is a warning:
// the relay is under pressure; any other (a broken peer) is information.
func (r *Relay) refused(kind string, err error, debugAttrs ...any) {
	r.logger.Debug(kind, append([]any{"err", err}, debugAttrs...)...)
	rf := &r.refusals
	key := kind + ": " + err.Error()
	now := r.cfg.Now()
	rf.mu.Lock()
	if rf.last == nil {
		rf.last, rf.n = make(map[string]time.Time), make(map[string]int)
	}
	rf.n[key]++
	last, seen := rf.last[key]
	n := rf.n[key]
	log := !seen || now.Sub(last) >= refusalLogEvery
	if log {
		rf.last[key], rf.n[key] = now, 0
	}
	rf.mu.Unlock()
	if !log {
		return
	}
	level := slog.LevelInfo
	if errors.Is(err, errLimit) {
		level = slog.LevelWarn
	}
	r.logger.Log(context.Background(), level, kind, "err", err, "refused", n, "next_log_after", refusalLogEvery)
}

// Why a connection's preface exchange failed, without the addresses that
// a net.OpError's text carries (a client's IP is for debug logs only).
var (
	errNoPreface     = errors.New("no preface within the handshake timeout")
	errClosedEarly   = errors.New("closed before its preface")
	errPrefaceFailed = errors.New("preface exchange failed")
	errNoTLS         = errors.New("no TLS handshake within the handshake timeout")
	errTLSFailed     = errors.New("TLS handshake failed (not TLS 1.3, or not an onion link)")
)

// tlsError is prefaceError for the TLS handshake under the link.
func tlsError(err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return errNoTLS
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errClosedEarly
	}
	return errTLSFailed
}

func prefaceError(err error) error {
	switch {
	case errors.Is(err, onion.ErrBadPreface):
		return onion.ErrBadPreface
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errNoPreface
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errClosedEarly
	}
	return errPrefaceFailed
}
