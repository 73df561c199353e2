package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestDeleteBatchedDeletesEveryMatchingRowOverSeveralStatements(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// 2.5 batches of old rows, and new rows that stay.
	old := 2*DeleteBatch + DeleteBatch/2
	if _, err := db.Exec(`CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO events (at) SELECT CASE WHEN i <= ? THEN 10 ELSE 99 END FROM n`, old+7, old); err != nil {
		t.Fatal(err)
	}
	n, err := DeleteBatched(ctx, db, "events", "at < ?", 50)
	if err != nil || n != int64(old) {
		t.Fatalf("deleted %d (%v), want %d", n, err, old)
	}
	var left, oldLeft int
	db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(at < 50), 0) FROM events`).Scan(&left, &oldLeft)
	if left != 7 || oldLeft != 0 {
		t.Fatalf("left %d rows (%d old), want the 7 new ones", left, oldLeft)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if n, err := DeleteBatched(cancelled, db, "events", "1"); err == nil || n != 0 {
		t.Fatalf("cancelled: deleted %d, err %v; want nothing and the context's error", n, err)
	}
	db.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&left)
	if left != 7 {
		t.Fatalf("a cancelled call deleted rows: %d left", left)
	}
}
