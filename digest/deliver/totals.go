package deliver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// Totals are the outcome counts of one issue's outbox.
type Totals struct {
	Total, Sent, Failed, Retry, Skipped, Pending int
	// Rejected are the failed rows refused with a 5xx at RCPT: addresses
	// that bounce (a resend of the failed rows leaves them out).
	Rejected int
}

// IssueTotals returns the counts of the outboxes of these issues (issues
// never sent are missing). A finished send is counted once and remembered;
// one still going on is counted each time.
func (e *Engine) IssueTotals(ctx context.Context, issueIDs []int64) (map[int64]Totals, error) {
	out := make(map[int64]Totals, len(issueIDs))
	for _, id := range issueIDs {
		var finished int64
		var cachedAt sql.NullInt64
		var t Totals
		err := e.db.QueryRowContext(ctx, `SELECT j.finished_at, c.finished_at,
				COALESCE(c.total, 0), COALESCE(c.sent, 0), COALESCE(c.failed, 0), COALESCE(c.retry, 0),
				COALESCE(c.skipped, 0), COALESCE(c.pending, 0), COALESCE(c.rejected, 0)
			FROM delivery_jobs j LEFT JOIN delivery_totals c ON c.issue_id = j.issue_id WHERE j.issue_id = ?`, id).
			Scan(&finished, &cachedAt, &t.Total, &t.Sent, &t.Failed, &t.Retry, &t.Skipped, &t.Pending, &t.Rejected)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("deliver: read totals of issue %d: %w", id, err)
		}
		if finished == 0 || !cachedAt.Valid {
			if t, err = e.countOutbox(ctx, id); err != nil {
				return nil, err
			}
			if finished != 0 {
				if _, err := e.db.ExecContext(ctx, `INSERT INTO delivery_totals (issue_id, finished_at, total, sent, failed, retry, skipped, pending, rejected)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (issue_id) DO UPDATE SET finished_at = excluded.finished_at,
					total = excluded.total, sent = excluded.sent, failed = excluded.failed, retry = excluded.retry,
					skipped = excluded.skipped, pending = excluded.pending, rejected = excluded.rejected`,
					id, finished, t.Total, t.Sent, t.Failed, t.Retry, t.Skipped, t.Pending, t.Rejected); err != nil {
					return nil, fmt.Errorf("deliver: keep totals of issue %d: %w", id, err)
				}
			}
		}
		out[id] = t
	}
	return out, nil
}

func (e *Engine) countOutbox(ctx context.Context, issueID int64) (Totals, error) {
	var t Totals
	rows, err := e.db.QueryContext(ctx, `SELECT state, COUNT(*), SUM(state = 'failed' AND smtp_code >= 500 AND last_error LIKE 'RCPT%')
		FROM deliveries WHERE issue_id = ? GROUP BY state`, issueID)
	if err != nil {
		return t, fmt.Errorf("deliver: count outbox of issue %d: %w", issueID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n, rejected int
		if err := rows.Scan(&st, &n, &rejected); err != nil {
			return t, err
		}
		t.Total += n
		t.Rejected += rejected
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
	return t, rows.Err()
}
