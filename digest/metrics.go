package digest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/store"
)

// DigestStat is one digest's issues, for monitoring.
type DigestStat struct {
	Digest   string
	ByStatus map[string]int // issues by status (draft, approved, sending, sent)
	// LastSentAt is when the newest sent issue finished (zero if none);
	// LastSendingAt when the newest issue started going out.
	LastSentAt, LastSendingAt time.Time
	// FirstCreatedAt is when the digest's first issue was made.
	FirstCreatedAt time.Time
	// LatestMailedID is the newest issue that has gone out, or is going out
	// (0 if none): the one whose outbox monitoring looks at.
	LatestMailedID int64
}

// Stats reads every digest's issue counts in one pass over the (small)
// issues table.
func (s *Store) Stats(ctx context.Context) ([]DigestStat, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT digest, status, COUNT(*), MAX(sent_at), MAX(sending_at), MIN(created_at), MAX(id)
		FROM issues GROUP BY digest, status ORDER BY digest`)
	if err != nil {
		return nil, fmt.Errorf("digest: read stats: %w", err)
	}
	defer rows.Close()
	var out []DigestStat
	for rows.Next() {
		var key, status string
		var n int
		var sent, sending, created, maxID int64
		if err := rows.Scan(&key, &status, &n, &sent, &sending, &created, &maxID); err != nil {
			return nil, fmt.Errorf("digest: read stats: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Digest != key {
			out = append(out, DigestStat{Digest: key, ByStatus: map[string]int{}, FirstCreatedAt: store.Time(created)})
		}
		d := &out[len(out)-1]
		d.ByStatus[status] = n
		if t := store.Time(created); t.Before(d.FirstCreatedAt) {
			d.FirstCreatedAt = t
		}
		if t := store.Time(sent); t.After(d.LastSentAt) {
			d.LastSentAt = t
		}
		if t := store.Time(sending); t.After(d.LastSendingAt) {
			d.LastSendingAt = t
		}
		if (status == StatusSent || status == StatusSending) && maxID > d.LatestMailedID {
			d.LatestMailedID = maxID
		}
	}
	return out, rows.Err()
}

// ThemeCounts counts the classified items by theme (theme.Other for items in
// none); an item with several themes counts once for each.
func (s *Store) ThemeCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT themes, COUNT(*) FROM item_themes GROUP BY themes`)
	if err != nil {
		return nil, fmt.Errorf("digest: count themes: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var themes string
		var n int
		if err := rows.Scan(&themes, &n); err != nil {
			return nil, fmt.Errorf("digest: count themes: %w", err)
		}
		if themes == "" {
			out[theme.Other] += n
			continue
		}
		for _, t := range strings.Split(themes, ",") {
			out[t] += n
		}
	}
	return out, rows.Err()
}
