package digest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/haiphong/hpdigest/digest/story"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/store"
)

// Stories. Items from any feeds that report one event (the Vietnamese and
// English editions of an article, two portals carrying one agency report)
// are one story. An issue holds one entry per story, an issue item, whose
// item is the story's lead; the story's other items are attached to it as
// its versions (issue_versions), each with the decision that joined it.
// Readers get the version in their language (see render).
//
// The detector (digest/story) compares signals extracted once per item
// when it is classified (item_signals); signals made with another
// extraction or gazetteer, or for text the portal has since edited, are
// made again when an assembly needs them. Staff decisions about pairs of
// items (confirm, split, merge, keep apart) are kept in story_decisions
// and bind every later grouping. An issue item without versions is a
// one-version story: databases from before stories read as such.

// How a version came to be attached to a story (StoryVersion.How).
const (
	VersionByRules = "rules" // the detector paired it (Reason explains)
	VersionByText  = "text"  // the same link or text as an item of the story
	VersionByStaff = "staff" // staff merged it in
)

// StoryVersion is an item attached to an issue item as another version
// of its story: the story in another language, or from another source.
type StoryVersion struct {
	ItemID      int64
	Item        feeds.Item
	How         string  // VersionByRules, VersionByText or VersionByStaff
	Reason      string  // the detector's explanation of the pairing
	Score       float64 // the pairing's score (VersionByRules)
	ConfirmedBy string  // the staff member who confirmed the pairing, if any
}

// SetStories turns same-story detection on (nil turns it off: every item
// is its own story, and only the same link or text joins items).
func (s *Store) SetStories(d *story.Detector) { s.stories.Store(d) }

// storyItem is what the detector reads of an item.
func storyItem(it feeds.Item) story.Item {
	return story.Item{ID: itemKey(it.ID), Lang: it.Language, Title: it.Title, Summary: it.SummaryText,
		URL: it.URL, Source: it.FeedName, Published: it.Published()}
}

func itemKey(id int64) string { return strconv.FormatInt(id, 10) }

func keyItem(k string) int64 {
	id, _ := strconv.ParseInt(k, 10, 64)
	return id
}

// SaveSignals extracts and stores the signals same-story detection reads
// of an item; the daemon calls it when it classifies a new item.
func (s *Store) SaveSignals(ctx context.Context, it feeds.Item) error {
	det := s.stories.Load()
	if det == nil {
		return nil
	}
	return s.writeSignals(ctx, s.db, []preparedItem{{it.ID, det.Prepare(storyItem(it)), det.PreparedVersion()}})
}

type preparedItem struct {
	id      int64
	p       *story.Prepared
	version string // the detector's PreparedVersion
}

func (s *Store) writeSignals(ctx context.Context, db execer, fresh []preparedItem) error {
	if len(fresh) == 0 {
		return nil
	}
	for _, f := range fresh {
		data, err := f.p.MarshalBinary()
		if err != nil {
			return fmt.Errorf("digest: signals of item %d: %w", f.id, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO item_signals (item_id, version, data) VALUES (?, ?, ?)
			ON CONFLICT (item_id) DO UPDATE SET version = excluded.version, data = excluded.data`, f.id, f.version, data); err != nil {
			return fmt.Errorf("digest: save signals of item %d: %w", f.id, err)
		}
	}
	return nil
}

// prepared returns the items' signals from their stored encodings,
// extracting afresh those missing or stale; fresh lists the new ones, for
// the caller to store.
func (s *Store) prepared(ctx context.Context, det *story.Detector, items []feeds.Item) (out []*story.Prepared, fresh []preparedItem, err error) {
	version := det.PreparedVersion()
	stored := make(map[int64][]byte, len(items))
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		in, args := store.InList(chunk)
		rows, err := s.db.QueryContext(ctx, `SELECT item_id, data FROM item_signals WHERE version = ? AND item_id IN (`+in+`)`,
			append([]any{version}, args...)...)
		if err != nil {
			return nil, nil, fmt.Errorf("digest: read signals: %w", err)
		}
		for rows.Next() {
			var id int64
			var data []byte
			if err := rows.Scan(&id, &data); err != nil {
				rows.Close()
				return nil, nil, err
			}
			stored[id] = data
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	out = make([]*story.Prepared, len(items))
	for i, it := range items {
		data, ok := stored[it.ID]
		if !ok {
			out[i] = det.Prepare(storyItem(it))
			fresh = append(fresh, preparedItem{it.ID, out[i], version})
			continue
		}
		p, stale := det.Restore(storyItem(it), data)
		out[i] = p
		if stale {
			fresh = append(fresh, preparedItem{it.ID, p, version})
		}
	}
	return out, fresh, nil
}

// constraints returns the staff decisions about pairs of the items.
func (s *Store) constraints(ctx context.Context, ids map[int64]bool) (story.Constraints, error) {
	var c story.Constraints
	rows, err := s.db.QueryContext(ctx, `SELECT item_a, item_b, same FROM story_decisions ORDER BY decided_at, item_a, item_b`)
	if err != nil {
		return c, fmt.Errorf("digest: read story decisions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, b int64
		var same bool
		if err := rows.Scan(&a, &b, &same); err != nil {
			return c, err
		}
		if !ids[a] || !ids[b] {
			continue
		}
		p := [2]string{itemKey(a), itemKey(b)}
		if same {
			c.Same = append(c.Same, p)
		} else {
			c.Different = append(c.Different, p)
		}
	}
	return c, rows.Err()
}

// group sorts items into stories with the staff's decisions; fresh are
// the signals it had to extract, for the caller to store.
func (s *Store) group(ctx context.Context, items []feeds.Item) (*story.Grouping, []preparedItem, error) {
	det := s.stories.Load() // one detector for the whole grouping, also across a reload
	prepared, fresh, err := s.prepared(ctx, det, items)
	if err != nil {
		return nil, nil, err
	}
	ids := make(map[int64]bool, len(items))
	for _, it := range items {
		ids[it.ID] = true
	}
	c, err := s.constraints(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	g, err := det.GroupPrepared(prepared, c)
	if err != nil {
		return nil, nil, fmt.Errorf("digest: stories: %w", err)
	}
	return g, fresh, nil
}

// linkOf returns the decision that joined item id to its story: the one
// with an item of the entry if there is one, else any naming id.
func linkOf(st *story.Story, id int64, entry map[int64]bool) (story.Decision, bool) {
	k := itemKey(id)
	var found story.Decision
	ok := false
	for _, d := range st.Links {
		if d.A != k && d.B != k {
			continue
		}
		other := d.A
		if other == k {
			other = d.B
		}
		if entry[keyItem(other)] {
			return d, true
		}
		if !ok {
			found, ok = d, true
		}
	}
	return found, ok
}

// recordDecision keeps a staff decision about two items (the latest
// decision about a pair replaces an earlier one).
func (s *Store) recordDecision(ctx context.Context, tx *sql.Tx, a, b int64, same bool, by string) error {
	if a == b {
		return nil
	}
	if b < a {
		a, b = b, a
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO story_decisions (item_a, item_b, same, decided_by, decided_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (item_a, item_b) DO UPDATE SET same = excluded.same, decided_by = excluded.decided_by, decided_at = excluded.decided_at`,
		a, b, same, by, s.now().Unix())
	if err != nil {
		return fmt.Errorf("digest: record story decision: %w", err)
	}
	return nil
}

// versionLead returns the entry a version belongs to in an issue
// (ErrNotFound when the item is not a version there).
func versionLead(ctx context.Context, tx *sql.Tx, issueID, itemID int64) (int64, error) {
	var lead int64
	err := tx.QueryRowContext(ctx, `SELECT lead_id FROM issue_versions WHERE issue_id = ? AND item_id = ?`, issueID, itemID).Scan(&lead)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("item %d is not a version of a story in issue %d: %w", itemID, issueID, ErrNotFound)
	}
	return lead, err
}

// storyItems returns an entry's item and its versions' items.
func storyItems(ctx context.Context, tx *sql.Tx, issueID, lead int64) ([]int64, error) {
	versions, err := store.IDs(ctx, tx, `SELECT item_id FROM issue_versions WHERE issue_id = ? AND lead_id = ? ORDER BY item_id`, issueID, lead)
	if err != nil {
		return nil, err
	}
	return append([]int64{lead}, versions...), nil
}

func isEntry(ctx context.Context, tx *sql.Tx, issueID, itemID int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM issue_items WHERE issue_id = ? AND item_id = ?`, issueID, itemID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("item %d is not a story of issue %d: %w", itemID, issueID, ErrNotFound)
	}
	return nil
}

// ConfirmVersion records that staff checked a version's pairing: the
// item and its story's entry are one story for every later grouping.
func (s *Store) ConfirmVersion(ctx context.Context, id int64, version int, itemID int64, by string) error {
	return s.editTx(ctx, id, version, func(tx *sql.Tx) error {
		lead, err := versionLead(ctx, tx, id, itemID)
		if err != nil {
			return err
		}
		if err := s.recordDecision(ctx, tx, lead, itemID, true, by); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE issue_versions SET confirmed_by = ? WHERE issue_id = ? AND item_id = ?`, by, id, itemID)
		return err
	})
}

// SplitVersion takes a version out of its story: it becomes a story of its
// own at the end of section (included), and is never again grouped with
// the items of the story it left.
func (s *Store) SplitVersion(ctx context.Context, id int64, version int, itemID int64, section, by string) error {
	return s.editTx(ctx, id, version, func(tx *sql.Tx) error {
		lead, err := versionLead(ctx, tx, id, itemID)
		if err != nil {
			return err
		}
		members, err := storyItems(ctx, tx, id, lead)
		if err != nil {
			return err
		}
		for _, m := range members {
			if err := s.recordDecision(ctx, tx, m, itemID, false, by); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM issue_versions WHERE issue_id = ? AND item_id = ?`, id, itemID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO issue_items (issue_id, item_id, theme, position, included)
			VALUES (?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM issue_items WHERE issue_id = ? AND theme = ?), 1)`,
			id, itemID, section, id, section)
		return err
	})
}

// MergeStories makes the story of entry from part of the story of entry
// into: from's item and versions become versions of into, and the two are
// one story for every later grouping. The merged story is included if
// either was; staff titles and summaries of into are kept, and from's fill
// the languages into has none for.
func (s *Store) MergeStories(ctx context.Context, id int64, version int, into, from int64, by string) error {
	if into == from {
		return fmt.Errorf("merge item %d with itself: %w", into, ErrNotFound)
	}
	return s.editTx(ctx, id, version, func(tx *sql.Tx) error {
		for _, e := range []int64{into, from} {
			if err := isEntry(ctx, tx, id, e); err != nil {
				return err
			}
		}
		if err := s.recordDecision(ctx, tx, into, from, true, by); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE issue_versions SET lead_id = ? WHERE issue_id = ? AND lead_id = ?`, into, id, from); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO issue_versions (issue_id, item_id, lead_id, how, confirmed_by) VALUES (?, ?, ?, ?, ?)`,
			id, from, into, VersionByStaff, by); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE issue_items AS t SET
				title_vi = CASE WHEN t.title_vi = '' THEN f.title_vi ELSE t.title_vi END,
				title_en = CASE WHEN t.title_en = '' THEN f.title_en ELSE t.title_en END,
				summary_vi = CASE WHEN t.summary_vi = '' THEN f.summary_vi ELSE t.summary_vi END,
				summary_en = CASE WHEN t.summary_en = '' THEN f.summary_en ELSE t.summary_en END,
				excluded_by = CASE WHEN t.included = 0 AND f.included = 1 THEN '' ELSE t.excluded_by END,
				included = MAX(t.included, f.included)
			FROM (SELECT title_vi, title_en, summary_vi, summary_en, included FROM issue_items WHERE issue_id = ? AND item_id = ?) AS f
			WHERE t.issue_id = ? AND t.item_id = ?`, id, from, id, into); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM issue_items WHERE issue_id = ? AND item_id = ?`, id, from)
		return err
	})
}

// KeepApart records that two items of an issue are not one story: their
// pairing is no longer suggested, and no grouping joins them.
func (s *Store) KeepApart(ctx context.Context, id int64, version int, a, b int64, by string) error {
	return s.editTx(ctx, id, version, func(tx *sql.Tx) error {
		for _, it := range []int64{a, b} {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM issue_items WHERE issue_id = ?1 AND item_id = ?2)
				+ (SELECT COUNT(*) FROM issue_versions WHERE issue_id = ?1 AND item_id = ?2)`, id, it).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("item %d is not in issue %d: %w", it, id, ErrNotFound)
			}
		}
		return s.recordDecision(ctx, tx, a, b, false, by)
	})
}

// SetTranslation sets the staff's title and summary of a story in one
// language ("vi" or "en"), leaving the other language's as they are.
func (s *Store) SetTranslation(ctx context.Context, id int64, version int, itemID int64, lang, title, summary string) error {
	var q string
	switch lang {
	case "vi":
		q = `UPDATE issue_items SET title_vi = ?, summary_vi = ? WHERE issue_id = ? AND item_id = ?`
	case "en":
		q = `UPDATE issue_items SET title_en = ?, summary_en = ? WHERE issue_id = ? AND item_id = ?`
	default:
		return fmt.Errorf("digest: translation into %q: want vi or en", lang)
	}
	return s.editItem(ctx, id, version, itemID, q, title, summary, id, itemID)
}

// Suggestion is a possible pairing staff may act on: two stories of an
// issue that may be one (Decision explains why, and how sure the rules
// are).
type Suggestion struct {
	Into, From int64 // the two stories' entries: Into is the one to keep
	A, B       int64 // the two items compared (each Into's or From's, or one of their versions)
	Decision   story.Decision
}

// Confidence is the pairing's score as a share of the threshold, capped
// below 1 when the rules did not pair the items themselves.
func (sg Suggestion) Confidence() float64 {
	d := sg.Decision
	if d.Threshold <= 0 {
		return 0
	}
	c := d.Score / d.Threshold
	if !d.Same && c > 0.99 {
		c = 0.99
	}
	return max(0, min(c, 1))
}

// MaxSuggestions bounds the suggestions shown for one issue.
const MaxSuggestions = 30

// Suggestions returns pairings staff may want to make in an issue: pairs
// of its stories (included ones, and ones left out for lack of room) that
// the rules find close to one story, best first; and stories the rules
// now find to be one (when a later item joined them). Nil when same-story
// detection is off.
func (s *Store) Suggestions(ctx context.Context, iss *Issue) ([]Suggestion, error) {
	if s.stories.Load() == nil {
		return nil, nil
	}
	entryOf := map[int64]int64{}
	var items []feeds.Item
	rank := map[int64]int{}
	for i, it := range iss.Items {
		if !it.Included && it.ExcludedBy != ExcludedByLimit {
			continue
		}
		// The story to keep: an included one, Vietnamese first, then the
		// first in the issue.
		rank[it.ItemID] = i
		if it.Item.Language != "vi" {
			rank[it.ItemID] += len(iss.Items)
		}
		if !it.Included {
			rank[it.ItemID] += 2 * len(iss.Items)
		}
		entryOf[it.ItemID] = it.ItemID
		items = append(items, it.Item)
		for _, v := range it.Versions {
			if _, dup := entryOf[v.ItemID]; !dup {
				entryOf[v.ItemID] = it.ItemID
				items = append(items, v.Item)
			}
		}
	}
	if len(items) < 2 {
		return nil, nil
	}
	g, fresh, err := s.group(ctx, items)
	if err != nil {
		return nil, err
	}
	if err := s.writeSignals(ctx, s.db, fresh); err != nil {
		return nil, err
	}
	best := map[[2]int64]Suggestion{}
	consider := func(d story.Decision) {
		a, b := keyItem(d.A), keyItem(d.B)
		ea, eb := entryOf[a], entryOf[b]
		if ea == 0 || eb == 0 || ea == eb {
			return
		}
		if rank[eb] < rank[ea] {
			ea, eb = eb, ea
		}
		k := [2]int64{ea, eb}
		if old, ok := best[k]; ok && old.Decision.Score >= d.Score {
			return
		}
		best[k] = Suggestion{Into: ea, From: eb, A: a, B: b, Decision: d}
	}
	for _, d := range g.Suggestions {
		consider(d)
	}
	for _, st := range g.Stories {
		for _, d := range st.Links {
			consider(d)
		}
	}
	out := make([]Suggestion, 0, len(best))
	for _, sg := range best {
		out = append(out, sg)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Decision.Score != out[j].Decision.Score {
			return out[i].Decision.Score > out[j].Decision.Score
		}
		return out[i].Into < out[j].Into || out[i].Into == out[j].Into && out[i].From < out[j].From
	})
	if len(out) > MaxSuggestions {
		out = out[:MaxSuggestions]
	}
	return out, nil
}

// HasVersionIn reports whether a portal published the story in lang: its
// entry's item or one of its versions.
func (it IssueItem) HasVersionIn(lang string) bool {
	if it.Item.Language == lang {
		return true
	}
	for _, v := range it.Versions {
		if v.Item.Language == lang {
			return true
		}
	}
	return false
}

// TranslatedInto reports whether staff wrote the story's title in lang.
func (it IssueItem) TranslatedInto(lang string) bool {
	switch lang {
	case "vi":
		return it.TitleVI != ""
	case "en":
		return it.TitleEN != ""
	}
	return false
}

// Coverage is how much of an issue an edition (the readers of one
// language) gets in its own language.
type Coverage struct {
	Lang       string
	Stories    int // included stories
	Native     int // published in Lang by a portal
	Translated int // not published in Lang, translated by staff (counted only when the digest's mode uses translations)
	Missing    int // neither: shown in the other language with a badge, or left out (Mode)
	Mode       string
}

// InLanguage is the number of stories the edition gets in its language.
func (c Coverage) InLanguage() int { return c.Native + c.Translated }

// Shown is the number of stories the edition's readers get.
func (c Coverage) Shown() int {
	if c.Mode == OtherLanguageBadge {
		return c.Stories
	}
	return c.InLanguage()
}

// CoverageOf counts the included stories of an issue for the edition of
// lang under the digest's other_language mode.
func CoverageOf(iss *Issue, lang, mode string) Coverage {
	if mode == "" {
		mode = OtherLanguageBadge
	}
	c := Coverage{Lang: lang, Mode: mode}
	for _, it := range iss.Items {
		if !it.Included {
			continue
		}
		c.Stories++
		switch {
		case it.HasVersionIn(lang):
			c.Native++
		case mode != OtherLanguageOmit && it.TranslatedInto(lang):
			c.Translated++
		default:
			c.Missing++
		}
	}
	return c
}
