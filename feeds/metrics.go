package feeds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// FeedStat is one configured feed's state, for monitoring.
type FeedStat struct {
	Name          string
	Enabled       bool // false once disabled after repeated failures
	ErrorCount    int  // consecutive failures
	LastSuccessAt time.Time
	LastFetchAt   time.Time
	CreatedAt     time.Time
}

// FeedStats reads the state of every configured feed (one small query; no
// item counts).
func (s *Store) FeedStats(ctx context.Context) ([]FeedStat, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, enabled, error_count, last_success_at, last_fetch_at, created_at
		FROM feeds WHERE configured = 1 ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("feeds: read stats: %w", err)
	}
	defer rows.Close()
	var out []FeedStat
	for rows.Next() {
		var f FeedStat
		var ok, last, created int64
		if err := rows.Scan(&f.Name, &f.Enabled, &f.ErrorCount, &ok, &last, &created); err != nil {
			return nil, fmt.Errorf("feeds: read stats: %w", err)
		}
		f.LastSuccessAt, f.LastFetchAt, f.CreatedAt = store.Time(ok), store.Time(last), store.Time(created)
		out = append(out, f)
	}
	return out, rows.Err()
}

// Observe makes the poller tell fn the outcome and duration of every fetch
// it makes (for metrics). Call it before Run or FetchAll. Fetches cut short
// by shutting down are not reported.
func (p *Poller) Observe(fn func(FeedResult, time.Duration)) { p.observe = fn }

func (p *Poller) observed(r FeedResult, took time.Duration) {
	if p.observe == nil || errors.Is(r.Err, context.Canceled) {
		return
	}
	p.observe(r, took)
}
