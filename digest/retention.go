package digest

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// heldItems selects the items some issue holds, as an entry or as
// another version of one of its stories.
const heldItems = `SELECT item_id FROM issue_items UNION SELECT item_id FROM issue_versions`

// ForgetItems is the digest's part of deleting old items: of the items
// ids, those held by no issue (see heldItems) lose their themes and the
// staff's labels, in tx (the caller's transaction, in which the items
// themselves are deleted). It returns those ids; items an issue holds are
// kept, whatever their age, because the issue shows them.
func ForgetItems(ctx context.Context, tx *sql.Tx, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := store.InList(ids)
	inIssues, err := store.IDs(ctx, tx, `SELECT item_id FROM (`+heldItems+`) WHERE item_id IN (`+in+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("digest: find items in no issue: %w", err)
	}
	placed := map[int64]bool{}
	for _, id := range inIssues {
		placed[id] = true
	}
	var free []int64
	for _, id := range ids {
		if !placed[id] {
			free = append(free, id)
		}
	}
	if len(free) == 0 {
		return nil, nil
	}
	in, args = store.InList(free)
	for _, table := range []string{"item_themes", "item_labels"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE item_id IN (`+in+`)`, args...); err != nil {
			return nil, fmt.Errorf("digest: forget items: %s: %w", table, err)
		}
	}
	return free, nil
}

// HeldItems returns the ids of the items some issue holds (see
// heldItems): ForgetItems keeps them, so retention need not list them.
func (s *Store) HeldItems(ctx context.Context) ([]int64, error) {
	ids, err := store.IDs(ctx, s.db, heldItems+` ORDER BY item_id`)
	if err != nil {
		return nil, fmt.Errorf("digest: list items in issues: %w", err)
	}
	return ids, nil
}

// PruneSkippedSends deletes the records of scheduled sends skipped before
// before, and returns how many went.
func (s *Store) PruneSkippedSends(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM skipped_sends WHERE tick_at < ?`, before.Unix())
	if err != nil {
		return 0, fmt.Errorf("digest: prune skipped sends: %w", err)
	}
	return res.RowsAffected()
}
