package app

import (
	"context"
	"fmt"
	"time"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/feeds"
)

// RetentionReport says what ApplyRetention deleted.
type RetentionReport struct {
	Items        int64              // items in no issue, with their themes and labels
	Outbox       deliver.FoldReport // issues folded into counts, their rows and reports
	ReaderEvents int64
	SkippedSends int64 // records of skipped scheduled sends
	Took         time.Duration
}

// itemsPerPrune is how many items one transaction of the item pruning
// looks at.
const itemsPerPrune = 500

// ApplyRetention applies the [retention] section once: items older than
// retention.items that are in no issue are deleted (each owner deletes its
// part in one transaction per batch); the outbox of issues whose send
// finished longer ago than retention.outbox is folded into their counts,
// and the records of scheduled sends skipped that long ago go; events on
// readers older than retention.reader_events are deleted. Each step works
// in short transactions; a step that fails stops the run, and the next run
// carries on.
func (a *App) ApplyRetention(ctx context.Context) (RetentionReport, error) {
	start := time.Now()
	cfg := a.Cfg().Retention
	now := a.clock.Now()
	var rep RetentionReport
	var err error
	if cutoff, ok := cfg.Items.Before(now); ok {
		if rep.Items, err = a.pruneItems(ctx, cutoff, now); err != nil {
			return rep, err
		}
	}
	if cutoff, ok := cfg.Outbox.Before(now); ok {
		if rep.Outbox, err = a.Engine.FoldOutbox(ctx, cutoff); err != nil {
			return rep, err
		}
		if rep.SkippedSends, err = a.Digests.PruneSkippedSends(ctx, cutoff); err != nil {
			return rep, err
		}
	}
	if cutoff, ok := cfg.ReaderEvents.Before(now); ok {
		if rep.ReaderEvents, err = a.Subscribers.PruneEvents(ctx, cutoff); err != nil {
			return rep, err
		}
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// pruneItems deletes the items dated before cutoff that are in no issue,
// a batch per transaction: the digest forgets their themes and labels,
// then the feeds store deletes them. The items issues held when it
// started are not listed at all (their number only grows); one put in an
// issue meanwhile is kept by ForgetItems.
func (a *App) pruneItems(ctx context.Context, cutoff, now time.Time) (int64, error) {
	held, err := a.Digests.HeldItems(ctx)
	if err != nil {
		return 0, fmt.Errorf("retention: items: %w", err)
	}
	var total int64
	var after int64
	for {
		ids, err := a.Feeds.OldItems(ctx, cutoff, after, itemsPerPrune, held)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		after = ids[len(ids)-1]
		tx, err := a.DB.BeginTx(ctx, nil)
		if err != nil {
			return total, fmt.Errorf("retention: items: %w", err)
		}
		free, err := digest.ForgetItems(ctx, tx, ids)
		var n int64
		if err == nil {
			n, err = feeds.DeleteItems(ctx, tx, free, now)
		}
		if err == nil {
			err = tx.Commit()
		}
		if err != nil {
			tx.Rollback()
			return total, fmt.Errorf("retention: items: %w", err)
		}
		total += n
	}
}

// scheduledRetention is the retention schedule's job: what it did is
// logged; a failure too, and the next run carries on.
func (a *App) scheduledRetention(ctx context.Context) {
	rep, err := a.ApplyRetention(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.Log.Error("retention failed; the next run carries on", "err", err)
		}
		return
	}
	a.Log.Info("retention applied", "items_deleted", rep.Items, "issues_folded", rep.Outbox.Issues,
		"outbox_rows_deleted", rep.Outbox.Rows, "reports_deleted", rep.Outbox.Events,
		"reader_events_deleted", rep.ReaderEvents, "skipped_sends_deleted", rep.SkippedSends, "took", rep.Took.Round(time.Millisecond))
}
