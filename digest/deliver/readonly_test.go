package deliver

import (
	"context"
	"os"
	"path/filepath"
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

// Dry-run .eml files carry each reader's personal links: they are written
// readable by their owner only, in a directory made for them the same way.
func TestDryRunFilesArePrivate(t *testing.T) {
	_, mk := openDB(t)
	db := mk(Config{}).db
	dir := filepath.Join(t.TempDir(), "outbox")
	e := NewDirEngine(db, dir, nil)
	if sum, err := e.Send(context.Background(), job(4, newPeople(2))); err != nil || sum.Sent != 2 {
		t.Fatalf("%+v %v", sum, err)
	}
	st, _ := os.Stat(dir)
	if m := st.Mode().Perm(); m != 0o700 {
		t.Errorf("outbox directory mode %o, want 700", m)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("files: %v", ents)
	}
	for _, ent := range ents {
		info, _ := ent.Info()
		if m := info.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %o, want 600", ent.Name(), m)
		}
	}
}
