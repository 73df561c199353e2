package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Event kinds of the mail that comes back after a message was accepted
// (besides EventBounce, a hard bounce, and EventComplained).
const (
	// EventSoftBounce: a temporary failure (4.x.x, a full mailbox); a
	// reader is marked bounced after soft_bounce_limit of them within
	// soft_bounce_window.
	EventSoftBounce = "soft_bounce"
)

// reportsMigration gives reader events the details of the report they
// came from, and makes a report about one delivery count once: Ref names
// what the report is about (a delivery, or the report itself), and one
// (reader, kind, ref) is recorded once, however often the report arrives.
const reportsMigration = `ALTER TABLE subscriber_events ADD COLUMN status_code TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriber_events ADD COLUMN reporting_mta TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriber_events ADD COLUMN ref TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX subscriber_events_ref ON subscriber_events (subscriber_id, kind, ref) WHERE ref <> '';`

// Report is what a bounce or a complaint says about one reader.
type Report struct {
	// Kind is EventBounce (a hard bounce, 5.x.x), EventSoftBounce or
	// EventComplained.
	Kind string
	// Ref names what the report is about, e.g. the delivery "issue 12 to
	// 345", or the report itself when no delivery is known. A reader gets
	// one event, and one count, per kind and Ref.
	Ref          string
	Status       string // enhanced status code
	Detail       string // the remote server's words; the complaint's type and reporter
	ReportingMTA string
}

// ReportResult says what RecordReport did.
type ReportResult struct {
	Duplicate bool   // recorded before: nothing changed
	Count     int    // hard: bounce_count now; soft: soft bounces within the window
	Status    string // the reader's status afterwards
	Changed   bool   // the report changed the status (bounced, unsubscribed)
}

// RecordReport records a bounce or complaint reported by mail. A hard
// bounce counts toward bounce_limit, as a 5xx at RCPT does; soft bounces
// make the reader bounced once soft_bounce_limit of them fall within
// soft_bounce_window (and since the reader last confirmed); a complaint
// unsubscribes the reader (a bounced reader stays bounced). The same
// (kind, Ref) is recorded once: a report offered again changes nothing.
func (s *Store) RecordReport(ctx context.Context, id int64, r Report) (ReportResult, error) {
	var res ReportResult
	switch r.Kind {
	case EventBounce, EventSoftBounce, EventComplained:
	default:
		return res, fmt.Errorf("subscribers: %q is not a report kind", r.Kind)
	}
	if r.Ref == "" {
		return res, errors.New("subscribers: a report needs a ref")
	}
	cfg := s.Config()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	now := s.now()
	var status string
	var confirmedAt int64
	err = tx.QueryRowContext(ctx, `SELECT status, confirmed_at FROM subscribers WHERE id = ?`, id).Scan(&status, &confirmedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return res, fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return res, err
	}
	res.Status = status
	var seen int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscriber_events WHERE subscriber_id = ? AND kind = ? AND ref = ?`, id, r.Kind, r.Ref).Scan(&seen); err != nil {
		return res, err
	}
	if seen > 0 {
		res.Duplicate = true
		return res, nil
	}
	detail := r.Detail
	var becomes, why string
	switch r.Kind {
	case EventBounce:
		if err := tx.QueryRowContext(ctx, `UPDATE subscribers SET bounce_count = bounce_count + 1, updated_at = ? WHERE id = ? RETURNING bounce_count`,
			now.Unix(), id).Scan(&res.Count); err != nil {
			return res, err
		}
		detail = fmt.Sprintf("%d/%d: %s", res.Count, cfg.BounceLimit, r.Detail)
		if res.Count >= cfg.BounceLimit && status != Bounced {
			becomes, why = Bounced, fmt.Sprintf("%d hard bounces: %s", res.Count, r.Detail)
		}
	case EventSoftBounce:
		since := now.Add(-cfg.SoftBounceWindow).Unix()
		if confirmedAt >= since {
			since = confirmedAt + 1 // what came before (re)confirming does not count
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) + 1 FROM subscriber_events WHERE subscriber_id = ? AND kind = ? AND at >= ?`,
			id, EventSoftBounce, since).Scan(&res.Count); err != nil {
			return res, err
		}
		detail = fmt.Sprintf("%d/%d in %s: %s", res.Count, cfg.SoftBounceLimit, formatWindow(cfg.SoftBounceWindow), r.Detail)
		if res.Count >= cfg.SoftBounceLimit && (status == Confirmed || status == Pending) {
			becomes, why = Bounced, fmt.Sprintf("%d soft bounces in %s: %s", res.Count, formatWindow(cfg.SoftBounceWindow), r.Detail)
		}
	case EventComplained:
		if status == Confirmed || status == Pending {
			becomes, why = Unsubscribed, ReasonComplaint
			detail += "; unsubscribed"
		}
	}
	if len(detail) > 500 {
		detail = detail[:500]
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO subscriber_events (subscriber_id, kind, detail, at, status_code, reporting_mta, ref) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, r.Kind, detail, now.Unix(), r.Status, r.ReportingMTA, r.Ref); err != nil {
		return res, fmt.Errorf("subscribers: record %s event: %w", r.Kind, err)
	}
	if becomes != "" {
		if r.Kind == EventComplained {
			// The complaint event says it: a second event would count the
			// complaint twice in the charts and metrics.
			t := now.Unix()
			_, err = tx.ExecContext(ctx, `UPDATE subscribers SET status = ?, updated_at = ?, status_at = ? WHERE id = ?`, becomes, t, t, id)
		} else {
			_, err = setStatus(ctx, tx, id, becomes, why, now)
		}
		if err != nil {
			return res, err
		}
		res.Status, res.Changed = becomes, true
	}
	if err := tx.Commit(); err != nil {
		return res, err
	}
	if res.Changed {
		s.changed(ctx)
	}
	return res, nil
}

// formatWindow writes a window in days when it is whole days.
func formatWindow(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}
