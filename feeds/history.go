package feeds

import (
	"context"
	"fmt"
	"time"
)

// historyMigration keeps a day-by-day record of each feed's fetches for the
// staff's feed-health chart. Triggers write it, so every way a fetch is
// recorded (new items, not modified, failure) counts: a fetch whose
// last_success_at equals its last_fetch_at succeeded.
const historyMigration = `
CREATE TABLE feed_days (
	feed_id   INTEGER NOT NULL,
	day       INTEGER NOT NULL, -- unix time / 86400 (UTC)
	ok        INTEGER NOT NULL DEFAULT 0,
	failed    INTEGER NOT NULL DEFAULT 0,
	new_items INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (feed_id, day)
) WITHOUT ROWID;
CREATE TRIGGER feeds_fetch_recorded AFTER UPDATE OF last_fetch_at ON feeds
WHEN new.last_fetch_at > 0 BEGIN
	INSERT INTO feed_days (feed_id, day, ok, failed)
		VALUES (new.id, new.last_fetch_at / 86400, new.last_success_at = new.last_fetch_at, new.last_success_at <> new.last_fetch_at)
		ON CONFLICT (feed_id, day) DO UPDATE SET ok = ok + excluded.ok, failed = failed + excluded.failed;
END;
CREATE TRIGGER items_counted AFTER INSERT ON items BEGIN
	INSERT INTO feed_days (feed_id, day, new_items) VALUES (new.feed_id, new.first_seen_at / 86400, 1)
		ON CONFLICT (feed_id, day) DO UPDATE SET new_items = new_items + 1;
END;`

// FetchDay is one day of fetching, over every feed.
type FetchDay struct {
	Day          time.Time // midnight UTC
	OK, Failed   int       // fetches
	NewItems     int
	FailingFeeds int // feeds with at least one failed fetch that day
}

// FetchHistory returns the last n days up to and including the day of
// until (UTC), oldest first; days without fetches are zero.
func (s *Store) FetchHistory(ctx context.Context, until time.Time, n int) ([]FetchDay, error) {
	last := until.UTC().Unix() / 86400
	first := last - int64(n) + 1
	out := make([]FetchDay, n)
	for i := range out {
		out[i].Day = time.Unix((first+int64(i))*86400, 0).UTC()
	}
	rows, err := s.db.QueryContext(ctx, `SELECT day, SUM(ok), SUM(failed), SUM(new_items), SUM(failed > 0)
		FROM feed_days WHERE day BETWEEN ? AND ? GROUP BY day`, first, last)
	if err != nil {
		return nil, fmt.Errorf("feeds: read fetch history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day int64
		var d FetchDay
		if err := rows.Scan(&day, &d.OK, &d.Failed, &d.NewItems, &d.FailingFeeds); err != nil {
			return nil, err
		}
		d.Day = out[day-first].Day
		out[day-first] = d
	}
	return out, rows.Err()
}
