package public

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiterTable keeps one token bucket per key (client network or target
// address). Idle buckets are dropped so the table cannot grow without
// bound under a flood of distinct keys.
type limiterTable struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	max     int
	entries map[string]*limEntry
}

type limEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiterTable(per time.Duration, burst int) *limiterTable {
	return &limiterTable{every: rate.Every(per), burst: burst, max: 100_000, entries: map[string]*limEntry{}}
}

// allow takes one token for key at now.
func (t *limiterTable) allow(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[key]
	if !ok {
		if len(t.entries) >= t.max {
			t.prune(now)
		}
		e = &limEntry{lim: rate.NewLimiter(t.every, t.burst)}
		t.entries[key] = e
	}
	e.seen = now
	return e.lim.AllowN(now, 1)
}

// prune drops buckets that have refilled completely (forgetting them loses
// nothing); if that is not enough, the table is cleared.
func (t *limiterTable) prune(now time.Time) {
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

// remoteNetwork is the default client key: the address of the peer, with
// IPv6 reduced to its /64 (one customer's network).
func remoteNetwork(r *http.Request) string {
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
