package feeds

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/haiphong/hpdigest/store"
)

// newTestStore opens a real SQLite file in a temporary directory.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "feeds.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Migrate(context.Background(), db, Migrations()); err != nil {
		t.Fatal(err)
	}
	return NewStore(db)
}
