package deliver

import (
	"context"
	"testing"

	"github.com/emersion/go-smtp"
)

// A finished send is counted once and remembered; a resend of the failed
// rows is counted again.
func TestIssueTotals(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	e := mk(relayCfg(ts, 2))
	db := e.db
	ts.set(func() {
		ts.onRcpt = func(_ *testSession, to string, n int) error {
			switch to {
			case addr(2):
				return smtpErrReply(550, smtp.EnhancedCode{5, 1, 1}, "no such user")
			case addr(3):
				return smtpErrReply(554, smtp.EnhancedCode{5, 7, 1}, "refused")
			}
			return nil
		}
	})
	ctx := context.Background()
	if _, err := e.Send(ctx, job(1, newPeople(5))); err != nil {
		t.Fatal(err)
	}
	got, err := e.IssueTotals(ctx, []int64{1, 99})
	if err != nil {
		t.Fatal(err)
	}
	want := Totals{Total: 5, Sent: 3, Failed: 2, Rejected: 2}
	if got[1] != want {
		t.Fatalf("totals %+v, want %+v", got[1], want)
	}
	if _, ok := got[99]; ok {
		t.Error("an issue never sent has totals")
	}
	var kept int
	if err := db.QueryRow(`SELECT sent FROM delivery_totals WHERE issue_id = 1`).Scan(&kept); err != nil || kept != 3 {
		t.Fatalf("finished send not remembered: %d, %v", kept, err)
	}
	// What is remembered is what is read (the rows are not counted again).
	if _, err := db.Exec(`UPDATE delivery_totals SET sent = 42 WHERE issue_id = 1`); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.IssueTotals(ctx, []int64{1}); got[1].Sent != 42 {
		t.Errorf("remembered totals not used: %+v", got[1])
	}
	// A resend reopens the job: counted afresh once it finishes.
	ts.set(func() { ts.onRcpt = nil })
	if n, err := e.RequeueFailed(ctx, 1, true); err != nil || n != 2 {
		t.Fatalf("requeue: %d %v", n, err)
	}
	if got, _ := e.IssueTotals(ctx, []int64{1}); got[1] != (Totals{Total: 5, Sent: 3, Pending: 2}) {
		t.Errorf("while reopened: %+v", got[1])
	}
	if _, err := e.Send(ctx, job(1, newPeople(5))); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.IssueTotals(ctx, []int64{1}); got[1] != (Totals{Total: 5, Sent: 5}) {
		t.Errorf("after the resend: %+v", got[1])
	}
}
