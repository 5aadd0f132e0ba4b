package hiddenserver

// The login budget (PROTOCOL.md §12.2): how many wrong proofs the service
// judges, per user and for the whole service, whatever the number of
// streams, sessions and circuits they arrive on. A parallel dictionary
// attack therefore gets no more guesses per unit of time than a serial one.

import (
	"sync"
	"time"
)

// Defaults of the login budget. A user's budget holds 5 guesses and gets
// one back every 10 s; the service's holds 20 and gets one back every
// 2.5 s, so guessing many users at once (or unknown names) is at most 4
// times as fast as guessing one. Each guess spent beyond a budget's burst
// doubles the time until its next guess comes back, never beyond
// DefaultMaxLockout: a lockout ends at most 60 s after the last guess
// spent, which is the last failure unless proofs kept arriving for a user
// already locked out (those spend the service's budget, see judge).
const (
	DefaultUserBurst     = 5
	DefaultUserRefill    = 10 * time.Second
	DefaultServiceBurst  = 20
	DefaultServiceRefill = 2500 * time.Millisecond
	DefaultMaxLockout    = 60 * time.Second
)

// Budget is a token bucket of password guesses.
type Budget struct {
	Burst  int           // guesses that may be judged back to back
	Refill time.Duration // one guess comes back per Refill, before back-off
}

func (b Budget) orDefault(burst int, refill time.Duration) Budget {
	if b.Burst <= 0 {
		b.Burst = burst
	}
	if b.Refill <= 0 {
		b.Refill = refill
	}
	return b
}

// verdict is what the budget makes of one proof.
type verdict int

const (
	accepted  verdict = iota // right, and a guess was left
	denied                   // judged wrong: one guess spent
	throttled                // not judged: no guess left, right or wrong
)

func (v verdict) String() string {
	return [...]string{accepted: "accepted", denied: "denied", throttled: "throttled"}[v]
}

// throttle holds the budgets of one service. Judging a proof and spending
// its guess happen under one lock, so concurrent proofs cannot each find
// the last guess: a failure is recorded before the next proof is judged.
type throttle struct {
	user, service policy
	now           func() time.Time

	mu    sync.Mutex
	users map[string]*bucket // users in the users file whose budget is not full
	all   bucket             // the whole service's budget
}

func newThrottle(user, service Budget, maxLockout time.Duration, now func() time.Time) *throttle {
	return &throttle{
		user:    policy{user, maxLockout},
		service: policy{service, maxLockout},
		now:     now,
		users:   make(map[string]*bucket),
		all:     bucket{tokens: service.Burst},
	}
}

// judge decides a proof for user; known says the users file has the name,
// right that the proof verified (never for an unknown name). A right proof
// is accepted only while both the service's and the user's budgets hold a
// guess (otherwise a budget would tell the guesser which guess was right)
// and spends none. Every other proof the service's budget admits spends a
// guess of it, and a wrong one judged for a known user a guess of that
// user's too. An unknown name is never stored: the map grows with the
// users file, not with the names a client makes up.
func (t *throttle) judge(user string, known, right bool) verdict {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.service.refill(&t.all, now)
	if t.all.tokens == 0 {
		return throttled
	}
	if known {
		ub := t.userLocked(user, now)
		if ub.tokens == 0 {
			// Spent all the same, as for an unknown name: the service's
			// budget (which a user of the service can probe by logging
			// in) must not tell which names exist.
			t.service.spend(&t.all, now)
			return throttled
		}
		if right {
			return accepted
		}
		t.user.spend(ub, now)
		t.users[user] = ub
	}
	t.service.spend(&t.all, now)
	return denied
}

// userLocked is user's budget as of now. A full budget is the same as a
// fresh one, so it is dropped from the map.
func (t *throttle) userLocked(user string, now time.Time) *bucket {
	b := t.users[user]
	if b == nil {
		return &bucket{tokens: t.user.Burst}
	}
	t.user.refill(b, now)
	if b.tokens == t.user.Burst {
		delete(t.users, user)
	}
	return b
}

// bucket is the state of one budget.
type bucket struct {
	tokens  int       // guesses left
	strikes int       // guesses spent since the bucket was last full
	next    time.Time // when the next guess comes back, while not full
}

// policy applies a Budget, with back-off capped at max, to buckets.
type policy struct {
	Budget
	max time.Duration
}

// refill gives back the guesses due by now, one per period; a full bucket
// forgets its strikes.
func (p policy) refill(b *bucket, now time.Time) {
	for b.tokens < p.Burst && !now.Before(b.next) {
		b.tokens++
		b.next = b.next.Add(p.period(b))
	}
	if b.tokens == p.Burst {
		b.strikes = 0
	}
}

// spend takes one guess. The next comes back at most max after it: next
// is set when the bucket leaves full, or at a refill no later than this
// spend, each time at most one period (≤ max) ahead.
func (p policy) spend(b *bucket, now time.Time) {
	if b.tokens == p.Burst {
		b.next = now.Add(p.period(b))
	}
	b.tokens--
	b.strikes++
}

// period is the wait for the next guess: Refill, doubled for each strike
// beyond the burst, at most max. The loop ends by max, not by strikes.
func (p policy) period(b *bucket) time.Duration {
	d := p.Refill
	for over := b.strikes - p.Burst; over > 0 && d < p.max; over-- {
		d *= 2
	}
	return min(d, p.max)
}
