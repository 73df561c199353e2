package deliver

import (
	"context"
	"testing"
)

// Reading an issue's counts changes nothing: the staff's pages and
// -delivery-status call Status, and a read must never write (nor wait for
// the write lock). Marking a send finished is Send's job.
func TestStatusOnlyReads(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	e := mk(relayCfg(ts, 1))
	ctx := context.Background()
	if _, err := e.Send(ctx, job(1, newPeople(3))); err != nil {
		t.Fatal(err)
	}
	// Every row is final but the job is not marked finished: a process that
	// stopped between its last row and the mark.
	if _, err := e.db.Exec(`UPDATE delivery_jobs SET finished_at = 0 WHERE issue_id = 1`); err != nil {
		t.Fatal(err)
	}
	sum, err := e.Status(ctx, 1)
	if err != nil || !sum.Done || sum.Sent != 3 {
		t.Fatalf("status: %+v %v", sum, err)
	}
	if at, err := JobFinishedAt(ctx, e.db, 1); err != nil || !at.IsZero() {
		t.Errorf("Status marked the job finished (at %v, %v): a read wrote", at, err)
	}
	if ids, _ := e.Unfinished(ctx); len(ids) != 1 {
		t.Fatalf("unfinished: %v", ids)
	}
	// Send (the resume) finds nothing to send and marks it.
	if _, err := e.Send(ctx, job(1, newPeople(3))); err != nil {
		t.Fatal(err)
	}
	if at, _ := JobFinishedAt(ctx, e.db, 1); at.IsZero() {
		t.Error("the resumed send did not mark the job finished")
	}
	if ids, _ := e.Unfinished(ctx); len(ids) != 0 {
		t.Errorf("still unfinished after the resume: %v", ids)
	}
	if n := len(ts.counts()); n != 3 {
		t.Errorf("%d recipients reached, want 3 (each once)", n)
	}
}
