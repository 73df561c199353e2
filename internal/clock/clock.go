// Package clock is the one place the daemon reads the time and waits on it,
// so that tests can run weeks of schedules in seconds: production code
// takes a Clock (Real by default) instead of calling time.Now, time.After
// or time.Sleep.
package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock tells the time and wakes waiters.
type Clock interface {
	Now() time.Time
	// After sends the time on the channel once d has passed (at once when
	// d <= 0). The channel has room for that one value.
	After(d time.Duration) <-chan time.Time
}

// Real is the system clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Or returns c, or Real when c is nil.
func Or(c Clock) Clock {
	if c == nil {
		return Real
	}
	return c
}

// Sleep waits d on c; it returns ctx's error if ctx ends first.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}

// Manual is a clock that moves only when told to (Set, Advance): for tests
// that need exact control over what happens at which instant.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewManual returns a clock stopped at start.
func NewManual(start time.Time) *Manual { return &Manual{now: start} }

// Now returns the clock's time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// After fires once the clock has been moved d past the present.
func (m *Manual) After(d time.Duration) <-chan time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- m.now
		return ch
	}
	m.waiters = append(m.waiters, waiter{at: m.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock d forward, firing every waiter due by then in
// time order.
func (m *Manual) Advance(d time.Duration) { m.Set(m.Now().Add(d)) }

// Set moves the clock to t (never backwards) and fires the waiters due.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.Before(m.now) {
		return
	}
	m.now = t
	sort.SliceStable(m.waiters, func(i, j int) bool { return m.waiters[i].at.Before(m.waiters[j].at) })
	kept := m.waiters[:0]
	for _, w := range m.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- w.at
	}
	m.waiters = kept
}

// Waiters is the number of pending After calls: a test waits for the code
// under test to be asleep before it moves the clock.
func (m *Manual) Waiters() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.waiters)
}

// WaitsFor tells whether some waiter fires exactly at t: a test waits for
// the job due then to be asleep before it moves the clock there.
func (m *Manual) WaitsFor(t time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.waiters {
		if w.at.Equal(t) {
			return true
		}
	}
	return false
}

// Next is when the earliest waiter fires (zero if none).
func (m *Manual) Next() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	var next time.Time
	for _, w := range m.waiters {
		if next.IsZero() || w.at.Before(next) {
			next = w.at
		}
	}
	return next
}
