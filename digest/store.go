package digest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/store"
)

// Errors callers can test for.
var (
	ErrNotFound = errors.New("issue not found")
	// ErrConflict means the issue changed since the caller read it (another
	// curator's edit); reload and try again.
	ErrConflict = errors.New("issue was changed by someone else; reload it")
	// ErrFrozen means the issue is approved or already sending/sent and
	// cannot be edited.
	ErrFrozen = errors.New("issue is approved or sent; un-approve it to edit")
)

// ItemSource is what the digest needs from the feeds store.
type ItemSource interface {
	ItemsPublishedBetween(ctx context.Context, from, to time.Time) ([]feeds.Item, error)
	ItemsByID(ctx context.Context, ids []int64) (map[int64]feeds.Item, error)
}

// Classification is the stored theme decision for one item.
type Classification struct {
	Themes      []string // matched theme keys; empty = other
	Primary     string   // the best-scoring theme, or theme.Other
	Explanation string
}

// Classify turns a classifier result into a stored classification.
func Classify(c *theme.Classifier, it feeds.Item) Classification {
	r := c.Classify(it.Title, it.SummaryText)
	cl := Classification{Themes: r.Themes, Primary: theme.Other, Explanation: r.Explanation}
	best := -1.0
	for _, k := range r.Themes {
		if s := r.Scores[k]; s > best {
			best, cl.Primary = s, k
		}
	}
	return cl
}

// Issue is one issue of a digest with its items.
type Issue struct {
	ID          int64
	Digest      string
	Number      int
	Status      string
	PeriodStart time.Time
	PeriodEnd   time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ApprovedAt  time.Time
	ApprovedBy  string
	ScheduledAt time.Time // zero: the digest's next scheduled send
	SendingAt   time.Time
	SentAt      time.Time
	NoteVI      string
	NoteEN      string
	Version     int
	// IncludedCount is the number of included items (also set by Issues,
	// which does not load the items themselves).
	IncludedCount int
	Items         []IssueItem // ordered by section (digest theme order) then position
}

// Editable reports whether staff may change the issue.
func (iss *Issue) Editable() bool { return iss.Status == StatusDraft }

// Included returns the included items.
func (iss *Issue) Included() []IssueItem {
	var out []IssueItem
	for _, it := range iss.Items {
		if it.Included {
			out = append(out, it)
		}
	}
	return out
}

// IssueItem is one item placed in an issue.
type IssueItem struct {
	ItemID    int64
	Theme     string // the section it is shown in
	Position  int    // order inside the section, from 1
	Included  bool
	TitleVI   string // staff overrides ("" = as published)
	TitleEN   string
	SummaryVI string
	SummaryEN string
	// ExcludedBy says why an excluded item is left out (ExcludedByLimit,
	// ExcludedByStaff, ExcludedByUpdate; "" for included items).
	ExcludedBy string
	// CarriedFrom is the number of the issue the item was left out of for
	// lack of room (max_per_section); 0 for new items.
	CarriedFrom int
	// UpdateOf is the item of a story already mailed (in issue UpdateIn)
	// that this item corrects or edits: staff see "updated since sent".
	UpdateOf int64
	UpdateIn int
	Item     feeds.Item
	Class    Classification
}

// Store reads and writes issues.
type Store struct {
	db    *sql.DB
	items ItemSource
	now   func() time.Time
}

// NewStore wraps an open database (migrations applied) and the item source.
func NewStore(db *sql.DB, items ItemSource) *Store {
	return &Store{db: db, items: items, now: time.Now}
}

// SetClock replaces the clock (the daemon's, or a test's).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// SaveClassification stores (or replaces) an item's themes.
func (s *Store) SaveClassification(ctx context.Context, itemID int64, c Classification) error {
	return s.saveClassification(ctx, s.db, itemID, c)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) saveClassification(ctx context.Context, db execer, itemID int64, c Classification) error {
	_, err := db.ExecContext(ctx, `INSERT INTO item_themes (item_id, themes, primary_theme, explanation, classified_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (item_id) DO UPDATE SET themes = excluded.themes, primary_theme = excluded.primary_theme,
			explanation = excluded.explanation, classified_at = excluded.classified_at`,
		itemID, strings.Join(c.Themes, ","), c.Primary, c.Explanation, s.now().Unix())
	if err != nil {
		return fmt.Errorf("digest: save themes of item %d: %w", itemID, err)
	}
	return nil
}

// Classifications returns the stored themes of these items.
func (s *Store) Classifications(ctx context.Context, ids []int64) (map[int64]Classification, error) {
	out := make(map[int64]Classification, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := s.db.QueryContext(ctx, `SELECT item_id, themes, primary_theme, explanation FROM item_themes WHERE item_id IN (`+placeholders(len(chunk))+`)`, int64Args(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("digest: read themes: %w", err)
		}
		for rows.Next() {
			var id int64
			var themes string
			var c Classification
			if err := rows.Scan(&id, &themes, &c.Primary, &c.Explanation); err != nil {
				rows.Close()
				return nil, err
			}
			if themes != "" {
				c.Themes = strings.Split(themes, ",")
			}
			out[id] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Assemble brings the digest's open draft up to date, creating it if there
// is none: items published inside the window that are not a story already
// placed in one of the digest's recent issues (see samestory.go), newest
// first, each at the end of its section (staff edits are kept); then the
// items left out of the last sent issue for lack of room (max_per_section,
// not a curator's choice), marked as carried over and included where there
// is room. A correction of a story
// already mailed is placed excluded and marked as an update of it. An
// approved or sending issue is returned unchanged. classify is called for
// items that have no stored classification yet. It returns the issue and
// the number of items added.
func (s *Store) Assemble(ctx context.Context, d Digest, classify func(feeds.Item) Classification) (*Issue, int, error) {
	now := s.now()
	open, err := s.OpenIssueHeader(ctx, d.Key) // the items are loaded once, at the end
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, 0, err
	}
	if open != nil && !open.Editable() {
		iss, err := s.Issue(ctx, open.ID)
		return iss, 0, err
	}
	from := now.Add(-d.Window)
	candidates, err := s.items.ItemsPublishedBetween(ctx, from, now.Add(24*time.Hour))
	if err != nil {
		return nil, 0, fmt.Errorf("digest %s: read items: %w", d.Key, err)
	}
	p, err := s.placedItems(ctx, d.Key, from.Add(-d.Window))
	if err != nil {
		return nil, 0, err
	}
	ids := make([]int64, 0, len(candidates)+len(p.carry))
	for _, it := range candidates {
		ids = append(ids, it.ID)
	}
	for _, c := range p.carry {
		ids = append(ids, c.item.ID)
	}
	classes, err := s.Classifications(ctx, ids)
	if err != nil {
		return nil, 0, err
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var issueID int64
	if open != nil {
		issueID = open.ID
	} else {
		issueID, err = createIssue(ctx, tx, d.Key, from, now)
		if err != nil {
			return nil, 0, err
		}
	}
	counts, last, err := sectionCounts(ctx, tx, issueID)
	if err != nil {
		return nil, 0, err
	}
	inDigest := map[string]bool{}
	for _, t := range d.Themes {
		inDigest[t] = true
	}
	added := 0
	place := func(it feeds.Item, section string, pl placement) error {
		if section == "" {
			c, ok := classes[it.ID]
			if !ok {
				c = classify(it)
				if err := s.saveClassification(ctx, tx, it.ID, c); err != nil {
					return err
				}
			}
			section = SectionFor(c, d.Themes)
		}
		included := pl.updateOf == 0 && inDigest[section] && counts[section] < d.MaxPerSection
		excludedBy := ""
		switch {
		case pl.updateOf != 0:
			excludedBy = ExcludedByUpdate
		case !included && inDigest[section]:
			excludedBy = ExcludedByLimit
		}
		if included {
			counts[section]++
		}
		last[section]++
		if _, err := tx.ExecContext(ctx, `INSERT INTO issue_items (issue_id, item_id, theme, position, included, excluded_by, carried_from, update_of, update_in)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			issueID, it.ID, section, last[section], included, excludedBy, pl.carriedFrom, pl.updateOf, pl.updateIn); err != nil {
			return fmt.Errorf("digest %s: place item %d: %w", d.Key, it.ID, err)
		}
		added++
		return nil
	}
	for _, it := range candidates { // newest first
		if p.taken[it.ID] {
			continue
		}
		text := newStoryText(it)
		m, ok := p.stories.match(text)
		if ok || p.taken[it.StoryID] {
			if ok && m.mailed && isUpdate(m.sent, text, m.feedID == it.FeedID) {
				if err := place(it, "", placement{updateOf: m.itemID, updateIn: m.number}); err != nil {
					return nil, 0, err
				}
				p.stories.add(it, 0, false)
			}
			continue
		}
		p.stories.add(it, 0, false)
		if err := place(it, "", placement{}); err != nil {
			return nil, 0, err
		}
	}
	// Then what did not fit last time: included where there is room left.
	for _, c := range p.carry {
		if err := place(c.item, c.section, placement{carriedFrom: c.from}); err != nil {
			return nil, 0, err
		}
	}
	if added > 0 || open == nil {
		if _, err := tx.ExecContext(ctx, `UPDATE issues SET period_end_at = ?, updated_at = ? WHERE id = ?`, now.Unix(), now.Unix(), issueID); err != nil {
			return nil, 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("digest %s: save draft: %w", d.Key, err)
	}
	iss, err := s.Issue(ctx, issueID)
	return iss, added, err
}

// placement is how an item comes into a draft.
type placement struct {
	carriedFrom int   // left out of this issue number for lack of room
	updateOf    int64 // corrects this mailed item
	updateIn    int   // of this issue number
}

// SectionFor picks the section of an item: its best theme if the digest has
// it, else the first of its themes the digest has, else "other".
func SectionFor(c Classification, digestThemes []string) string {
	has := func(t string) bool {
		for _, d := range digestThemes {
			if d == t {
				return true
			}
		}
		return false
	}
	if has(c.Primary) {
		return c.Primary
	}
	for _, t := range c.Themes {
		if has(t) {
			return t
		}
	}
	return theme.Other
}

func createIssue(ctx context.Context, tx *sql.Tx, digestKey string, from, now time.Time) (int64, error) {
	var number int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM issues WHERE digest = ?`, digestKey).Scan(&number); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO issues (digest, number, status, period_start_at, period_end_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		digestKey, number, StatusDraft, from.Unix(), now.Unix(), now.Unix(), now.Unix())
	if err != nil {
		return 0, fmt.Errorf("digest %s: create issue: %w", digestKey, err)
	}
	return res.LastInsertId()
}

func sectionCounts(ctx context.Context, tx *sql.Tx, issueID int64) (included, lastPos map[string]int, err error) {
	included, lastPos = map[string]int{}, map[string]int{}
	rows, err := tx.QueryContext(ctx, `SELECT theme, SUM(included), MAX(position) FROM issue_items WHERE issue_id = ? GROUP BY theme`, issueID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		var n, p int
		if err := rows.Scan(&t, &n, &p); err != nil {
			return nil, nil, err
		}
		included[t], lastPos[t] = n, p
	}
	return included, lastPos, rows.Err()
}

// placed is what a digest's recent issues hold, for assembling the next
// draft.
type placed struct {
	taken   map[int64]bool // item and story ids placed in an issue
	stories placedStories  // their text, to recognise a story published again
	carry   []carryOver    // left out of the last sent issue for lack of room
}

type carryOver struct {
	item    feeds.Item
	section string
	from    int // the issue's number
}

// placedItems reads the items placed in the digest's issues that ended
// after since.
func (s *Store) placedItems(ctx context.Context, digestKey string, since time.Time) (placed, error) {
	p := placed{taken: map[int64]bool{}}
	rows, err := s.db.QueryContext(ctx, `SELECT ii.item_id, ii.theme, ii.included, ii.excluded_by, ii.carried_from,
		ii.sent_title, ii.sent_summary, i.number, i.status,
		COALESCE(i.number = (SELECT MAX(number) FROM issues WHERE digest = i.digest AND status = ?), 0) AS last_sent
		FROM issue_items ii JOIN issues i ON i.id = ii.issue_id
		WHERE i.digest = ? AND i.period_end_at >= ? ORDER BY i.number, ii.theme, ii.position`, StatusSent, digestKey, since.Unix())
	if err != nil {
		return p, fmt.Errorf("digest %s: read placed items: %w", digestKey, err)
	}
	type row struct {
		id                  int64
		theme, excludedBy   string
		included, lastSent  bool
		carriedFrom, number int
		status              string
		sentTitle, sentSum  string
	}
	var all []row
	var ids []int64
	placedTimes := map[int64]int{}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.theme, &r.included, &r.excludedBy, &r.carriedFrom, &r.sentTitle, &r.sentSum, &r.number, &r.status, &r.lastSent); err != nil {
			rows.Close()
			return p, err
		}
		all = append(all, r)
		ids = append(ids, r.id)
		placedTimes[r.id]++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return p, err
	}
	items, err := s.items.ItemsByID(ctx, ids)
	if err != nil {
		return p, fmt.Errorf("digest %s: read placed items: %w", digestKey, err)
	}
	for _, r := range all {
		it, ok := items[r.id]
		if r.lastSent && r.excludedBy == ExcludedByLimit && r.carriedFrom == 0 && placedTimes[r.id] == 1 && ok {
			p.carry = append(p.carry, carryOver{item: it, section: r.theme, from: r.number})
		}
		p.taken[r.id] = true
		if !ok {
			continue
		}
		if it.StoryID != 0 {
			p.taken[it.StoryID] = true
		}
		mailed := r.included && (r.status == StatusSent || r.status == StatusSending)
		p.stories.addPlaced(it, r.number, mailed, r.sentTitle, r.sentSum)
	}
	return p, nil
}

const issueColumns = `id, digest, number, status, period_start_at, period_end_at, created_at, updated_at,
	approved_at, approved_by, scheduled_at, sending_at, sent_at, note_vi, note_en, version,
	(SELECT COUNT(*) FROM issue_items ii WHERE ii.issue_id = issues.id AND ii.included = 1)`

func scanIssue(row interface{ Scan(...any) error }) (*Issue, error) {
	var iss Issue
	var ps, pe, ca, ua, aa, sa, sda, sta int64
	if err := row.Scan(&iss.ID, &iss.Digest, &iss.Number, &iss.Status, &ps, &pe, &ca, &ua, &aa, &iss.ApprovedBy, &sa, &sda, &sta, &iss.NoteVI, &iss.NoteEN, &iss.Version, &iss.IncludedCount); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	iss.PeriodStart, iss.PeriodEnd, iss.CreatedAt, iss.UpdatedAt = store.Time(ps), store.Time(pe), store.Time(ca), store.Time(ua)
	iss.ApprovedAt, iss.ScheduledAt, iss.SendingAt, iss.SentAt = store.Time(aa), store.Time(sa), store.Time(sda), store.Time(sta)
	return &iss, nil
}

// OpenIssue returns the digest's newest issue that is not sent yet
// (ErrNotFound when there is none).
func (s *Store) OpenIssue(ctx context.Context, digestKey string) (*Issue, error) {
	iss, err := s.OpenIssueHeader(ctx, digestKey)
	if err != nil {
		return nil, err
	}
	return iss, s.loadItems(ctx, iss)
}

// OpenIssueHeader is OpenIssue without the items: for the daemon's checks
// of status and schedule, which run every minute.
func (s *Store) OpenIssueHeader(ctx context.Context, digestKey string) (*Issue, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+issueColumns+` FROM issues WHERE digest = ? AND status != ? ORDER BY number DESC LIMIT 1`, digestKey, StatusSent)
	return scanIssue(row)
}

// IssueByNumber returns issue number of a digest with its items.
func (s *Store) IssueByNumber(ctx context.Context, digestKey string, number int) (*Issue, error) {
	iss, err := scanIssue(s.db.QueryRowContext(ctx, `SELECT `+issueColumns+` FROM issues WHERE digest = ? AND number = ?`, digestKey, number))
	if err != nil {
		return nil, err
	}
	return iss, s.loadItems(ctx, iss)
}

// Issue returns one issue with its items.
func (s *Store) Issue(ctx context.Context, id int64) (*Issue, error) {
	iss, err := scanIssue(s.db.QueryRowContext(ctx, `SELECT `+issueColumns+` FROM issues WHERE id = ?`, id))
	if err != nil {
		return nil, err
	}
	return iss, s.loadItems(ctx, iss)
}

// Issues lists issues without their items, newest first; status "" = all.
func (s *Store) Issues(ctx context.Context, digestKey, status string) ([]*Issue, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+issueColumns+` FROM issues
		WHERE (? = '' OR digest = ?) AND (? = '' OR status = ?) ORDER BY created_at DESC, id DESC`, digestKey, digestKey, status, status)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Issue
	for rows.Next() {
		iss, err := scanIssue(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, iss)
	}
	return out, rows.Err()
}

func (s *Store) loadItems(ctx context.Context, iss *Issue) error {
	rows, err := s.db.QueryContext(ctx, `SELECT item_id, theme, position, included, title_vi, title_en, summary_vi, summary_en,
		excluded_by, carried_from, update_of, update_in
		FROM issue_items WHERE issue_id = ? ORDER BY theme, position`, iss.ID)
	if err != nil {
		return fmt.Errorf("digest: read items of issue %d: %w", iss.ID, err)
	}
	var ids []int64
	iss.Items = iss.Items[:0]
	for rows.Next() {
		var it IssueItem
		if err := rows.Scan(&it.ItemID, &it.Theme, &it.Position, &it.Included, &it.TitleVI, &it.TitleEN, &it.SummaryVI, &it.SummaryEN,
			&it.ExcludedBy, &it.CarriedFrom, &it.UpdateOf, &it.UpdateIn); err != nil {
			rows.Close()
			return err
		}
		iss.Items = append(iss.Items, it)
		ids = append(ids, it.ItemID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	items, err := s.items.ItemsByID(ctx, ids)
	if err != nil {
		return fmt.Errorf("digest: read items of issue %d: %w", iss.ID, err)
	}
	classes, err := s.Classifications(ctx, ids)
	if err != nil {
		return err
	}
	for i := range iss.Items {
		iss.Items[i].Item = items[iss.Items[i].ItemID]
		iss.Items[i].Class = classes[iss.Items[i].ItemID]
	}
	return nil
}

// Sections groups an issue's items by section in the order of themes (items
// of sections not named there come last), each in position order.
func (iss *Issue) Sections(themes []string) []Section {
	order := map[string]int{}
	for i, t := range themes {
		order[t] = i
	}
	byTheme := map[string][]IssueItem{}
	var keys []string
	for _, it := range iss.Items {
		if _, ok := byTheme[it.Theme]; !ok {
			keys = append(keys, it.Theme)
		}
		byTheme[it.Theme] = append(byTheme[it.Theme], it)
	}
	sort.SliceStable(keys, func(a, b int) bool {
		oa, aok := order[keys[a]]
		ob, bok := order[keys[b]]
		if aok != bok {
			return aok
		}
		return oa < ob
	})
	out := make([]Section, 0, len(keys))
	for _, k := range keys {
		items := byTheme[k]
		sort.SliceStable(items, func(a, b int) bool { return items[a].Position < items[b].Position })
		out = append(out, Section{Theme: k, Items: items})
	}
	return out
}

// Section is one theme's items in an issue.
type Section struct {
	Theme string
	Items []IssueItem
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
