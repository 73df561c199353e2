package deliver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// FoldReport says what FoldOutbox did.
type FoldReport struct {
	Issues int   // issues folded by this call
	Rows   int64 // outbox rows deleted
	Events int64 // reports on them deleted
}

// FoldOutbox folds the outbox of every issue whose send finished before
// before: its counts by state and the counts of the reports filed on its
// rows (hard and soft bounces, delays, complaints, each delivery once)
// are stored with the issue, then its rows and their reports are deleted
// in short transactions. The history, -delivery-status and the metrics
// read the stored counts from then on; who got a folded issue, and its
// resend to the failed, are no longer known. An interrupted fold is
// finished by the next call.
func (e *Engine) FoldOutbox(ctx context.Context, before time.Time) (FoldReport, error) {
	var rep FoldReport
	ids, err := e.issueIDs(ctx, `SELECT j.issue_id FROM delivery_jobs j LEFT JOIN delivery_totals c ON c.issue_id = j.issue_id
		WHERE j.finished_at <> 0 AND j.finished_at < ? AND COALESCE(c.folded_at, 0) = 0 ORDER BY j.issue_id`, store.Unix(before))
	if err != nil {
		return rep, err
	}
	for _, id := range ids {
		folded, err := e.foldCounts(ctx, id, before)
		if err != nil {
			return rep, err
		}
		if folded {
			rep.Issues++
		}
	}
	// Delete the rows of every folded issue (also those of a fold an
	// earlier call did not finish).
	ids, err = e.issueIDs(ctx, `SELECT issue_id FROM delivery_totals WHERE folded_at <> 0 AND
		(EXISTS (SELECT 1 FROM deliveries d WHERE d.issue_id = delivery_totals.issue_id)
		OR EXISTS (SELECT 1 FROM delivery_events v WHERE v.issue_id = delivery_totals.issue_id)) ORDER BY issue_id`)
	if err != nil {
		return rep, err
	}
	for _, id := range ids {
		for _, t := range []struct {
			table string
			n     *int64
		}{{"delivery_events", &rep.Events}, {"deliveries", &rep.Rows}} {
			n, err := store.DeleteBatched(ctx, e.db, t.table, "issue_id = ?", id)
			*t.n += n
			if err != nil {
				return rep, fmt.Errorf("deliver: fold the outbox of issue %d: %w", id, err)
			}
		}
	}
	return rep, nil
}

func (e *Engine) issueIDs(ctx context.Context, query string, args ...any) ([]int64, error) {
	ids, err := store.IDs(ctx, e.db, query, args...)
	if err != nil {
		return nil, fmt.Errorf("deliver: list issues: %w", err)
	}
	return ids, nil
}

// foldCounts stores an issue's final counts as folded, in one transaction
// that checks again that its send is still finished before before (a
// resend of its failed rows may have reopened it).
func (e *Engine) foldCounts(ctx context.Context, issueID int64, before time.Time) (bool, error) {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("deliver: fold issue %d: %w", issueID, err)
	}
	defer tx.Rollback()
	var finished int64
	err = tx.QueryRowContext(ctx, `SELECT finished_at FROM delivery_jobs WHERE issue_id = ?`, issueID).Scan(&finished)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("deliver: fold issue %d: %w", issueID, err)
	}
	if finished == 0 || finished >= store.Unix(before) {
		return false, nil
	}
	t, err := countOutbox(ctx, tx, issueID)
	if err != nil {
		return false, err
	}
	o, err := countOutcomes(ctx, tx, issueID)
	if err != nil {
		return false, err
	}
	t.Folded = e.now()
	if err := storeTotals(ctx, tx, issueID, finished, t, o); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("deliver: fold issue %d: %w", issueID, err)
	}
	return true, nil
}
