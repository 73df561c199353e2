package digest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// Approve freezes a draft for its scheduled send. version is the version the
// curator saw (ErrConflict if it changed since).
func (s *Store) Approve(ctx context.Context, id int64, version int, by string) error {
	return s.transition(ctx, id, version, StatusDraft, StatusApproved,
		`approved_at = ?, approved_by = ?`, s.now().Unix(), by)
}

// Unapprove returns an approved issue to draft so it can be edited again.
func (s *Store) Unapprove(ctx context.Context, id int64, version int) error {
	return s.transition(ctx, id, version, StatusApproved, StatusDraft, `approved_at = 0, approved_by = ''`)
}

// Reschedule sets when an issue goes out (zero: the digest's next scheduled
// send). Allowed for drafts and approved issues.
func (s *Store) Reschedule(ctx context.Context, id int64, version int, at time.Time) error {
	var sec int64
	if !at.IsZero() {
		sec = at.Unix()
	}
	res, err := s.db.ExecContext(ctx, `UPDATE issues SET scheduled_at = ?, updated_at = ?, version = version + 1
		WHERE id = ? AND version = ? AND status IN (?, ?)`, sec, s.now().Unix(), id, version, StatusDraft, StatusApproved)
	return s.checkEdit(ctx, id, version, res, err)
}

// MarkSending records that the send of an issue has started: from then on
// it is frozen, and a restart resumes it. The title and summary of each
// included item are kept as mailed, so that a later edit by the portal is
// recognised as an update of what readers got. Idempotent.
func (s *Store) MarkSending(ctx context.Context, id int64) error {
	iss, err := s.Issue(ctx, id)
	if err != nil {
		return fmt.Errorf("digest: mark issue %d sending: %w", id, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("digest: mark issue %d sending: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE issues SET status = ?, sending_at = ?, version = version + 1
		WHERE id = ? AND status IN (?, ?)`, StatusSending, s.now().Unix(), id, StatusDraft, StatusApproved)
	if err != nil {
		return fmt.Errorf("digest: mark issue %d sending: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // sending or sent already
	}
	for _, it := range iss.Included() {
		if _, err := tx.ExecContext(ctx, `UPDATE issue_items SET sent_title = ?, sent_summary = ? WHERE issue_id = ? AND item_id = ?`,
			it.Item.Title, it.Item.SummaryText, id, it.ItemID); err != nil {
			return fmt.Errorf("digest: mark issue %d sending: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("digest: mark issue %d sending: %w", id, err)
	}
	return nil
}

// MarkSent records that every recipient of the issue has been handled.
func (s *Store) MarkSent(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE issues SET status = ?, sent_at = ?, version = version + 1 WHERE id = ? AND status = ?`,
		StatusSent, s.now().Unix(), id, StatusSending)
	if err != nil {
		return fmt.Errorf("digest: mark issue %d sent: %w", id, err)
	}
	return nil
}

// Reopen puts a sent issue back to sending, for a resend to the recipients
// it failed for (the outbox decides who gets it again).
func (s *Store) Reopen(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE issues SET status = ?, sent_at = 0, version = version + 1 WHERE id = ? AND status IN (?, ?)`,
		StatusSending, id, StatusSent, StatusSending)
	if err != nil {
		return fmt.Errorf("digest: reopen issue %d: %w", id, err)
	}
	return nil
}

// SetNote writes the editor's note in both languages.
func (s *Store) SetNote(ctx context.Context, id int64, version int, noteVI, noteEN string) error {
	return s.edit(ctx, id, version, `UPDATE issues SET note_vi = ?, note_en = ? WHERE id = ?`, noteVI, noteEN, id)
}

// SetIncluded includes or excludes an item, and keeps the decision as a
// label of the item. An item a curator excluded is never carried over to a
// later issue.
func (s *Store) SetIncluded(ctx context.Context, id int64, version int, itemID int64, included bool) error {
	action, by := LabelExclude, ExcludedByStaff
	if included {
		action, by = LabelInclude, ""
	}
	return s.editTx(ctx, id, version, func(tx *sql.Tx) error {
		if err := updateItem(ctx, tx, id, itemID, `UPDATE issue_items SET included = ?, excluded_by = ? WHERE issue_id = ? AND item_id = ?`, included, by, id, itemID); err != nil {
			return err
		}
		return s.addLabel(ctx, tx, id, itemID, action, "")
	})
}

// EditItem sets the staff's displayed title and summary of an item per
// language ("" = as published).
func (s *Store) EditItem(ctx context.Context, id int64, version int, itemID int64, titleVI, titleEN, summaryVI, summaryEN string) error {
	return s.editItem(ctx, id, version, itemID, `UPDATE issue_items SET title_vi = ?, title_en = ?, summary_vi = ?, summary_en = ? WHERE issue_id = ? AND item_id = ?`,
		titleVI, titleEN, summaryVI, summaryEN, id, itemID)
}

// MoveItem puts an item in another section (at its end), and keeps the
// decision as a label of the item.
func (s *Store) MoveItem(ctx context.Context, id int64, version int, itemID int64, theme string) error {
	return s.editTx(ctx, id, version, func(tx *sql.Tx) error {
		var from string
		err := tx.QueryRowContext(ctx, `SELECT theme FROM issue_items WHERE issue_id = ? AND item_id = ?`, id, itemID).Scan(&from)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("item %d is not in issue %d: %w", itemID, id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := updateItem(ctx, tx, id, itemID, `UPDATE issue_items SET theme = ?,
			position = (SELECT COALESCE(MAX(position), 0) + 1 FROM issue_items WHERE issue_id = ? AND theme = ?)
			WHERE issue_id = ? AND item_id = ?`, theme, id, theme, id, itemID); err != nil {
			return err
		}
		return s.addLabel(ctx, tx, id, itemID, LabelMove, from)
	})
}

// Reorder sets the order of a section: itemIDs in their new order. Items of
// the section not listed keep their relative order after the listed ones.
func (s *Store) Reorder(ctx context.Context, id int64, version int, theme string, itemIDs []int64) error {
	return s.editTx(ctx, id, version, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT item_id FROM issue_items WHERE issue_id = ? AND theme = ? ORDER BY position`, id, theme)
		if err != nil {
			return err
		}
		var current []int64
		for rows.Next() {
			var iid int64
			if err := rows.Scan(&iid); err != nil {
				rows.Close()
				return err
			}
			current = append(current, iid)
		}
		rows.Close()
		listed := map[int64]bool{}
		order := make([]int64, 0, len(current))
		inSection := map[int64]bool{}
		for _, c := range current {
			inSection[c] = true
		}
		for _, iid := range itemIDs {
			if inSection[iid] && !listed[iid] {
				listed[iid] = true
				order = append(order, iid)
			}
		}
		for _, c := range current {
			if !listed[c] {
				order = append(order, c)
			}
		}
		for pos, iid := range order {
			if _, err := tx.ExecContext(ctx, `UPDATE issue_items SET position = ? WHERE issue_id = ? AND item_id = ?`, pos+1, id, iid); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddItem places a stored item in a draft's section at its end, included,
// and keeps the decision as a label of the item. An item that was a
// version of one of the draft's stories becomes a story of its own.
func (s *Store) AddItem(ctx context.Context, id int64, version int, itemID int64, theme string) error {
	return s.editTx(ctx, id, version, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM issue_versions WHERE issue_id = ? AND item_id = ?`, id, itemID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO issue_items (issue_id, item_id, theme, position, included)
			VALUES (?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM issue_items WHERE issue_id = ? AND theme = ?), 1)
			ON CONFLICT (issue_id, item_id) DO UPDATE SET included = 1, excluded_by = ''`, id, itemID, theme, id, theme); err != nil {
			return err
		}
		return s.addLabel(ctx, tx, id, itemID, LabelAdd, "")
	})
}

// edit runs one statement against a draft, bumping its version atomically;
// ErrConflict if the version moved, ErrFrozen if it is not a draft.
func (s *Store) edit(ctx context.Context, id int64, version int, query string, args ...any) error {
	return s.editTx(ctx, id, version, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
}

// editItem is edit for a statement about one item of the issue: an item
// that is not in the issue is ErrNotFound, and nothing changes.
func (s *Store) editItem(ctx context.Context, id int64, version int, itemID int64, query string, args ...any) error {
	return s.editTx(ctx, id, version, func(tx *sql.Tx) error {
		return updateItem(ctx, tx, id, itemID, query, args...)
	})
}

// updateItem runs a statement about one item of an issue inside tx:
// ErrNotFound when the item is not in the issue.
func updateItem(ctx context.Context, tx *sql.Tx, id, itemID int64, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("item %d is not in issue %d: %w", itemID, id, ErrNotFound)
	}
	return nil
}

func (s *Store) editTx(ctx context.Context, id int64, version int, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE issues SET version = version + 1, updated_at = ? WHERE id = ? AND version = ? AND status = ?`,
		s.now().Unix(), id, version, StatusDraft)
	if err := s.checkEdit(ctx, id, version, res, err); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return fmt.Errorf("digest: edit issue %d: %w", id, err)
	}
	return tx.Commit()
}

func (s *Store) transition(ctx context.Context, id int64, version int, from, to, set string, args ...any) error {
	q := `UPDATE issues SET status = ?, ` + set + `, updated_at = ?, version = version + 1 WHERE id = ? AND version = ? AND status = ?`
	all := append([]any{to}, args...)
	all = append(all, s.now().Unix(), id, version, from)
	res, err := s.db.ExecContext(ctx, q, all...)
	return s.checkEdit(ctx, id, version, res, err)
}

// checkEdit turns "no row updated" into the reason: missing, changed by
// someone else (version moved), or in a state that forbids the change.
func (s *Store) checkEdit(ctx context.Context, id int64, want int, res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("digest: edit issue %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var status string
	var version int
	switch err := s.db.QueryRowContext(ctx, `SELECT status, version FROM issues WHERE id = ?`, id).Scan(&status, &version); {
	case err == sql.ErrNoRows:
		return ErrNotFound
	case err != nil:
		return err
	case version != want:
		return ErrConflict
	}
	return ErrFrozen
}

// HasItem reports whether an item is placed in an issue.
func (s *Store) HasItem(ctx context.Context, issueID, itemID int64) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM issue_items WHERE issue_id = ? AND item_id = ?`, issueID, itemID).Scan(&n); err != nil {
		return false, fmt.Errorf("digest: issue %d: %w", issueID, err)
	}
	return n > 0, nil
}

// SkippedSend is a scheduled send that made no new issue because a send
// of the digest was going on.
type SkippedSend struct {
	Digest string
	TickAt time.Time // the scheduled time
	Issue  int       // the number of the issue whose send was going on
	Reason string    // SkipRunning or SkipResumed
}

// Why a scheduled send was skipped (SkippedSend.Reason).
const (
	SkipRunning = "running" // the digest's previous send was still running
	SkipResumed = "resumed" // an interrupted send was resumed instead
)

// RecordSkippedSend keeps a skipped scheduled send for the staff's history.
func (s *Store) RecordSkippedSend(ctx context.Context, sk SkippedSend) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO skipped_sends (digest, tick_at, issue_number, reason, created_at) VALUES (?, ?, ?, ?, ?)`,
		sk.Digest, sk.TickAt.Unix(), sk.Issue, sk.Reason, s.now().Unix())
	if err != nil {
		return fmt.Errorf("digest %s: record skipped send: %w", sk.Digest, err)
	}
	return nil
}

// SkippedSends lists the skipped scheduled sends of a digest ("" = all),
// newest first, at most limit.
func (s *Store) SkippedSends(ctx context.Context, digestKey string, limit int) ([]SkippedSend, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT digest, tick_at, issue_number, reason FROM skipped_sends
		WHERE ? = '' OR digest = ? ORDER BY tick_at DESC, id DESC LIMIT ?`, digestKey, digestKey, limit)
	if err != nil {
		return nil, fmt.Errorf("digest: read skipped sends: %w", err)
	}
	defer rows.Close()
	var out []SkippedSend
	for rows.Next() {
		var sk SkippedSend
		var at int64
		if err := rows.Scan(&sk.Digest, &at, &sk.Issue, &sk.Reason); err != nil {
			return nil, err
		}
		sk.TickAt = store.Time(at)
		out = append(out, sk)
	}
	return out, rows.Err()
}
