package subscribers

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// statsMigration keeps running tallies of the readers, so that the staff's
// charts read a few hundred rows however many readers there are. Triggers
// on subscribers keep them right whatever code changes a reader (web form,
// CSV import, bounces, forgetting); the step fills them from the rows that
// exist (for those, the past is rebuilt from confirmed_at and status_at).
//
//	subscriber_tallies  readers now, by status, language and time zone
//	subscriber_days     per UTC day and language: readers who became
//	                    confirmed (joined) or stopped being (departed), and
//	                    how many unsubscribed or bounced
//	subscriber_event_days  per UTC day: bounce, unsubscribe and complaint
//	                    events (what happened after each issue); they stay
//	                    counted when a reader is forgotten
const statsMigration = `
CREATE TABLE subscriber_tallies (
	status   TEXT NOT NULL,
	language TEXT NOT NULL,
	timezone TEXT NOT NULL,
	n        INTEGER NOT NULL,
	PRIMARY KEY (status, language, timezone)
) WITHOUT ROWID;
CREATE TABLE subscriber_days (
	day          INTEGER NOT NULL, -- unix time / 86400 (UTC)
	language     TEXT NOT NULL,
	joined       INTEGER NOT NULL DEFAULT 0,
	departed     INTEGER NOT NULL DEFAULT 0,
	unsubscribed INTEGER NOT NULL DEFAULT 0,
	bounced      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (day, language)
) WITHOUT ROWID;

INSERT INTO subscriber_tallies (status, language, timezone, n)
	SELECT status, language, timezone, COUNT(*) FROM subscribers GROUP BY status, language, timezone;
INSERT INTO subscriber_days (day, language, joined)
	SELECT COALESCE(NULLIF(confirmed_at, 0), status_at) / 86400, language, COUNT(*) FROM subscribers
	WHERE confirmed_at > 0 OR status = 'confirmed' GROUP BY 1, 2
	ON CONFLICT (day, language) DO UPDATE SET joined = joined + excluded.joined;
INSERT INTO subscriber_days (day, language, departed, unsubscribed, bounced)
	SELECT status_at / 86400, language, SUM(confirmed_at > 0), SUM(status = 'unsubscribed'), SUM(status = 'bounced') FROM subscribers
	WHERE status IN ('unsubscribed', 'bounced') GROUP BY 1, 2
	ON CONFLICT (day, language) DO UPDATE SET departed = departed + excluded.departed,
		unsubscribed = unsubscribed + excluded.unsubscribed, bounced = bounced + excluded.bounced;

CREATE TRIGGER subscribers_stats_insert AFTER INSERT ON subscribers BEGIN
	INSERT INTO subscriber_tallies (status, language, timezone, n) VALUES (new.status, new.language, new.timezone, 1)
		ON CONFLICT (status, language, timezone) DO UPDATE SET n = n + 1;
	INSERT INTO subscriber_days (day, language, joined, unsubscribed, bounced)
		SELECT new.status_at / 86400, new.language, new.status = 'confirmed', new.status = 'unsubscribed', new.status = 'bounced'
		WHERE new.status <> 'pending'
		ON CONFLICT (day, language) DO UPDATE SET joined = joined + excluded.joined,
			unsubscribed = unsubscribed + excluded.unsubscribed, bounced = bounced + excluded.bounced;
END;

CREATE TRIGGER subscribers_stats_delete AFTER DELETE ON subscribers BEGIN
	UPDATE subscriber_tallies SET n = n - 1 WHERE status = old.status AND language = old.language AND timezone = old.timezone;
	INSERT INTO subscriber_days (day, language, departed)
		SELECT CAST(strftime('%s', 'now') AS INTEGER) / 86400, old.language, 1 WHERE old.status = 'confirmed'
		ON CONFLICT (day, language) DO UPDATE SET departed = departed + 1;
END;

CREATE TRIGGER subscribers_stats_update AFTER UPDATE OF status, language, timezone ON subscribers
WHEN old.status IS NOT new.status OR old.language IS NOT new.language OR old.timezone IS NOT new.timezone BEGIN
	UPDATE subscriber_tallies SET n = n - 1 WHERE status = old.status AND language = old.language AND timezone = old.timezone;
	INSERT INTO subscriber_tallies (status, language, timezone, n) VALUES (new.status, new.language, new.timezone, 1)
		ON CONFLICT (status, language, timezone) DO UPDATE SET n = n + 1;
	INSERT INTO subscriber_days (day, language, departed)
		SELECT CASE WHEN old.status IS NOT new.status THEN new.status_at ELSE new.updated_at END / 86400, old.language, 1
		WHERE old.status = 'confirmed' AND (new.status <> 'confirmed' OR old.language <> new.language)
		ON CONFLICT (day, language) DO UPDATE SET departed = departed + 1;
	INSERT INTO subscriber_days (day, language, joined, unsubscribed, bounced)
		SELECT CASE WHEN old.status IS NOT new.status THEN new.status_at ELSE new.updated_at END / 86400, new.language,
			new.status = 'confirmed' AND (old.status <> 'confirmed' OR old.language <> new.language),
			new.status = 'unsubscribed' AND old.status <> 'unsubscribed',
			new.status = 'bounced' AND old.status <> 'bounced'
		WHERE (new.status = 'confirmed' AND (old.status <> 'confirmed' OR old.language <> new.language))
			OR (new.status IN ('unsubscribed', 'bounced') AND old.status <> new.status)
		ON CONFLICT (day, language) DO UPDATE SET joined = joined + excluded.joined,
			unsubscribed = unsubscribed + excluded.unsubscribed, bounced = bounced + excluded.bounced;
END;

CREATE TABLE subscriber_event_days (
	day  INTEGER NOT NULL, -- unix time / 86400 (UTC)
	kind TEXT NOT NULL,    -- bounce, unsubscribed (other than for a complaint), complained
	n    INTEGER NOT NULL,
	PRIMARY KEY (day, kind)
) WITHOUT ROWID;
INSERT INTO subscriber_event_days (day, kind, n)
	SELECT at / 86400, CASE WHEN kind = 'unsubscribed' AND detail LIKE 'complaint%' THEN 'complained' ELSE kind END, COUNT(*)
	FROM subscriber_events WHERE kind IN ('bounce', 'unsubscribed', 'complained') GROUP BY 1, 2;
CREATE TRIGGER subscriber_events_counted AFTER INSERT ON subscriber_events
WHEN new.kind IN ('bounce', 'unsubscribed', 'complained') BEGIN
	INSERT INTO subscriber_event_days (day, kind, n)
		VALUES (new.at / 86400, CASE WHEN new.kind = 'unsubscribed' AND new.detail LIKE 'complaint%' THEN 'complained' ELSE new.kind END, 1)
		ON CONFLICT (day, kind) DO UPDATE SET n = n + 1;
END;`

// ReaderWeek is the readers at the end of a week and what happened in it.
type ReaderWeek struct {
	End          time.Time      // the last day of the week (UTC)
	Confirmed    map[string]int // confirmed readers at the end of the week, by language
	Joined       int            // became confirmed readers during the week
	Unsubscribed int
	Bounced      int
}

// ReadersByWeek returns the last n weeks up to and including the one
// ending on the day of until (UTC days), oldest first.
func (s *Store) ReadersByWeek(ctx context.Context, until time.Time, n int) ([]ReaderWeek, error) {
	now, err := s.confirmedNow(ctx)
	if err != nil {
		return nil, err
	}
	lastDay := until.UTC().Unix() / 86400
	firstDay := lastDay - int64(7*n) + 1
	rows, err := s.db.QueryContext(ctx, `SELECT day, language, joined, departed, unsubscribed, bounced FROM subscriber_days WHERE day >= ?`, firstDay)
	if err != nil {
		return nil, fmt.Errorf("subscribers: read days: %w", err)
	}
	defer rows.Close()
	weeks := make([]ReaderWeek, n)
	// after[w][lang]: net change of confirmed readers after the end of week w.
	net := make([]map[string]int, n+1) // net[w]: during week w; net[n]: after the last week
	for i := range net {
		net[i] = map[string]int{}
	}
	for rows.Next() {
		var day int64
		var lang string
		var joined, departed, unsub, bounced int
		if err := rows.Scan(&day, &lang, &joined, &departed, &unsub, &bounced); err != nil {
			return nil, err
		}
		w := int((day - firstDay) / 7)
		if w >= n {
			net[n][lang] += joined - departed
			continue
		}
		net[w][lang] += joined - departed
		weeks[w].Joined += joined
		weeks[w].Unsubscribed += unsub
		weeks[w].Bounced += bounced
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	level := map[string]int{}
	for l, c := range now {
		level[l] = c - net[n][l]
	}
	for w := n - 1; w >= 0; w-- {
		weeks[w].End = time.Unix((firstDay+int64(7*w)+6)*86400, 0).UTC()
		weeks[w].Confirmed = map[string]int{}
		for l, c := range level {
			weeks[w].Confirmed[l] = c
			level[l] = c - net[w][l]
		}
	}
	return weeks, nil
}

// confirmedNow counts the confirmed readers by language.
func (s *Store) confirmedNow(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT language, SUM(n) FROM subscriber_tallies WHERE status = ? GROUP BY language`, Confirmed)
	if err != nil {
		return nil, fmt.Errorf("subscribers: read tallies: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for _, l := range []string{"vi", "en"} {
		out[l] = 0
	}
	for rows.Next() {
		var l string
		var n int
		if err := rows.Scan(&l, &n); err != nil {
			return nil, err
		}
		out[l] = n
	}
	return out, rows.Err()
}

// ZoneCount is the number of confirmed readers in a time zone ("" = not
// set: the digest's zone).
type ZoneCount struct {
	Timezone string
	Readers  int
}

// ReadersByTimezone counts the confirmed readers per time zone, most first.
func (s *Store) ReadersByTimezone(ctx context.Context) ([]ZoneCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT timezone, SUM(n) FROM subscriber_tallies WHERE status = ? GROUP BY timezone HAVING SUM(n) > 0`, Confirmed)
	if err != nil {
		return nil, fmt.Errorf("subscribers: read tallies: %w", err)
	}
	defer rows.Close()
	var out []ZoneCount
	for rows.Next() {
		var z ZoneCount
		if err := rows.Scan(&z.Timezone, &z.Readers); err != nil {
			return nil, err
		}
		out = append(out, z)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Readers != out[j].Readers {
			return out[i].Readers > out[j].Readers
		}
		return out[i].Timezone < out[j].Timezone
	})
	return out, rows.Err()
}

// Aftermath is what readers did in a period after an issue went out.
type Aftermath struct {
	Bounced      int // permanent delivery failures recorded (at send time, or later from bounce reports)
	Complained   int // spam complaints
	Unsubscribed int // other unsubscribes
}

// AftermathBetween counts the bounces, complaints and unsubscribes
// recorded from the day of from up to the day before to's (UTC days).
func (s *Store) AftermathBetween(ctx context.Context, from, to time.Time) (Aftermath, error) {
	var a Aftermath
	rows, err := s.db.QueryContext(ctx, `SELECT kind, SUM(n) FROM subscriber_event_days WHERE day >= ? AND day < ? GROUP BY kind`,
		from.Unix()/86400, to.Unix()/86400)
	if err != nil {
		return a, fmt.Errorf("subscribers: count events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n int
		if err := rows.Scan(&kind, &n); err != nil {
			return a, err
		}
		switch kind {
		case EventBounce:
			a.Bounced = n
		case EventComplained:
			a.Complained = n
		case EventUnsubscribed:
			a.Unsubscribed = n
		}
	}
	return a, rows.Err()
}
