package subscribers

import (
	"context"
	"fmt"
)

// StatusCount is how many subscribers have one status and language.
type StatusCount struct {
	Status, Language string
	N                int
}

// CountByStatus counts the subscribers by status and language, over the
// (status, language) index: no table row is read.
func (s *Store) CountByStatus(ctx context.Context) ([]StatusCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, language, COUNT(*) FROM subscribers GROUP BY status, language ORDER BY status, language`)
	if err != nil {
		return nil, fmt.Errorf("subscribers: count: %w", err)
	}
	defer rows.Close()
	var out []StatusCount
	for rows.Next() {
		var c StatusCount
		if err := rows.Scan(&c.Status, &c.Language, &c.N); err != nil {
			return nil, fmt.Errorf("subscribers: count: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// EventKindComplaint is the event of a spam complaint about a digest (a
// feedback report from a mailbox provider). Complaints recorded before
// they had their own event are unsubscriptions whose detail starts with
// "complaint", and are counted too.
const EventKindComplaint = EventComplained

// EventCounts are the recorded events that tell about deliverability.
type EventCounts struct {
	Bounces      int // permanent failures (each one, before a reader is marked bounced)
	Complaints   int
	Unsubscribes int
}

// CountEvents counts bounce, complaint and unsubscribe events over the
// (kind, at) index. Events go when their reader is forgotten, so the
// counts can go down.
func (s *Store) CountEvents(ctx context.Context) (EventCounts, error) {
	var c EventCounts
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM subscriber_events WHERE kind = ?),
		(SELECT COUNT(*) FROM subscriber_events WHERE kind = ?)
		  + (SELECT COUNT(*) FROM subscriber_events WHERE kind = ? AND detail LIKE 'complaint%'),
		(SELECT COUNT(*) FROM subscriber_events WHERE kind = ?)`,
		EventBounce, EventKindComplaint, EventUnsubscribed, EventUnsubscribed).Scan(&c.Bounces, &c.Complaints, &c.Unsubscribes)
	if err != nil {
		return c, fmt.Errorf("subscribers: count events: %w", err)
	}
	return c, nil
}
