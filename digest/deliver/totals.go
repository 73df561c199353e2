package deliver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// totalsMigration keeps the counts of each finished send, so that the
// history of many issues to many readers reads one row per issue. When a
// row that was final changes (a resend of the failed, a late bounce), the
// issue's counts are dropped and taken again at the next read; rows
// changing during a send (pending, retry) cost nothing.
const totalsMigration = `CREATE TABLE delivery_totals (
	issue_id    INTEGER PRIMARY KEY,
	finished_at INTEGER NOT NULL, -- when the send the counts belong to finished
	total       INTEGER NOT NULL,
	sent        INTEGER NOT NULL,
	failed      INTEGER NOT NULL,
	retry       INTEGER NOT NULL,
	skipped     INTEGER NOT NULL,
	pending     INTEGER NOT NULL,
	rejected    INTEGER NOT NULL
);
CREATE TRIGGER delivery_totals_stale AFTER UPDATE OF state ON deliveries
WHEN old.state IN ('sent', 'failed', 'skipped') AND new.state IS NOT old.state BEGIN
	DELETE FROM delivery_totals WHERE issue_id = new.issue_id;
END;`

// totalsFinalMigration makes the kept counts final: a send stores them when
// it finishes (and retention when it folds the rows away), so reading them
// never writes. It adds the reports' counts, which outlive the rows they
// were filed on once folded, and takes the counts of every finished send
// that has none yet. The trigger no longer drops the counts of a folded
// issue (it has no rows left to change).
const totalsFinalMigration = `ALTER TABLE delivery_totals ADD COLUMN hard_bounces INTEGER NOT NULL DEFAULT 0;
ALTER TABLE delivery_totals ADD COLUMN soft_bounces INTEGER NOT NULL DEFAULT 0;
ALTER TABLE delivery_totals ADD COLUMN delayed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE delivery_totals ADD COLUMN complaints INTEGER NOT NULL DEFAULT 0;
ALTER TABLE delivery_totals ADD COLUMN folded_at INTEGER NOT NULL DEFAULT 0; -- 0: the rows are kept
INSERT OR IGNORE INTO delivery_totals (issue_id, finished_at, total, sent, failed, retry, skipped, pending, rejected)
	SELECT j.issue_id, j.finished_at, COUNT(*), COALESCE(SUM(d.state = 'sent'), 0), COALESCE(SUM(d.state = 'failed'), 0),
		COALESCE(SUM(d.state = 'retry'), 0), COALESCE(SUM(d.state = 'skipped'), 0), COALESCE(SUM(d.state = 'pending'), 0),
		COALESCE(SUM(d.state = 'failed' AND d.smtp_code >= 500 AND d.last_error LIKE 'RCPT%'), 0)
	FROM delivery_jobs j JOIN deliveries d ON d.issue_id = j.issue_id
	WHERE j.finished_at <> 0 GROUP BY j.issue_id;
DROP TRIGGER delivery_totals_stale;
CREATE TRIGGER delivery_totals_stale AFTER UPDATE OF state ON deliveries
WHEN old.state IN ('sent', 'failed', 'skipped') AND new.state IS NOT old.state BEGIN
	DELETE FROM delivery_totals WHERE issue_id = new.issue_id AND folded_at = 0;
END;`

// Totals are the outcome counts of one issue's outbox.
type Totals struct {
	Total, Sent, Failed, Retry, Skipped, Pending int
	// Rejected are the failed rows refused with a 5xx at RCPT: addresses
	// that bounce (a resend of the failed rows leaves them out).
	Rejected int
	// Folded is when retention folded the issue's rows into these counts
	// (zero while the rows are kept).
	Folded time.Time
}

// storedTotals reads the counts kept for an issue's finished send: its
// outbox counts and, once retention folded its rows, the counts of the
// reports filed on them. ok is false when none are kept (a send going on,
// or never made).
func storedTotals(ctx context.Context, db *sql.DB, issueID int64) (t Totals, o OutcomeCounts, ok bool, err error) {
	var folded int64
	err = db.QueryRowContext(ctx, `SELECT total, sent, failed, retry, skipped, pending, rejected, folded_at,
		hard_bounces, soft_bounces, delayed, complaints FROM delivery_totals WHERE issue_id = ?`, issueID).Scan(
		&t.Total, &t.Sent, &t.Failed, &t.Retry, &t.Skipped, &t.Pending, &t.Rejected, &folded,
		&o.HardBounces, &o.SoftBounces, &o.Delayed, &o.Complaints)
	if errors.Is(err, sql.ErrNoRows) {
		return Totals{}, OutcomeCounts{}, false, nil
	}
	if err != nil {
		return Totals{}, OutcomeCounts{}, false, fmt.Errorf("deliver: read totals of issue %d: %w", issueID, err)
	}
	t.Folded = store.Time(folded)
	return t, o, true, nil
}

// IssueTotals returns the counts of the outboxes of these issues (issues
// never sent are missing). It only reads: a finished send's counts were
// stored when it finished (or when its rows were folded); one still going
// on is counted from its rows.
func (e *Engine) IssueTotals(ctx context.Context, issueIDs []int64) (map[int64]Totals, error) {
	out := make(map[int64]Totals, len(issueIDs))
	for _, id := range issueIDs {
		t, _, ok, err := storedTotals(ctx, e.db, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			var exists bool
			if err := e.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM delivery_jobs WHERE issue_id = ?)`, id).Scan(&exists); err != nil {
				return nil, fmt.Errorf("deliver: read totals of issue %d: %w", id, err)
			}
			if !exists {
				continue
			}
			if t, err = countOutbox(ctx, e.db, id); err != nil {
				return nil, err
			}
		}
		out[id] = t
	}
	return out, nil
}

// countOutbox counts an issue's outbox rows by state.
func countOutbox(ctx context.Context, q store.Querier, issueID int64) (Totals, error) {
	t, _, err := countRows(ctx, q, issueID, time.Time{})
	return t, err
}

// countRows counts an issue's outbox rows by state in one pass over them,
// with how many were sent at or after since.
func countRows(ctx context.Context, q store.Querier, issueID int64, since time.Time) (t Totals, sentSince int, err error) {
	rows, err := q.QueryContext(ctx, `SELECT state, COUNT(*), SUM(state = 'failed' AND smtp_code >= 500 AND last_error LIKE 'RCPT%'),
		SUM(sent_at >= ?) FROM deliveries WHERE issue_id = ? GROUP BY state`, store.Unix(since), issueID)
	if err != nil {
		return t, 0, fmt.Errorf("deliver: count outbox of issue %d: %w", issueID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n, rejected, recent int
		if err := rows.Scan(&st, &n, &rejected, &recent); err != nil {
			return t, 0, fmt.Errorf("deliver: count outbox of issue %d: %w", issueID, err)
		}
		t.Total += n
		t.Rejected += rejected
		sentSince += recent
		switch st {
		case StateSent:
			t.Sent = n
		case StateFailed:
			t.Failed = n
		case StateRetry:
			t.Retry = n
		case StateSkipped:
			t.Skipped = n
		case StatePending:
			t.Pending = n
		}
	}
	return t, sentSince, rows.Err()
}

// storeTotals writes an issue's counts in tx (outcome counts too when
// folding).
func storeTotals(ctx context.Context, tx *sql.Tx, issueID, finishedAt int64, t Totals, o OutcomeCounts) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO delivery_totals (issue_id, finished_at, total, sent, failed, retry, skipped, pending, rejected,
			hard_bounces, soft_bounces, delayed, complaints, folded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (issue_id) DO UPDATE SET finished_at = excluded.finished_at,
		total = excluded.total, sent = excluded.sent, failed = excluded.failed, retry = excluded.retry,
		skipped = excluded.skipped, pending = excluded.pending, rejected = excluded.rejected,
		hard_bounces = excluded.hard_bounces, soft_bounces = excluded.soft_bounces, delayed = excluded.delayed,
		complaints = excluded.complaints, folded_at = excluded.folded_at`,
		issueID, finishedAt, t.Total, t.Sent, t.Failed, t.Retry, t.Skipped, t.Pending, t.Rejected,
		o.HardBounces, o.SoftBounces, o.Delayed, o.Complaints, store.Unix(t.Folded))
	if err != nil {
		return fmt.Errorf("deliver: keep totals of issue %d: %w", issueID, err)
	}
	return nil
}
