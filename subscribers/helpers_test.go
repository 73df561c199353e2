package subscribers

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/store"
)

func openStore(t testing.TB) *Store {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "hp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Migrate(context.Background(), db, Migrations()); err != nil {
		t.Fatal(err)
	}
	s := NewStore(db)
	s.SetThemes([]string{"diaspora", "fdi", "china", "other"})
	return s
}

func testKey(id string) Key {
	return Key{ID: id, Secret: strings.Repeat(id, 40)[:40]}
}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// everyone reads the whole list in one page, in id order.
func everyone(ctx context.Context, s *Store) ([]Subscriber, error) {
	return s.ListAfter(ctx, 0, math.MaxInt)
}
