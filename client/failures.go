package client

import (
	"sync"
	"time"
)

// maxFailures is how many recent failures a Failures keeps.
const maxFailures = 20

// Failure is one recent failure, as the status page lists it.
type Failure struct {
	At     int64  `json:"at"`     // Unix seconds
	What   string `json:"what"`   // what failed: "circuit build"
	Reason string `json:"reason"` // one word: BuildFailureReason
	Detail string `json:"detail"` // the error, which names relays but never a destination
}

// Failures keeps the last maxFailures failures, the newest first. The
// zero value is ready; it is safe for concurrent use.
type Failures struct {
	mu   sync.Mutex
	list []Failure
}

// Build records a failed circuit build; a nil err is not a failure. It has
// OnBuild's signature.
func (f *Failures) Build(_ time.Duration, err error) {
	if err == nil {
		return
	}
	detail := err.Error()
	if len(detail) > 300 {
		detail = detail[:300] + "…"
	}
	f.add(Failure{At: time.Now().Unix(), What: "circuit build", Reason: BuildFailureReason(err), Detail: detail})
}

func (f *Failures) add(x Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = append([]Failure{x}, f.list[:min(len(f.list), maxFailures-1)]...)
}

// Recent is the failures kept, newest first; never nil.
func (f *Failures) Recent() []Failure {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Failure{}, f.list...)
}
