package deliver

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// OutboxCounts are one issue's outbox rows by state, for monitoring.
type OutboxCounts struct {
	IssueID int64
	ByState map[string]int // pending, sent, retry, failed, skipped
	// SentSince is how many rows were sent at or after the time asked for.
	SentSince int
}

// CountOutbox counts an issue's outbox rows by state in one pass over
// them, with how many were sent since since.
// The counts of an issue folded by retention are those kept with it.
func CountOutbox(ctx context.Context, db *sql.DB, issueID int64, since time.Time) (OutboxCounts, error) {
	c := OutboxCounts{IssueID: issueID}
	t, _, ok, err := storedTotals(ctx, db, issueID)
	if err != nil {
		return c, err
	}
	if !ok || t.Folded.IsZero() {
		if t, c.SentSince, err = countRows(ctx, db, issueID, since); err != nil {
			return c, err
		}
	}
	c.ByState = map[string]int{StatePending: t.Pending, StateSent: t.Sent, StateRetry: t.Retry, StateFailed: t.Failed, StateSkipped: t.Skipped}
	return c, nil
}

// JobFinishedAt returns when the issue's send finished (the zero time while
// it is going on, and for an issue with no outbox). Until it changes, the
// issue's outbox counts stay the same.
func JobFinishedAt(ctx context.Context, db *sql.DB, issueID int64) (time.Time, error) {
	var at int64
	err := db.QueryRowContext(ctx, `SELECT finished_at FROM delivery_jobs WHERE issue_id = ?`, issueID).Scan(&at)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("deliver: read job: %w", err)
	}
	return store.Time(at), nil
}

// OutboxRows is the number of rows in the outbox over all issues.
func OutboxRows(ctx context.Context, db *sql.DB) (int64, error) {
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("deliver: count outbox: %w", err)
	}
	return n, nil
}
