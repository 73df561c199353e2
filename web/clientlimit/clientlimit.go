// Package clientlimit keeps one token bucket (golang.org/x/time/rate) per
// key, a client's network or a target address, for the limits of the web
// pages: sign-ups per client and per mailbox, failed staff logins per
// client. Idle buckets are dropped, so the table cannot grow without bound
// under a flood of distinct keys.
package clientlimit

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Table is the buckets of one limit. It is safe for concurrent use.
type Table struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	max     int
	entries map[string]*entry
}

type entry struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a table allowing burst events per key, and one more every per.
func New(per time.Duration, burst int) *Table {
	return &Table{every: rate.Every(per), burst: burst, max: 100_000, entries: map[string]*entry{}}
}

// Allow takes one token for key at now; false when none is left.
func (t *Table) Allow(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.bucket(key, now).AllowN(now, 1)
}

// Exhausted reports whether key has no token left at now, without taking
// one: for limits that count only some outcomes (Take them afterwards).
func (t *Table) Exhausted(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[key]
	return ok && e.lim.TokensAt(now) < 1
}

// Take uses one token of key at now (the balance may go below zero).
func (t *Table) Take(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bucket(key, now).ReserveN(now, 1)
}

// Wait is how long key waits at now for its next token (0 if it has one).
func (t *Table) Wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[key]
	if !ok {
		return 0
	}
	missing := 1 - e.lim.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(t.every) * float64(time.Second))
}

func (t *Table) bucket(key string, now time.Time) *rate.Limiter {
	e, ok := t.entries[key]
	if !ok {
		if len(t.entries) >= t.max {
			t.prune(now)
		}
		e = &entry{lim: rate.NewLimiter(t.every, t.burst)}
		t.entries[key] = e
	}
	e.seen = now
	return e.lim
}

// prune drops buckets that have refilled completely (forgetting them loses
// nothing); if that is not enough, the table is cleared.
func (t *Table) prune(now time.Time) {
	full := time.Duration(float64(t.burst) / float64(t.every) * float64(time.Second))
	for k, e := range t.entries {
		if now.Sub(e.seen) > full {
			delete(t.entries, k)
		}
	}
	if len(t.entries) >= t.max {
		clear(t.entries)
	}
}

// RemoteNetwork is the default client key: the address of the peer, with
// IPv6 reduced to its /64 (one customer's network).
func RemoteNetwork(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
