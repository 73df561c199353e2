package digest

import (
	"context"
	"fmt"
	"time"
)

// ThemeWeek is what the sent issues of one week held, per section.
type ThemeWeek struct {
	End       time.Time      // the last day of the week (UTC)
	Included  map[string]int // items sent, by section (theme key or "other")
	Collected map[string]int // items placed in the drafts (sent or not), by section
}

// ThemeWeeks counts the items of the digest's issues that went out in the
// last n weeks up to and including the one ending on the day of until (UTC
// days), oldest first.
func (s *Store) ThemeWeeks(ctx context.Context, digestKey string, until time.Time, n int) ([]ThemeWeek, error) {
	lastDay := until.UTC().Unix() / 86400
	firstDay := lastDay - int64(7*n) + 1
	out := make([]ThemeWeek, n)
	for w := range out {
		out[w] = ThemeWeek{End: time.Unix((firstDay+int64(7*w)+6)*86400, 0).UTC(), Included: map[string]int{}, Collected: map[string]int{}}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT i.sending_at / 86400, ii.theme, SUM(ii.included), COUNT(*)
		FROM issues i JOIN issue_items ii ON ii.issue_id = i.id
		WHERE i.digest = ? AND i.status IN (?, ?) AND i.sending_at >= ? AND i.sending_at < ?
		GROUP BY i.id, ii.theme`, digestKey, StatusSending, StatusSent, firstDay*86400, (lastDay+1)*86400)
	if err != nil {
		return nil, fmt.Errorf("digest: count items per theme: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day int64
		var th string
		var included, collected int
		if err := rows.Scan(&day, &th, &included, &collected); err != nil {
			return nil, err
		}
		w := (day - firstDay) / 7
		out[w].Included[th] += included
		out[w].Collected[th] += collected
	}
	return out, rows.Err()
}
