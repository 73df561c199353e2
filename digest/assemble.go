package digest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/haiphong/hpdigest/digest/story"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/feeds"
)

// Assemble brings the digest's open draft up to date, creating it if there
// is none: the stories published inside the window that no recent issue
// of the digest holds, newest first, each at the end of its section as
// one entry (staff edits are kept); then the stories left out of the last
// sent issue for lack of room (max_per_section, not a curator's choice),
// marked as carried over and included where there is room.
//
// Items are grouped into stories (when a detector is set, see SetStories)
// together with the items of the digest's recent issues, honouring the
// staff's decisions. A story gets one entry, its lead (its first new item,
// Vietnamese first), with its other new items attached as versions; an
// item of a story already in the draft is attached to that story's entry.
// A story that a recent issue mailed, in any language, is not placed
// again: neither is a copy of a mailed item under a new GUID or link, an
// edited title, or a republication (samestory.go). A correction of a
// mailed story is placed excluded and marked as an update of it.
//
// An approved or sending issue is returned unchanged. classify is called
// for items that have no stored classification yet. It returns the issue
// and the number of stories added.
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
	var openID int64
	if open != nil {
		openID = open.ID
	}
	p, err := s.placedItems(ctx, d.Key, from.Add(-d.Window), openID)
	if err != nil {
		return nil, 0, err
	}
	var grouping *story.Grouping
	var fresh []preparedItem
	if s.stories.Load() != nil {
		pool := make([]feeds.Item, 0, len(candidates)+len(p.order))
		inPool := make(map[int64]bool, cap(pool))
		for _, it := range candidates {
			inPool[it.ID] = true
			pool = append(pool, it)
		}
		for _, id := range p.order {
			if !inPool[id] {
				inPool[id] = true
				pool = append(pool, p.items[id])
			}
		}
		if grouping, fresh, err = s.group(ctx, pool); err != nil {
			return nil, 0, fmt.Errorf("digest %s: %w", d.Key, err)
		}
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
	if err := s.writeSignals(ctx, tx, fresh); err != nil {
		return nil, 0, err
	}
	a := &assembler{s: s, tx: tx, d: d, p: p, grouping: grouping, classes: classes, classify: classify,
		inDigest: map[string]bool{}, candidates: make(map[int64]feeds.Item, len(candidates)), copyOfMailed: map[int64]bool{}, texts: map[int64]storyText{}, items: map[int64]map[int64]bool{}}
	for _, t := range d.Themes {
		a.inDigest[t] = true
	}
	for _, it := range candidates {
		a.candidates[it.ID] = it
	}
	if open != nil {
		a.issueID = open.ID
	} else if a.issueID, err = createIssue(ctx, tx, d.Key, from, now); err != nil {
		return nil, 0, err
	}
	if a.counts, a.last, err = sectionCounts(ctx, tx, a.issueID); err != nil {
		return nil, 0, err
	}
	// What did not fit last time is an entry of this draft from the start:
	// new items of its stories join it.
	for _, c := range p.carry {
		p.entryOf[c.item.ID] = c.item.ID
		for _, v := range c.versions {
			p.entryOf[v.item.ID] = c.item.ID
		}
	}
	for id, e := range p.entryOf {
		a.setEntry(id, e)
	}
	for _, it := range candidates { // newest first
		if err := a.consider(ctx, it); err != nil {
			return nil, 0, err
		}
	}
	// Then what did not fit last time: included where there is room left.
	for _, c := range p.carry {
		if err := a.place(ctx, c.item, c.section, placement{carriedFrom: c.from}); err != nil {
			return nil, 0, err
		}
		for _, v := range c.versions {
			a.attach(v.item, c.item.ID, v.how, v.reason, v.score)
		}
	}
	for _, v := range a.versions {
		if _, err := tx.ExecContext(ctx, `INSERT INTO issue_versions (issue_id, item_id, lead_id, how, reason, score) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (issue_id, item_id) DO NOTHING`, a.issueID, v.item, v.lead, v.how, v.reason, v.score); err != nil {
			return nil, 0, fmt.Errorf("digest %s: attach item %d to its story: %w", d.Key, v.item, err)
		}
	}
	if a.added > 0 || len(a.versions) > 0 || open == nil {
		if _, err := tx.ExecContext(ctx, `UPDATE issues SET period_end_at = ?, updated_at = ? WHERE id = ?`, now.Unix(), now.Unix(), a.issueID); err != nil {
			return nil, 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("digest %s: save draft: %w", d.Key, err)
	}
	iss, err := s.Issue(ctx, a.issueID)
	return iss, a.added, err
}

// assembler is one run of Assemble.
type assembler struct {
	s          *Store
	tx         *sql.Tx
	d          Digest
	p          placed
	grouping   *story.Grouping // nil without same-story detection
	classes    map[int64]Classification
	classify   func(feeds.Item) Classification
	inDigest   map[string]bool
	candidates map[int64]feeds.Item
	issueID    int64
	counts     map[string]int // included entries per section
	last       map[string]int // last position per section
	added      int
	versions   []newVersion
	// copyOfMailed caches, per candidate, whether it is a copy of a
	// mailed item (the mailed items are all known before the first).
	copyOfMailed map[int64]bool
	texts        map[int64]storyText
	// items are the items of each of the draft's stories, by entry.
	items map[int64]map[int64]bool
}

type newVersion struct {
	item, lead  int64
	how, reason string
	score       float64
}

// placement is how an item comes into a draft.
type placement struct {
	carriedFrom int   // left out of this issue number for lack of room
	updateOf    int64 // corrects this mailed item
	updateIn    int   // of this issue number
}

// consider decides what becomes of one new item of the window.
func (a *assembler) consider(ctx context.Context, it feeds.Item) error {
	p := &a.p
	if p.taken[it.ID] {
		return nil
	}
	text := a.text(it)
	m, same := p.stories.match(text)
	a.copyOfMailed[it.ID] = same && m.mailed
	if same && m.mailed {
		if isUpdate(m.sent, text, m.feedID == it.FeedID) {
			return a.place(ctx, it, "", placement{updateOf: m.itemID, updateIn: m.number})
		}
		return nil
	}
	if p.taken[it.StoryID] {
		return nil
	}
	st := a.storyOf(it.ID)
	if ref, ok := a.mailedIn(st, it); ok {
		// Mailed in another language or by another source: a correction
		// is shown to staff, anything else is not news.
		if text.marked {
			return a.place(ctx, it, "", placement{updateOf: ref.item, updateIn: ref.number})
		}
		return nil
	}
	if entry := a.entryIn(st, it); entry != 0 {
		a.join(st, it, entry)
		return nil
	}
	if same {
		if entry := p.entryOf[m.itemID]; entry != 0 && !a.hasFeed(entry, it.FeedID) {
			a.attach(it, entry, VersionByText, "", 0)
		}
		// Otherwise the same text as an item of an earlier issue that was
		// not mailed, or another copy by the same portal: not offered again.
		return nil
	}
	// A new story: its lead is its first new item (Vietnamese first), the
	// others are its versions, one per feed.
	lead := it
	if st != nil {
		for _, k := range st.Items {
			if c, ok := a.candidates[keyItem(k)]; ok && a.fresh(st, c) && (c.ID == it.ID || c.FeedID != it.FeedID) {
				lead = c
				break
			}
		}
	}
	if err := a.place(ctx, lead, "", placement{}); err != nil {
		return err
	}
	if st == nil {
		return nil
	}
	if lead.ID != it.ID {
		a.join(st, it, lead.ID)
	}
	for _, k := range st.Items {
		if c, ok := a.candidates[keyItem(k)]; ok && a.fresh(st, c) && !a.hasFeed(lead.ID, c.FeedID) {
			a.join(st, c, lead.ID)
		}
	}
	return nil
}

// fresh reports whether a candidate of the story is still to be placed
// and is news: no copy of a mailed item, and not in a story another
// portal's item of which was mailed.
func (a *assembler) fresh(st *story.Story, c feeds.Item) bool {
	if !a.isNew(c) {
		return false
	}
	_, mailed := a.mailedIn(st, c)
	return !mailed
}

// join attaches an item to the draft's story of entry, with the decision
// of the rules that joined it (or the same text, when none did).
func (a *assembler) join(st *story.Story, it feeds.Item, entry int64) {
	how, reason, score := VersionByText, "", 0.0
	if dec, ok := linkOf(st, it.ID, a.items[entry]); ok {
		how, reason, score = howOf(dec), dec.Explanation, dec.Score
	}
	a.attach(it, entry, how, reason, score)
}

func howOf(d story.Decision) string {
	if d.Staff == "same" {
		return VersionByStaff
	}
	return VersionByRules
}

// isNew reports whether a candidate is still to be placed and no copy of
// a mailed item.
func (a *assembler) isNew(c feeds.Item) bool {
	if a.p.taken[c.ID] || a.p.taken[c.StoryID] {
		return false
	}
	copied, known := a.copyOfMailed[c.ID]
	if !known {
		_, copied = a.p.mailedStories.match(a.text(c))
		a.copyOfMailed[c.ID] = copied
	}
	return !copied
}

// text returns an item's text for comparison, made once per item.
func (a *assembler) text(it feeds.Item) storyText {
	t, ok := a.texts[it.ID]
	if !ok {
		t = newStoryText(it)
		a.texts[it.ID] = t
	}
	return t
}

// storyOf returns the story an item is in (nil without detection).
func (a *assembler) storyOf(id int64) *story.Story {
	if a.grouping == nil {
		return nil
	}
	st, _ := a.grouping.StoryOf(itemKey(id))
	return st
}

// The rules join items across feeds: a story has at most one item of a
// feed, and what a portal publishes again of its own story (a copy, an
// edit, a correction) is recognised by samestory.go, which also tells
// two of its reports apart by their numbers ("tháng 3", "tháng 4").

// mailedIn returns an item of the story, from another feed than it, that
// readers got.
func (a *assembler) mailedIn(st *story.Story, it feeds.Item) (mailedRef, bool) {
	if st == nil {
		return mailedRef{}, false
	}
	for _, k := range st.Items {
		id := keyItem(k)
		if ref, ok := a.p.mailed[id]; ok && id != it.ID && a.feedOf(id) != it.FeedID {
			return ref, true
		}
	}
	return mailedRef{}, false
}

// entryIn returns the draft's entry of the story that it may join: one
// without an item of it's feed (0 if none).
func (a *assembler) entryIn(st *story.Story, it feeds.Item) int64 {
	if st == nil {
		return 0
	}
	for _, k := range st.Items {
		if e := a.p.entryOf[keyItem(k)]; e != 0 && !a.hasFeed(e, it.FeedID) {
			return e
		}
	}
	return 0
}

// hasFeed reports whether the draft's story of entry holds an item of feed.
func (a *assembler) hasFeed(entry, feed int64) bool {
	for id := range a.items[entry] {
		if a.feedOf(id) == feed {
			return true
		}
	}
	return false
}

// feedOf returns the feed of a known item (0 if unknown).
func (a *assembler) feedOf(id int64) int64 {
	if c, ok := a.candidates[id]; ok {
		return c.FeedID
	}
	return a.p.items[id].FeedID
}

// attach makes an item a version of the draft's story of entry.
func (a *assembler) attach(it feeds.Item, entry int64, how, reason string, score float64) {
	a.versions = append(a.versions, newVersion{item: it.ID, lead: entry, how: how, reason: reason, score: score})
	a.p.taken[it.ID] = true
	a.setEntry(it.ID, entry)
	a.p.stories.add(it, a.text(it))
}

// setEntry records an item of the draft's story of entry.
func (a *assembler) setEntry(id, entry int64) {
	a.p.entryOf[id] = entry
	if a.items[entry] == nil {
		a.items[entry] = map[int64]bool{}
	}
	a.items[entry][id] = true
}

// place puts an item in the draft as a story's entry.
func (a *assembler) place(ctx context.Context, it feeds.Item, section string, pl placement) error {
	if section == "" {
		c, ok := a.classes[it.ID]
		if !ok {
			c = a.classify(it)
			if err := a.s.saveClassification(ctx, a.tx, it.ID, c); err != nil {
				return err
			}
		}
		section = SectionFor(c, a.d.Themes)
	}
	included := pl.updateOf == 0 && a.inDigest[section] && a.counts[section] < a.d.MaxPerSection
	excludedBy := ""
	switch {
	case pl.updateOf != 0:
		excludedBy = ExcludedByUpdate
	case !included && a.inDigest[section]:
		excludedBy = ExcludedByLimit
	}
	if included {
		a.counts[section]++
	}
	a.last[section]++
	if _, err := a.tx.ExecContext(ctx, `INSERT INTO issue_items (issue_id, item_id, theme, position, included, excluded_by, carried_from, update_of, update_in)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.issueID, it.ID, section, a.last[section], included, excludedBy, pl.carriedFrom, pl.updateOf, pl.updateIn); err != nil {
		return fmt.Errorf("digest %s: place item %d: %w", a.d.Key, it.ID, err)
	}
	a.added++
	a.p.taken[it.ID] = true
	a.setEntry(it.ID, it.ID)
	a.p.stories.add(it, a.text(it))
	return nil
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
	taken         map[int64]bool // item and story ids placed in an issue (entries and versions)
	stories       placedStories  // their text, to recognise a story published again
	mailedStories placedStories  // the text of those readers got
	carry         []carryOver    // left out of the last sent issue for lack of room
	// items are the placed items that still exist, in order, to group
	// the window's items with.
	items map[int64]feeds.Item
	order []int64
	// mailed are the items readers got: the included entries of an issue
	// sent (or being sent) and their versions.
	mailed map[int64]mailedRef
	// entryOf maps the items of the open draft (and, during assembly, of
	// the carried-over stories) to their story's entry.
	entryOf map[int64]int64
}

// record notes an item placed in issue number (found: it still exists):
// taken, mailed or not, part of the open draft's story of entry (0: not in
// the draft), and its text as it is and as mailed.
func (p *placed) record(id int64, it feeds.Item, found bool, number int, mailed bool, entry int64, sentTitle, sentSummary string) {
	p.taken[id] = true
	if mailed {
		p.mailed[id] = mailedRef{item: id, number: number}
	}
	if entry != 0 {
		p.entryOf[id] = entry
	}
	if !found {
		return
	}
	if _, ok := p.items[id]; !ok {
		p.items[id] = it
		p.order = append(p.order, id)
	}
	if it.StoryID != 0 {
		p.taken[it.StoryID] = true
	}
	p.stories.addPlaced(it, number, mailed, sentTitle, sentSummary)
	if mailed {
		p.mailedStories.addPlaced(it, number, mailed, sentTitle, sentSummary)
	}
}

// mailedRef is the story a mailed item was in.
type mailedRef struct {
	item   int64 // the item itself
	number int   // the issue that mailed it
}

type carryOver struct {
	item     feeds.Item
	section  string
	from     int // the issue's number
	versions []carriedVersion
}

type carriedVersion struct {
	item        feeds.Item
	how, reason string
	score       float64
}

// placedItems reads the items placed in the digest's issues that ended
// after since; openID is the open draft's (0 if none).
func (s *Store) placedItems(ctx context.Context, digestKey string, since time.Time, openID int64) (placed, error) {
	p := placed{taken: map[int64]bool{}, items: map[int64]feeds.Item{}, mailed: map[int64]mailedRef{}, entryOf: map[int64]int64{}}
	rows, err := s.db.QueryContext(ctx, `SELECT ii.item_id, ii.theme, ii.included, ii.excluded_by, ii.carried_from,
		ii.sent_title, ii.sent_summary, i.id, i.number, i.status,
		COALESCE(i.number = (SELECT MAX(number) FROM issues WHERE digest = i.digest AND status = ?), 0) AS last_sent
		FROM issue_items ii JOIN issues i ON i.id = ii.issue_id
		WHERE i.digest = ? AND i.period_end_at >= ? ORDER BY i.number, ii.theme, ii.position`, StatusSent, digestKey, since.Unix())
	if err != nil {
		return p, fmt.Errorf("digest %s: read placed items: %w", digestKey, err)
	}
	type row struct {
		id, issueID         int64
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
		if err := rows.Scan(&r.id, &r.theme, &r.included, &r.excludedBy, &r.carriedFrom, &r.sentTitle, &r.sentSum, &r.issueID, &r.number, &r.status, &r.lastSent); err != nil {
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
	// The versions of those stories, with their entry's state.
	rows, err = s.db.QueryContext(ctx, `SELECT v.item_id, v.lead_id, v.how, v.reason, v.score, i.id, i.number, i.status, ii.included
		FROM issue_versions v JOIN issues i ON i.id = v.issue_id
		JOIN issue_items ii ON ii.issue_id = v.issue_id AND ii.item_id = v.lead_id
		WHERE i.digest = ? AND i.period_end_at >= ? ORDER BY i.number, v.lead_id, v.item_id`, digestKey, since.Unix())
	if err != nil {
		return p, fmt.Errorf("digest %s: read placed versions: %w", digestKey, err)
	}
	type versionRow struct {
		id, lead, issueID int64
		how, reason       string
		score             float64
		number            int
		status            string
		included          bool
	}
	var versions []versionRow
	for rows.Next() {
		var v versionRow
		if err := rows.Scan(&v.id, &v.lead, &v.how, &v.reason, &v.score, &v.issueID, &v.number, &v.status, &v.included); err != nil {
			rows.Close()
			return p, err
		}
		versions = append(versions, v)
		ids = append(ids, v.id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return p, err
	}
	items, err := s.items.ItemsByID(ctx, ids)
	if err != nil {
		return p, fmt.Errorf("digest %s: read placed items: %w", digestKey, err)
	}
	carried := map[int64]int{} // entry → index in p.carry
	for _, r := range all {
		it, ok := items[r.id]
		if r.lastSent && r.excludedBy == ExcludedByLimit && r.carriedFrom == 0 && placedTimes[r.id] == 1 && ok {
			carried[r.id] = len(p.carry)
			p.carry = append(p.carry, carryOver{item: it, section: r.theme, from: r.number})
		}
		var entry int64
		if r.issueID == openID {
			entry = r.id
		}
		mailed := r.included && (r.status == StatusSent || r.status == StatusSending)
		p.record(r.id, it, ok, r.number, mailed, entry, r.sentTitle, r.sentSum)
	}
	for _, v := range versions {
		it, ok := items[v.id]
		if c, isCarried := carried[v.lead]; ok && isCarried && v.number == p.carry[c].from {
			p.carry[c].versions = append(p.carry[c].versions, carriedVersion{item: it, how: v.how, reason: v.reason, score: v.score})
		}
		var entry int64
		if v.issueID == openID {
			entry = v.lead
		}
		mailed := v.included && (v.status == StatusSent || v.status == StatusSending)
		p.record(v.id, it, ok, v.number, mailed, entry, "", "")
	}
	return p, nil
}
