package directory

// The per-source limit on relay publications, PROTOCOL.md §7.5.

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// DefaultPublishRate is how many relay publications one source address may
// make per minute (and at once), when Config.PublishRate is zero: a relay
// publishes about twice a minute, so this leaves room for many relays
// behind one address (a network on one machine) while bounding the
// signature checks one source can cause.
const DefaultPublishRate = 120

// maxRateSources bounds the sources the limiter remembers; past it, a new
// source is refused until idle ones are forgotten.
const maxRateSources = 65536

// rateLimiter is a token bucket per source IP: burst tokens, refilled at
// burst per minute. It is safe for concurrent use.
type rateLimiter struct {
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(perMinute int, now func() time.Time) *rateLimiter {
	return &rateLimiter{burst: float64(perMinute), now: now, buckets: make(map[netip.Addr]*bucket)}
}

// allow takes one token for r's source address, reporting whether it had one.
func (l *rateLimiter) allow(r *http.Request) bool {
	ip := sourceIP(r)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[ip]
	if !ok {
		if len(l.buckets) >= maxRateSources {
			l.forgetFullLocked(now)
			if len(l.buckets) >= maxRateSources {
				return false
			}
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[ip] = b
	}
	b.refill(now, l.burst)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *bucket) refill(now time.Time, burst float64) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(burst, b.tokens+burst*elapsed.Minutes())
		b.at = now
	}
}

// forgetFullLocked drops the buckets that have refilled: their sources
// would start afresh anyway.
func (l *rateLimiter) forgetFullLocked(now time.Time) {
	for ip, b := range l.buckets {
		if b.refill(now, l.burst); b.tokens >= l.burst {
			delete(l.buckets, ip)
		}
	}
}

func sourceIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}
