package feeds

// The API the rest of the daemon uses; signatures are the contract with app/
// and web/. The poller is in poller.go.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// ErrUnknownFeed is returned by Reenable for a name that is not in the feeds table.
var ErrUnknownFeed = errors.New("no such feed")

// Migrations returns the schema of the feeds and items tables.
func Migrations() store.Migration {
	return store.Migration{Component: "feeds", Steps: []string{
		`CREATE TABLE feeds (
			id              INTEGER PRIMARY KEY,
			name            TEXT NOT NULL UNIQUE,
			url             TEXT NOT NULL,
			language        TEXT NOT NULL,
			interval_s      INTEGER NOT NULL DEFAULT 0,  -- 0: fetch.default_interval
			timezone        TEXT NOT NULL DEFAULT '',
			configured      INTEGER NOT NULL DEFAULT 1,  -- 0: removed from the config (items kept)
			enabled         INTEGER NOT NULL DEFAULT 1,  -- 0: disabled after too many errors
			disabled_reason TEXT NOT NULL DEFAULT '',
			etag            TEXT NOT NULL DEFAULT '',
			last_modified   TEXT NOT NULL DEFAULT '',
			body_hash       TEXT NOT NULL DEFAULT '',
			ttl_s           INTEGER NOT NULL DEFAULT 0,  -- RSS ttl / Cache-Control max-age floor
			error_count     INTEGER NOT NULL DEFAULT 0,  -- consecutive failures
			last_error      TEXT NOT NULL DEFAULT '',
			last_fetch_at   INTEGER NOT NULL DEFAULT 0,
			last_success_at INTEGER NOT NULL DEFAULT 0,
			next_fetch_at   INTEGER NOT NULL DEFAULT 0,
			retry_after_at  INTEGER NOT NULL DEFAULT 0,  -- server's Retry-After (429/503)
			created_at      INTEGER NOT NULL
		);
		CREATE TABLE items (
			id            INTEGER PRIMARY KEY,
			feed_id       INTEGER NOT NULL REFERENCES feeds(id),
			guid          TEXT NOT NULL,
			url           TEXT NOT NULL DEFAULT '',
			story_key     TEXT NOT NULL DEFAULT '',  -- link without scheme/www, for cross-feed de-duplication
			story_id      INTEGER NOT NULL DEFAULT 0,
			title         TEXT NOT NULL,
			summary_html  TEXT NOT NULL DEFAULT '',
			summary_text  TEXT NOT NULL DEFAULT '',
			image_url     TEXT NOT NULL DEFAULT '',
			language      TEXT NOT NULL,
			published_at  INTEGER NOT NULL DEFAULT 0,  -- 0: the feed gave no usable date
			first_seen_at INTEGER NOT NULL,
			sort_at       INTEGER NOT NULL,            -- published_at, else first_seen_at
			content_hash  TEXT NOT NULL DEFAULT '',
			UNIQUE (feed_id, guid)
		);
		CREATE INDEX items_sort_at ON items (sort_at);
		CREATE INDEX items_story_key ON items (story_key) WHERE story_key <> '';
		CREATE INDEX items_feed_url ON items (feed_id, url);`,
		historyMigration,
		// A feed of the office network (allow_private in the config) may
		// be fetched from a private address; others never are.
		`ALTER TABLE feeds ADD COLUMN allow_private INTEGER NOT NULL DEFAULT 0;`,
		prunedMigration,
	}}
}

// Store reads and writes the feeds and items tables.
type Store struct {
	db *sql.DB
	// writes serialises this process's item transactions. SQLite has one
	// writer anyway; without it concurrent fetches would wait on the busy
	// timeout, which retries with sleeps of up to 100 ms. A channel, not a
	// mutex: the wait ends with the context, and a test's simulated clock
	// sees it as idle while the holder sleeps in SQLite's busy handler.
	writes chan struct{}
}

// NewStore wraps an open database (migrations already applied).
func NewStore(db *sql.DB) *Store { return &Store{db: db, writes: make(chan struct{}, 1)} }

// SyncSources makes the feeds table match the configured sources: new ones
// are added, changed URLs/languages/intervals updated, removed ones disabled
// (their items stay). A changed URL starts afresh: validators, errors and
// back-off are reset and the feed is enabled again.
func (s *Store) SyncSources(ctx context.Context, sources []Source) error {
	if err := ValidateSources(sources); err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("feeds: sync sources: %w", err)
	}
	defer tx.Rollback()
	now := time.Now().Unix()
	if _, err := tx.ExecContext(ctx, `UPDATE feeds SET configured = 0`); err != nil {
		return fmt.Errorf("feeds: sync sources: %w", err)
	}
	for _, src := range sources {
		_, err := tx.ExecContext(ctx, `INSERT INTO feeds (name, url, language, interval_s, timezone, allow_private, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET
				configured = 1,
				allow_private = excluded.allow_private,
				language = excluded.language,
				interval_s = excluded.interval_s,
				timezone = excluded.timezone,
				enabled = CASE WHEN feeds.url <> excluded.url THEN 1 ELSE feeds.enabled END,
				disabled_reason = CASE WHEN feeds.url <> excluded.url THEN '' ELSE feeds.disabled_reason END,
				error_count = CASE WHEN feeds.url <> excluded.url THEN 0 ELSE feeds.error_count END,
				last_error = CASE WHEN feeds.url <> excluded.url THEN '' ELSE feeds.last_error END,
				etag = CASE WHEN feeds.url <> excluded.url THEN '' ELSE feeds.etag END,
				last_modified = CASE WHEN feeds.url <> excluded.url THEN '' ELSE feeds.last_modified END,
				body_hash = CASE WHEN feeds.url <> excluded.url THEN '' ELSE feeds.body_hash END,
				next_fetch_at = CASE WHEN feeds.url <> excluded.url THEN 0 ELSE feeds.next_fetch_at END,
				retry_after_at = CASE WHEN feeds.url <> excluded.url THEN 0 ELSE feeds.retry_after_at END,
				url = excluded.url`,
			src.Name, src.URL, src.Language, int64(src.Interval/time.Second), src.Timezone, src.AllowPrivate, now)
		if err != nil {
			return fmt.Errorf("feeds: sync source %q: %w", src.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("feeds: sync sources: %w", err)
	}
	return nil
}

const itemColumns = `i.id, i.feed_id, f.name, i.guid, i.url, i.title, i.summary_html, i.summary_text,
	i.image_url, i.language, i.published_at, i.first_seen_at, i.story_id`

func scanItem(sc interface{ Scan(...any) error }) (Item, error) {
	var it Item
	var pub, seen int64
	err := sc.Scan(&it.ID, &it.FeedID, &it.FeedName, &it.GUID, &it.URL, &it.Title, &it.SummaryHTML,
		&it.SummaryText, &it.ImageURL, &it.Language, &pub, &seen, &it.StoryID)
	it.PublishedAt, it.FirstSeenAt = store.Time(pub), store.Time(seen)
	if it.StoryID == 0 {
		it.StoryID = it.ID
	}
	return it, err
}

// ItemsPublishedBetween returns items whose Published() time is in [from, to),
// newest first. Of the items that are one story (same StoryID: the same
// normalised link in several feeds) only the first stored is returned.
func (s *Store) ItemsPublishedBetween(ctx context.Context, from, to time.Time) ([]Item, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+itemColumns+` FROM items i JOIN feeds f ON f.id = i.feed_id
		WHERE i.sort_at >= ? AND i.sort_at < ? ORDER BY i.sort_at DESC, i.id DESC`, from.Unix(), to.Unix())
	if err != nil {
		return nil, fmt.Errorf("feeds: read items: %w", err)
	}
	defer rows.Close()
	var all []Item
	first := map[int64]int64{} // story -> lowest item id in the window
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("feeds: read items: %w", err)
		}
		if id, ok := first[it.StoryID]; !ok || it.ID < id {
			first[it.StoryID] = it.ID
		}
		all = append(all, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("feeds: read items: %w", err)
	}
	out := all[:0]
	for _, it := range all {
		if first[it.StoryID] == it.ID {
			out = append(out, it)
		}
	}
	return out, nil
}

// ItemsByID returns the items with these ids (missing ids are absent).
func (s *Store) ItemsByID(ctx context.Context, ids []int64) (map[int64]Item, error) {
	out := make(map[int64]Item, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		q := `SELECT ` + itemColumns + ` FROM items i JOIN feeds f ON f.id = i.feed_id WHERE i.id IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("feeds: read items: %w", err)
		}
		for rows.Next() {
			it, err := scanItem(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("feeds: read items: %w", err)
			}
			out[it.ID] = it
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("feeds: read items: %w", err)
		}
	}
	return out, nil
}

// EachItem calls fn for every stored item, oldest first (for re-classifying).
// It reads in pages, so fn may write to the database.
func (s *Store) EachItem(ctx context.Context, fn func(Item) error) error {
	var after int64
	for {
		rows, err := s.db.QueryContext(ctx, `SELECT `+itemColumns+` FROM items i JOIN feeds f ON f.id = i.feed_id
			WHERE i.id > ? ORDER BY i.id LIMIT 500`, after)
		if err != nil {
			return fmt.Errorf("feeds: read items: %w", err)
		}
		var page []Item
		for rows.Next() {
			it, err := scanItem(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("feeds: read items: %w", err)
			}
			page = append(page, it)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("feeds: read items: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		for _, it := range page {
			if err := fn(it); err != nil {
				return err
			}
		}
		after = page[len(page)-1].ID
	}
}

// FeedHealth is what staff and the -feeds CLI see of one feed.
type FeedHealth struct {
	ID             int64
	Name, URL      string
	Enabled        bool
	LastFetchAt    time.Time
	LastSuccessAt  time.Time
	NextFetchAt    time.Time
	ErrorCount     int    // consecutive failures
	LastError      string // "" when healthy
	DisabledReason string // why Enabled is false ("removed from the config" for feeds no longer configured)
	ItemCount      int
}

// Health lists every feed with its state, by name.
func (s *Store) Health(ctx context.Context) ([]FeedHealth, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT f.id, f.name, f.url, f.enabled, f.configured, f.last_fetch_at,
		f.last_success_at, f.next_fetch_at, f.retry_after_at, f.error_count, f.last_error, f.disabled_reason,
		(SELECT COUNT(*) FROM items i WHERE i.feed_id = f.id)
		FROM feeds f ORDER BY f.name`)
	if err != nil {
		return nil, fmt.Errorf("feeds: read health: %w", err)
	}
	defer rows.Close()
	var out []FeedHealth
	for rows.Next() {
		var h FeedHealth
		var enabled, configured bool
		var last, ok, next, retry int64
		if err := rows.Scan(&h.ID, &h.Name, &h.URL, &enabled, &configured, &last, &ok, &next, &retry,
			&h.ErrorCount, &h.LastError, &h.DisabledReason, &h.ItemCount); err != nil {
			return nil, fmt.Errorf("feeds: read health: %w", err)
		}
		h.Enabled = enabled && configured
		if !configured {
			h.DisabledReason = "removed from the config"
		}
		h.LastFetchAt, h.LastSuccessAt, h.NextFetchAt = store.Time(last), store.Time(ok), store.Time(max(next, retry))
		out = append(out, h)
	}
	return out, rows.Err()
}

// Reenable resets a feed's error count and back-off and enables it.
func (s *Store) Reenable(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE feeds SET enabled = 1, error_count = 0, last_error = '',
		disabled_reason = '', next_fetch_at = 0, retry_after_at = 0 WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("feeds: re-enable %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("feeds: re-enable %q: %w", name, ErrUnknownFeed)
	}
	return nil
}

// feedRow is a feed's fetch state.
type feedRow struct {
	ID                 int64
	Name, URL, Lang    string
	Interval           time.Duration
	Timezone           string
	ETag, LastModified string
	BodyHash           string
	TTL                time.Duration
	ErrorCount         int
	LastFetchAt        time.Time
	NextFetchAt        time.Time
	RetryAfterAt       time.Time
	AllowPrivate       bool
}

func (s *Store) feedsToFetch(ctx context.Context, dueBy time.Time) ([]feedRow, error) {
	q := `SELECT id, name, url, language, interval_s, timezone, etag, last_modified, body_hash, ttl_s,
		error_count, last_fetch_at, next_fetch_at, retry_after_at, allow_private FROM feeds WHERE enabled = 1 AND configured = 1`
	var args []any
	if !dueBy.IsZero() {
		q += ` AND next_fetch_at <= ? AND retry_after_at <= ?`
		args = append(args, dueBy.Unix(), dueBy.Unix())
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY next_fetch_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("feeds: read feeds: %w", err)
	}
	defer rows.Close()
	var out []feedRow
	for rows.Next() {
		var f feedRow
		var iv, ttl, last, next, retry int64
		if err := rows.Scan(&f.ID, &f.Name, &f.URL, &f.Lang, &iv, &f.Timezone, &f.ETag, &f.LastModified,
			&f.BodyHash, &ttl, &f.ErrorCount, &last, &next, &retry, &f.AllowPrivate); err != nil {
			return nil, fmt.Errorf("feeds: read feeds: %w", err)
		}
		f.Interval, f.TTL = time.Duration(iv)*time.Second, time.Duration(ttl)*time.Second
		f.LastFetchAt, f.NextFetchAt, f.RetryAfterAt = store.Time(last), store.Time(next), store.Time(retry)
		out = append(out, f)
	}
	return out, rows.Err()
}

// recordUnchanged stores a 304 (or an unchanged body): a success that parsed nothing.
func (s *Store) recordUnchanged(ctx context.Context, f feedRow, now, next time.Time, ttl time.Duration) error {
	_, err := s.db.ExecContext(ctx, `UPDATE feeds SET last_fetch_at = ?, last_success_at = ?, next_fetch_at = ?,
		error_count = 0, last_error = '', retry_after_at = 0, ttl_s = MAX(ttl_s, ?) WHERE id = ?`,
		now.Unix(), now.Unix(), next.Unix(), int64(ttl/time.Second), f.ID)
	if err != nil {
		return fmt.Errorf("feeds: record fetch of %q: %w", f.Name, err)
	}
	return nil
}

// recordFailure counts a failed fetch and schedules the next attempt; the
// feed is disabled once errors reach maxErrors.
func (s *Store) recordFailure(ctx context.Context, f feedRow, now, next, retryAt time.Time, msg string, gone bool, maxErrors int) (disabled bool, err error) {
	n := f.ErrorCount + 1
	reason := ""
	switch {
	case gone:
		disabled = true
		reason = fmt.Sprintf("disabled at %s: the server says the feed is gone (%s)", now.UTC().Format(time.RFC3339), msg)
	case n >= maxErrors:
		disabled = true
		reason = fmt.Sprintf("disabled after %d consecutive errors at %s; last: %s", n, now.UTC().Format(time.RFC3339), msg)
	}
	_, err = s.db.ExecContext(ctx, `UPDATE feeds SET last_fetch_at = ?, next_fetch_at = ?, retry_after_at = ?,
		error_count = ?, last_error = ?, enabled = ?, disabled_reason = ? WHERE id = ?`,
		now.Unix(), next.Unix(), store.Unix(retryAt), n, msg, !disabled, reason, f.ID)
	if err != nil {
		return false, fmt.Errorf("feeds: record failure of %q: %w", f.Name, err)
	}
	return disabled, nil
}

// ingest stores the parsed items of one feed and its new fetch state in one
// transaction, returning the items stored for the first time.
func (s *Store) ingest(ctx context.Context, f feedRow, items []Item, fs fetchState, now, next time.Time) ([]Item, error) {
	select {
	case s.writes <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("feeds: store items of %q: %w", f.Name, ctx.Err())
	}
	defer func() { <-s.writes }()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("feeds: store items of %q: %w", f.Name, err)
	}
	defer tx.Rollback()
	known, err := knownItems(ctx, tx, f.ID, items)
	if err != nil {
		return nil, fmt.Errorf("feeds: read items of %q: %w", f.Name, err)
	}
	update, err := tx.PrepareContext(ctx, `UPDATE items SET url = ?, title = ?, summary_html = ?, summary_text = ?, image_url = ?, content_hash = ? WHERE id = ?`)
	if err != nil {
		return nil, err
	}
	defer update.Close()
	insert := &itemInserter{tx: tx, stmts: map[int]*sql.Stmt{}}
	defer insert.close()
	// New items get the ids SQLite would give them, taken here so that an
	// item that starts a story is stored with its story (itself) in one
	// write: the transaction holds the write lock, nobody else inserts.
	var lastID int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM items`).Scan(&lastID); err != nil {
		return nil, fmt.Errorf("feeds: read items: %w", err)
	}

	var fresh []Item
	seen := now.UTC().Truncate(time.Second)
	var hashBuf []byte
	for _, it := range items {
		var hash string
		hash, hashBuf = contentHash(it, hashBuf)
		if k, ok := known.byGUID[it.GUID]; ok {
			if k.hash != hash { // corrected title or text: keep identity and dates
				if err := insert.flush(ctx); err != nil { // the item may be one of this fetch's
					return nil, fmt.Errorf("feeds: store item of %q: %w", f.Name, err)
				}
				if _, err := update.ExecContext(ctx, it.URL, it.Title, it.SummaryHTML, it.SummaryText, it.ImageURL, hash, k.id); err != nil {
					return nil, fmt.Errorf("feeds: update item of %q: %w", f.Name, err)
				}
				known.byGUID[it.GUID] = storedItem{k.id, hash}
			}
			continue
		}
		if known.pruned[it.GUID] { // deleted by retention, long since
			continue
		}
		// The same story under a new GUID (portals re-generating ids).
		if it.URL != "" && known.byLink[linkTitle{it.URL, it.Title}] {
			continue
		}
		key := storyKey(it.URL)
		var storyID int64
		for _, c := range known.byStory[key] { // the first item of the story from another feed, or this feed's with the same title
			if c.feedID != f.ID || c.title == it.Title {
				storyID = c.storyID
				break
			}
		}
		it.FeedID, it.FeedName, it.FirstSeenAt = f.ID, f.Name, seen
		if it.Language == "" {
			it.Language = f.Lang
		}
		lastID++
		it.ID = lastID
		if storyID == 0 { // a new story
			storyID = it.ID
		}
		if err := insert.add(ctx, it.ID, f.ID, it.GUID, it.URL, key, storyID, it.Title, it.SummaryHTML,
			it.SummaryText, it.ImageURL, it.Language, store.Unix(it.PublishedAt), seen.Unix(),
			it.Published().Unix(), hash); err != nil {
			return nil, fmt.Errorf("feeds: store item of %q: %w", f.Name, err)
		}
		it.StoryID = storyID
		known.add(it, hash, key)
		fresh = append(fresh, it)
	}
	if err := insert.flush(ctx); err != nil {
		return nil, fmt.Errorf("feeds: store item of %q: %w", f.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE feeds SET etag = ?, last_modified = ?, body_hash = ?, ttl_s = ?,
		last_fetch_at = ?, last_success_at = ?, next_fetch_at = ?, error_count = 0, last_error = '', retry_after_at = 0
		WHERE id = ?`, fs.ETag, fs.LastModified, fs.BodyHash, int64(fs.TTL/time.Second), now.Unix(), now.Unix(), next.Unix(), f.ID); err != nil {
		return nil, fmt.Errorf("feeds: record fetch of %q: %w", f.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("feeds: store items of %q: %w", f.Name, err)
	}
	sort.SliceStable(fresh, func(i, j int) bool { return fresh[i].Published().Before(fresh[j].Published()) })
	return fresh, nil
}

// itemInserter stores new items, up to itemsPerInsert of them per INSERT
// statement (one statement per item was a third of storing a fetch).
type itemInserter struct {
	tx    *sql.Tx
	stmts map[int]*sql.Stmt // by number of rows
	args  []any
	n     int
}

const itemsPerInsert = 32

// add stores an item (its columns as insertItemsSQL lists them) with the
// next statement.
func (w *itemInserter) add(ctx context.Context, columns ...any) error {
	w.args = append(w.args, columns...)
	if w.n++; w.n == itemsPerInsert {
		return w.flush(ctx)
	}
	return nil
}

// flush stores the items added since the last flush.
func (w *itemInserter) flush(ctx context.Context) error {
	if w.n == 0 {
		return nil
	}
	st := w.stmts[w.n]
	if st == nil {
		var err error
		if st, err = w.tx.PrepareContext(ctx, insertItemsSQL(w.n)); err != nil {
			return err
		}
		w.stmts[w.n] = st
	}
	_, err := st.ExecContext(ctx, w.args...)
	w.args, w.n = w.args[:0], 0
	return err
}

func (w *itemInserter) close() {
	for _, st := range w.stmts {
		st.Close()
	}
}

// insertItemsSQL stores n items.
func insertItemsSQL(n int) string {
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	return `INSERT INTO items (id, feed_id, guid, url, story_key, story_id, title, summary_html,
		summary_text, image_url, language, published_at, first_seen_at, sort_at, content_hash)
		VALUES ` + strings.Repeat(row+", ", n-1) + row
}

// contentHash is a digest of what a reader sees of an item; buf is
// scratch space, returned for the next call.
func contentHash(it Item, buf []byte) (string, []byte) {
	buf = buf[:0]
	for _, s := range []string{it.URL, it.Title, it.SummaryHTML, it.SummaryText, it.ImageURL} {
		buf = append(append(buf, s...), 0)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:12]), buf
}

// storedItem is an item as the database holds it.
type storedItem struct {
	id   int64
	hash string
}

// linkTitle is an item's link and title.
type linkTitle struct{ url, title string }

// storyItem is one item of a story, as the story's lookup needs it.
type storyItem struct {
	storyID, feedID int64
	title           string
}

// knownSet is what the database holds that a fetch's items may match: by
// GUID and by link and title (this feed's items), by story key (any
// feed's, oldest first), and the GUIDs of this feed's items deleted by
// retention; items stored during the fetch are added.
type knownSet struct {
	byGUID  map[string]storedItem
	byLink  map[linkTitle]bool
	byStory map[string][]storyItem
	pruned  map[string]bool
}

func (k *knownSet) add(it Item, hash, key string) {
	k.byGUID[it.GUID] = storedItem{it.ID, hash}
	if it.URL != "" {
		k.byLink[linkTitle{it.URL, it.Title}] = true
	}
	if key != "" {
		k.byStory[key] = append(k.byStory[key], storyItem{it.StoryID, it.FeedID, it.Title})
	}
}

// knownItems reads, in four queries, the stored items that items may
// match and the deleted ones they must not bring back.
func knownItems(ctx context.Context, tx *sql.Tx, feedID int64, items []Item) (*knownSet, error) {
	k := &knownSet{byGUID: map[string]storedItem{}, byLink: map[linkTitle]bool{}, byStory: map[string][]storyItem{},
		pruned: map[string]bool{}}
	var guids, urls, keys []string
	for _, it := range items {
		guids = append(guids, it.GUID)
		if it.URL != "" {
			urls = append(urls, it.URL)
			if key := storyKey(it.URL); key != "" {
				keys = append(keys, key)
			}
		}
	}
	// query runs q, whose last argument is list as a JSON array.
	query := func(q string, list []string, scan func(*sql.Rows) error, args ...any) error {
		if len(list) == 0 {
			return nil
		}
		js, err := json.Marshal(list)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, q, append(args, string(js))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err := query(`SELECT guid, id, content_hash FROM items WHERE feed_id = ? AND guid IN (SELECT value FROM json_each(?))`, guids,
		func(r *sql.Rows) error {
			var guid string
			var si storedItem
			err := r.Scan(&guid, &si.id, &si.hash)
			k.byGUID[guid] = si
			return err
		}, feedID)
	if err == nil {
		err = query(`SELECT url, title FROM items WHERE feed_id = ? AND url IN (SELECT value FROM json_each(?))`, urls,
			func(r *sql.Rows) error {
				var lt linkTitle
				err := r.Scan(&lt.url, &lt.title)
				k.byLink[lt] = true
				return err
			}, feedID)
	}
	if err == nil {
		err = query(`SELECT story_key, story_id, feed_id, title FROM items WHERE story_key IN (SELECT value FROM json_each(?))
			AND story_key <> '' ORDER BY id`, keys,
			func(r *sql.Rows) error {
				var key string
				var si storyItem
				err := r.Scan(&key, &si.storyID, &si.feedID, &si.title)
				k.byStory[key] = append(k.byStory[key], si)
				return err
			})
	}
	if err == nil {
		err = query(`SELECT guid FROM items_pruned WHERE feed_id = ? AND guid IN (SELECT value FROM json_each(?))`, guids,
			func(r *sql.Rows) error {
				var guid string
				err := r.Scan(&guid)
				k.pruned[guid] = true
				return err
			}, feedID)
	}
	return k, err
}

// ItemByURL returns the first stored item of the story at rawURL, from any
// feed: scheme, "www.", tracking parameters and the fragment do not matter.
// ok is false when no stored item has that link.
func (s *Store) ItemByURL(ctx context.Context, rawURL string) (it Item, ok bool, err error) {
	key := storyKey(NormalizeURL(rawURL, nil))
	if key == "" {
		return Item{}, false, nil
	}
	row := s.db.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM items i JOIN feeds f ON f.id = i.feed_id
		WHERE i.story_key = ? ORDER BY i.id LIMIT 1`, key)
	it, err = scanItem(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Item{}, false, nil
	}
	if err != nil {
		return Item{}, false, fmt.Errorf("feeds: find item by link: %w", err)
	}
	return it, true, nil
}
