package digest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/haiphong/hpdigest/digest/story"
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
	// Versions are the story's other items (in another language, or from
	// another source), Vietnamese first, then by publication.
	Versions []StoryVersion
}

// Store reads and writes issues.
type Store struct {
	db      *sql.DB
	items   ItemSource
	now     func() time.Time
	stories atomic.Pointer[story.Detector] // nil: no same-story detection
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
		in, args := store.InList(chunk)
		rows, err := s.db.QueryContext(ctx, `SELECT item_id, themes, primary_theme, explanation FROM item_themes WHERE item_id IN (`+in+`)`, args...)
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
	classes, err := s.Classifications(ctx, ids)
	if err != nil {
		return err
	}
	versions, err := s.issueVersions(ctx, iss.ID)
	if err != nil {
		return err
	}
	for _, vs := range versions {
		for _, v := range vs {
			ids = append(ids, v.ItemID)
		}
	}
	items, err := s.items.ItemsByID(ctx, ids)
	if err != nil {
		return fmt.Errorf("digest: read items of issue %d: %w", iss.ID, err)
	}
	for i := range iss.Items {
		it := &iss.Items[i]
		it.Item = items[it.ItemID]
		it.Class = classes[it.ItemID]
		it.Versions = nil
		for _, v := range versions[it.ItemID] {
			var ok bool
			if v.Item, ok = items[v.ItemID]; ok {
				it.Versions = append(it.Versions, v)
			}
		}
		sortVersions(it.Versions)
	}
	return nil
}

// issueVersions reads the versions attached to an issue's entries, by entry.
func (s *Store) issueVersions(ctx context.Context, issueID int64) (map[int64][]StoryVersion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT item_id, lead_id, how, reason, score, confirmed_by FROM issue_versions WHERE issue_id = ?`, issueID)
	if err != nil {
		return nil, fmt.Errorf("digest: read versions of issue %d: %w", issueID, err)
	}
	defer rows.Close()
	out := map[int64][]StoryVersion{}
	for rows.Next() {
		var v StoryVersion
		var lead int64
		if err := rows.Scan(&v.ItemID, &lead, &v.How, &v.Reason, &v.Score, &v.ConfirmedBy); err != nil {
			return nil, err
		}
		out[lead] = append(out[lead], v)
	}
	return out, rows.Err()
}

// sortVersions orders versions Vietnamese first, then English, then by
// publication.
func sortVersions(vs []StoryVersion) {
	rank := func(l string) int {
		switch l {
		case "vi":
			return 0
		case "en":
			return 1
		}
		return 2
	}
	sort.SliceStable(vs, func(i, j int) bool {
		a, b := vs[i].Item, vs[j].Item
		if ra, rb := rank(a.Language), rank(b.Language); ra != rb {
			return ra < rb
		}
		if !a.Published().Equal(b.Published()) {
			return a.Published().Before(b.Published())
		}
		return vs[i].ItemID < vs[j].ItemID
	})
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
