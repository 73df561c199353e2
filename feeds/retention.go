package feeds

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// prunedMigration remembers which items retention deleted (by feed and
// GUID, a few dozen bytes each), so that a feed still carrying one does
// not bring it back as new (see DeleteItems).
const prunedMigration = `CREATE TABLE items_pruned (
	feed_id   INTEGER NOT NULL,
	guid      TEXT NOT NULL,
	pruned_at INTEGER NOT NULL,
	PRIMARY KEY (feed_id, guid)
) WITHOUT ROWID;`

// OldItems returns the ids of up to limit items above afterID, in id
// order, that were first seen and are dated before before, leaving out
// the items in except (those another part keeps).
func (s *Store) OldItems(ctx context.Context, before time.Time, afterID int64, limit int, except []int64) ([]int64, error) {
	if except == nil {
		except = []int64{} // "null" would be one NULL, and NOT IN (NULL) matches nothing
	}
	kept, err := json.Marshal(except)
	if err != nil {
		return nil, err
	}
	ids, err := store.IDs(ctx, s.db, `SELECT id FROM items WHERE id > ? AND sort_at < ? AND first_seen_at < ?
		AND id NOT IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?`,
		afterID, store.Unix(before), store.Unix(before), string(kept), limit)
	if err != nil {
		return nil, fmt.Errorf("feeds: list old items: %w", err)
	}
	return ids, nil
}

// DeleteItems deletes the items ids in tx (the caller's transaction, in
// which their other owners forget them too), and returns how many went.
// Their feed and GUID are kept: fetched again, they are not new.
func DeleteItems(ctx context.Context, tx *sql.Tx, ids []int64, now time.Time) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	in, args := store.InList(ids)
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO items_pruned (feed_id, guid, pruned_at)
		SELECT feed_id, guid, ? FROM items WHERE id IN (`+in+`)`, append([]any{now.Unix()}, args...)...); err != nil {
		return 0, fmt.Errorf("feeds: remember pruned items: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM items WHERE id IN (`+in+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("feeds: delete items: %w", err)
	}
	return res.RowsAffected()
}
