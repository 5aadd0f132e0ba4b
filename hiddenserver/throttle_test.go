package hiddenserver

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The tests below run in synctest bubbles: time.Now is a fake clock that
// only time.Sleep moves.

func defaultThrottle() *throttle {
	return newThrottle(Budget{DefaultUserBurst, DefaultUserRefill}, Budget{DefaultServiceBurst, DefaultServiceRefill}, DefaultMaxLockout, time.Now)
}

// TestBudgetBackOff: a guesser who tries once a second gets a user's burst
// at once, then guesses back after 10 s, 10 s, 20 s, 40 s, and from then
// on every 60 s (DefaultMaxLockout), never later. (The service's budget is
// made too large to matter here.)
func TestBudgetBackOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := newThrottle(Budget{DefaultUserBurst, DefaultUserRefill}, Budget{1 << 20, time.Millisecond}, DefaultMaxLockout, time.Now)
		start := time.Now()
		var judged []time.Duration
		for ; time.Since(start) < 8*time.Minute; time.Sleep(time.Second) {
			for th.judge("alice", true, false) == denied {
				judged = append(judged, time.Since(start))
			}
		}
		s := time.Second
		want := []time.Duration{0, 0, 0, 0, 0, 10 * s, 20 * s, 40 * s, 80 * s, 140 * s, 200 * s, 260 * s, 320 * s, 380 * s, 440 * s}
		if !slices.Equal(judged, want) {
			t.Fatalf("guesses judged at %v, want %v", judged, want)
		}
	})
}

// TestConcurrentProofsShareTheLastGuess: proofs arriving at once cannot
// each find the last guess, and a right password is refused while a
// budget is empty; while it holds a guess, right passwords spend none.
func TestConcurrentProofsShareTheLastGuess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := defaultThrottle()
		for range DefaultUserBurst - 1 {
			th.judge("alice", true, false)
		}
		if got := judgeAtOnce(th, 64, false); got[denied] != 1 || got[throttled] != 63 {
			t.Fatalf("64 wrong proofs against the last guess: %v, want 1 denied and 63 throttled", got)
		}
		if v := th.judge("alice", true, true); v != throttled {
			t.Fatalf("the right password with no guess left: verdict %v, want throttled", v)
		}
		time.Sleep(DefaultMaxLockout)
		if got := judgeAtOnce(th, 64, true); got[accepted] != 64 {
			t.Fatalf("64 right proofs with a guess left: %v, want all accepted", got)
		}
	})
}

func judgeAtOnce(th *throttle, n int, right bool) map[verdict]int {
	var mu sync.Mutex
	got := map[verdict]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			v := th.judge("alice", true, right)
			mu.Lock()
			got[v]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return got
}

// TestServiceBudgetCoversEveryName: guessing many names, unknown ones
// included, spends the service's budget, which then refuses even a known
// user's right password; unknown names leave nothing in memory, and a
// user's budget is forgotten once full again.
func TestServiceBudgetCoversEveryName(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := defaultThrottle()
		th.judge("alice", true, false)
		n := 0
		for i := range 10 * MaxUsers {
			if th.judge(fmt.Sprint("nobody", i), false, false) == denied {
				n++
			}
		}
		if n != DefaultServiceBurst-1 {
			t.Errorf("unknown names had %d guesses judged, want %d (the service's budget less alice's one)", n, DefaultServiceBurst-1)
		}
		if len(th.users) != 1 {
			t.Errorf("the throttle holds %d users' budgets after guesses at unknown names; want alice's alone", len(th.users))
		}
		if v := th.judge("alice", true, true); v != throttled {
			t.Errorf("the right password with the service's budget empty: verdict %v, want throttled", v)
		}
		time.Sleep(DefaultMaxLockout)
		if v := th.judge("alice", true, true); v != accepted {
			t.Errorf("the right password %v after the last failure: verdict %v, want accepted", DefaultMaxLockout, v)
		}
		time.Sleep(10 * time.Minute)
		th.judge("alice", true, true)
		if len(th.users) != 0 {
			t.Errorf("alice's full budget is still held")
		}
	})
}

// TestServiceBudgetHidesWhichNamesExist: wrong proofs for a known name
// leave the service's budget as the same proofs for an unknown name do,
// so a user of the service who probes that budget by logging in (right
// proofs are refused while it is empty) cannot tell which names exist.
func TestServiceBudgetHidesWhichNamesExist(t *testing.T) {
	probe := func(name string, known bool) (got []verdict) {
		synctest.Test(t, func(t *testing.T) {
			th := defaultThrottle()
			for range DefaultServiceBurst {
				for range MaxAuthAttempts { // one stream's worth of guesses a second
					th.judge(name, known, false)
				}
				got = append(got, th.judge("bob", true, true))
				time.Sleep(time.Second)
			}
		})
		return got
	}
	known, unknown := probe("alice", true), probe("nobody", false)
	if !slices.Equal(known, unknown) {
		t.Fatalf("bob's logins while alice is guessed: %v; while an unknown name is: %v", known, unknown)
	}
}
