package digest

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/store"
)

// Staff actions kept as labels.
const (
	LabelInclude = "include"
	LabelExclude = "exclude"
	LabelMove    = "move"
	LabelAdd     = "add"
)

// Label is a staff decision about an item's theme.
type Label struct {
	ItemID, IssueID int64
	Action          string // LabelInclude, LabelExclude, LabelMove, LabelAdd
	Theme           string // the item's section after the action
	FromTheme       string // a move's section before
	At              time.Time
}

// addLabel records an action on an item of an issue, with the section the
// item is in after it.
func (s *Store) addLabel(ctx context.Context, tx *sql.Tx, issueID, itemID int64, action, from string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO item_labels (item_id, issue_id, action, theme, from_theme, at)
		SELECT item_id, issue_id, ?, theme, ?, ? FROM issue_items WHERE issue_id = ? AND item_id = ?`,
		action, from, s.now().Unix(), issueID, itemID)
	if err != nil {
		return fmt.Errorf("digest: label item %d: %w", itemID, err)
	}
	return nil
}

// Labels returns the staff's latest decision about every item they acted
// on, by item id.
func (s *Store) Labels(ctx context.Context) ([]Label, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT l.item_id, l.issue_id, l.action, l.theme, l.from_theme, l.at FROM item_labels l
		WHERE l.id = (SELECT MAX(id) FROM item_labels WHERE item_id = l.item_id) ORDER BY l.item_id`)
	if err != nil {
		return nil, fmt.Errorf("digest: read labels: %w", err)
	}
	defer rows.Close()
	var out []Label
	for rows.Next() {
		var l Label
		var at int64
		if err := rows.Scan(&l.ItemID, &l.IssueID, &l.Action, &l.Theme, &l.FromTheme, &at); err != nil {
			return nil, err
		}
		l.At = store.Time(at)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Labelled turns a decision into a line of a labelled set, for themes (the
// configured theme keys). It records what staff decided and no more:
//
//   - include, add or move into a theme: the item is of that theme; the
//     other themes are left open (optional), except the one a move took it
//     out of, which it is not;
//   - exclude from a section, or move to "other": the item is not of that
//     section's (or the left section's) theme; the others are left open.
func (l Label) Labelled(themes []string) (labels, optional []string) {
	labels, optional = []string{}, []string{}
	not := l.FromTheme
	switch {
	case l.Action == LabelExclude:
		not = l.Theme
	case l.Theme != theme.Other:
		labels = append(labels, l.Theme)
	}
	for _, t := range themes {
		if t != not && (len(labels) == 0 || t != labels[0]) {
			optional = append(optional, t)
		}
	}
	return labels, optional
}

// LabelledItems returns the items staff acted on as a labelled set (the
// -eval-themes format) for the configured theme keys, with each item's
// title and text as the rules read them. Items no longer stored are left
// out.
func (s *Store) LabelledItems(ctx context.Context, themes []string) ([]theme.Labelled, error) {
	labels, err := s.Labels(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(labels))
	for i, l := range labels {
		ids[i] = l.ItemID
	}
	items, err := s.items.ItemsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("digest: read labelled items: %w", err)
	}
	out := make([]theme.Labelled, 0, len(labels))
	for _, l := range labels {
		it, ok := items[l.ItemID]
		if !ok {
			continue
		}
		x := theme.Labelled{ID: fmt.Sprintf("item-%d", it.ID), Source: it.URL, Lang: it.Language, Title: it.Title, Summary: it.SummaryText}
		x.Labels, x.Option = l.Labelled(themes)
		out = append(out, x)
	}
	return out, nil
}

// WriteLabelled writes a labelled set as JSON Lines, one item a line.
func WriteLabelled(w io.Writer, items []theme.Labelled) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			return err
		}
	}
	return bw.Flush()
}
