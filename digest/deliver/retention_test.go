package deliver

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/haiphong/hpdigest/store"
)

// An old issue's outbox is folded into its counts: the rows and the
// reports on them go, and every count the history, -delivery-status and
// the metrics show stays the same. A newer issue is left alone; folding
// again changes nothing; a folded issue cannot be resent to its failed.
func TestFoldOutboxKeepsTheCounts(t *testing.T) {
	ts := newTestServer(t)
	path, mk := openDB(t)
	e := mk(relayCfg(ts, 2))
	ts.set(func() {
		ts.onRcpt = func(_ *testSession, to string, n int) error {
			if to == addr(2) || to == addr(3) {
				return smtpErrReply(550, smtp.EnhancedCode{5, 1, 1}, "no such user")
			}
			return nil
		}
	})
	ctx := context.Background()
	for _, issue := range []int64{1, 2} {
		if _, err := e.Send(ctx, job(issue, newPeople(6))); err != nil {
			t.Fatal(err)
		}
	}
	for i, o := range []struct {
		sid  int64
		kind string
	}{{1, OutcomeHardBounce}, {4, OutcomeComplaint}, {4, OutcomeComplaint}, {5, OutcomeSoftBounce}, {6, OutcomeDelayed}} {
		if _, err := e.RecordOutcome(ctx, Delivery{IssueID: 1, SubscriberID: o.sid}, Outcome{Kind: o.kind, FoundBy: FoundByVERP, ReportID: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	// Issue 1 finished 200 days ago, issue 2 now.
	if _, err := e.db.Exec(`UPDATE delivery_jobs SET finished_at = finished_at - 200*86400 WHERE issue_id = 1`); err != nil {
		t.Fatal(err)
	}
	type view struct {
		totals   Totals
		outcomes OutcomeCounts
		status   Summary
		byState  map[string]int
	}
	read := func(id int64) view {
		t.Helper()
		tot, err := e.IssueTotals(ctx, []int64{id})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.IssueOutcomes(ctx, []int64{id})
		if err != nil {
			t.Fatal(err)
		}
		st, err := e.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		c, err := CountOutbox(ctx, e.db, id, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		v := view{totals: tot[id], outcomes: out[id], status: st, byState: c.ByState}
		v.totals.Folded, v.status.Folded = time.Time{}, time.Time{}
		return v
	}
	before1, before2 := read(1), read(2)
	if want := (Totals{Total: 6, Sent: 4, Failed: 2, Rejected: 2}); before1.totals != want {
		t.Fatalf("totals before: %+v, want %+v", before1.totals, want)
	}
	if want := (OutcomeCounts{HardBounces: 1, SoftBounces: 1, Delayed: 1, Complaints: 1}); before1.outcomes != want {
		t.Fatalf("outcomes before: %+v, want %+v", before1.outcomes, want)
	}

	rep, err := e.FoldOutbox(ctx, time.Now().Add(-180*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rep != (FoldReport{Issues: 1, Rows: 6, Events: 5}) {
		t.Errorf("fold: %+v, want 1 issue, 6 rows, 5 reports", rep)
	}
	var rows, events int
	e.db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE issue_id = 1`).Scan(&rows)
	e.db.QueryRow(`SELECT COUNT(*) FROM delivery_events`).Scan(&events)
	if rows != 0 || events != 0 {
		t.Errorf("after the fold: %d rows and %d reports of issue 1 remain", rows, events)
	}
	after1, after2 := read(1), read(2)
	if after1.totals != before1.totals || after1.outcomes != before1.outcomes || after1.status.Sent != 4 || after1.status.Failed != 2 ||
		after1.status.Total != 6 || !after1.status.Done || after1.byState[StateSent] != 4 || after1.byState[StateFailed] != 2 {
		t.Errorf("folded issue reads\n%+v\nbefore the fold\n%+v", after1, before1)
	}
	if after2.totals != before2.totals || after2.status != before2.status {
		t.Errorf("the newer issue changed: %+v, was %+v", after2, before2)
	}
	if st, _ := e.Status(ctx, 1); st.Folded.IsZero() {
		t.Error("Status does not say the issue was folded")
	}
	if again, err := e.FoldOutbox(ctx, time.Now().Add(-180*24*time.Hour)); err != nil || again != (FoldReport{}) {
		t.Errorf("second fold: %+v %v", again, err)
	}
	if n, err := e.RequeueFailed(ctx, 1, true); err != nil || n != 0 {
		t.Errorf("requeue of a folded issue: %d %v", n, err)
	}

	// The counts are read from a connection that may not write.
	ro, err := sql.Open("sqlite", store.URI(path)+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	r := NewSMTPEngine(ro, Config{}, nil)
	got, err := r.IssueTotals(ctx, []int64{1, 2})
	if err != nil {
		t.Fatalf("IssueTotals on a read-only connection: %v", err)
	}
	if got[1].Sent != 4 || got[2].Sent != 4 {
		t.Errorf("read-only totals: %+v", got)
	}
}

// A send stores its final counts when it finishes: reading them (the
// history page) never writes, also for a send whose counts were never
// kept before (an outbox made by an older version: counted from its rows).
func TestIssueTotalsOnlyRead(t *testing.T) {
	ts := newTestServer(t)
	path, mk := openDB(t)
	e := mk(relayCfg(ts, 1))
	ctx := context.Background()
	if _, err := e.Send(ctx, job(1, newPeople(3))); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e.db.QueryRow(`SELECT sent FROM delivery_totals WHERE issue_id = 1`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("the finished send did not store its counts: %d %v", n, err)
	}
	if _, err := e.db.Exec(`DELETE FROM delivery_totals`); err != nil {
		t.Fatal(err)
	}
	ro, err := sql.Open("sqlite", store.URI(path)+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	got, err := NewSMTPEngine(ro, Config{}, nil).IssueTotals(ctx, []int64{1})
	if err != nil || got[1] != (Totals{Total: 3, Sent: 3}) {
		t.Fatalf("totals without stored counts: %+v %v", got, err)
	}
	if err := e.db.QueryRow(`SELECT COUNT(*) FROM delivery_totals`).Scan(&n); err != nil || n != 0 {
		t.Errorf("a read stored counts: %d rows", n)
	}
}

// A database of an older version gets the counts of its finished sends
// when it is migrated, so the history reads them without counting rows.
func TestMigrationStoresTheCountsOfFinishedSends(t *testing.T) {
	db, err := store.Open(t.TempDir() + "/old.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	m := Migrations()
	old := m
	old.Steps = m.Steps[:len(m.Steps)-1]
	if err := store.Migrate(ctx, db, old); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO delivery_jobs (issue_id, created_at, rows_complete_at, finished_at) VALUES (1, 1, 1, 100), (2, 1, 1, 0);
		INSERT INTO deliveries (issue_id, subscriber_id, email, state, smtp_code, last_error, created_at, updated_at) VALUES
		(1, 1, 'a@x', 'sent', 250, '', 1, 1), (1, 2, 'b@x', 'failed', 550, 'RCPT TO: no such user', 1, 1),
		(1, 3, 'c@x', 'skipped', 0, '', 1, 1), (2, 1, 'a@x', 'pending', 0, '', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, db, m); err != nil {
		t.Fatal(err)
	}
	var total, sent, failed, skipped, rejected, finished int
	if err := db.QueryRow(`SELECT total, sent, failed, skipped, rejected, finished_at FROM delivery_totals WHERE issue_id = 1`).
		Scan(&total, &sent, &failed, &skipped, &rejected, &finished); err != nil {
		t.Fatal(err)
	}
	if total != 3 || sent != 1 || failed != 1 || skipped != 1 || rejected != 1 || finished != 100 {
		t.Errorf("migrated counts: total %d sent %d failed %d skipped %d rejected %d finished %d", total, sent, failed, skipped, rejected, finished)
	}
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM delivery_totals WHERE issue_id = 2`).Scan(&n)
	if n != 0 {
		t.Error("a send still going on got stored counts")
	}
}
