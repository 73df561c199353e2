// Package subscribers owns the readers: their address, name, language and
// theme choices, their status (pending, confirmed, unsubscribed, bounced),
// signed tokens for confirm / preferences / unsubscribe links, and CSV
// import/export. Tables: subscribers, subscriber_events,
// subscriber_suppressions, subscriber_changes, subscriber_confirm_slots and
// the statistics tables (see stats.go).
package subscribers

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// Status of a subscriber.
const (
	Pending      = "pending"
	Confirmed    = "confirmed"
	Unsubscribed = "unsubscribed"
	Bounced      = "bounced"
)

// Event kinds recorded in subscriber_events.
const (
	EventSubscribed       = "subscribed"        // row created (web form, CLI or import)
	EventConfirmationSent = "confirmation_sent" // double opt-in mail sent
	EventConfirmed        = "confirmed"
	EventChanged          = "changed" // language, themes or name changed
	EventPaused           = "paused"
	EventResumed          = "resumed"
	EventUnsubscribed     = "unsubscribed"
	EventBounce           = "bounce" // one permanent failure, counted
	EventBounced          = "bounced"
	EventResubscribe      = "resubscribe_requested" // form filled for an address already on the list
	EventComplained       = "complained"            // a spam complaint (feedback report) about our mail; the reader is unsubscribed by it
)

// Subscriber is one reader.
type Subscriber struct {
	ID          int64
	Email       string // normalised (domain lower-cased, IDN to ASCII)
	Name        string
	Language    string   // "vi" | "en"
	Themes      []string // theme keys they chose; empty means all
	Status      string
	Timezone    string // IANA name; "" means the config default
	Paused      bool   // confirmed but not mailed until resumed
	BounceCount int    // permanent failures since the last confirmation
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ConfirmedAt time.Time // zero if never confirmed
	// StatusAt is when Status last changed.
	StatusAt time.Time
}

// Mailable reports whether the subscriber is to receive issues.
func (s Subscriber) Mailable() bool { return s.Status == Confirmed && !s.Paused }

// Event is one recorded state change.
type Event struct {
	Kind   string    `json:"kind"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
	// From a bounce or complaint report: the enhanced status code and the
	// MTA that wrote the report.
	Status       string `json:"status,omitempty"`
	ReportingMTA string `json:"reporting_mta,omitempty"`
}

// Migrations returns the schema of the subscribers tables.
func Migrations() store.Migration {
	return store.Migration{Component: "subscribers", Steps: []string{
		`CREATE TABLE subscribers (
			id              INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: old tokens cannot reach a new reader
			email           TEXT NOT NULL COLLATE NOCASE UNIQUE,
			name            TEXT NOT NULL DEFAULT '',
			language        TEXT NOT NULL CHECK (language IN ('vi','en')),
			themes          TEXT NOT NULL DEFAULT '', -- space separated keys; '' = all
			status          TEXT NOT NULL CHECK (status IN ('pending','confirmed','unsubscribed','bounced')),
			timezone        TEXT NOT NULL DEFAULT '',
			paused          INTEGER NOT NULL DEFAULT 0,
			bounce_count    INTEGER NOT NULL DEFAULT 0,
			confirm_sent_at INTEGER NOT NULL DEFAULT 0,
			created_at      INTEGER NOT NULL,
			updated_at      INTEGER NOT NULL,
			confirmed_at    INTEGER NOT NULL DEFAULT 0,
			status_at       INTEGER NOT NULL
		);
		CREATE INDEX subscribers_status_id ON subscribers(status, id);
		CREATE TABLE subscriber_events (
			id            INTEGER PRIMARY KEY AUTOINCREMENT,
			subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
			kind          TEXT NOT NULL,
			detail        TEXT NOT NULL DEFAULT '',
			at            INTEGER NOT NULL
		);
		CREATE INDEX subscriber_events_subscriber ON subscriber_events(subscriber_id, id);
		-- Addresses deleted on request: only a SHA-256 of the lower-cased
		-- address is kept, so that a later CSV import does not add them again.
		CREATE TABLE subscriber_suppressions (
			email_sha256 TEXT PRIMARY KEY,
			reason       TEXT NOT NULL,
			created_at   INTEGER NOT NULL
		);`,
		// Monitoring counts readers by status and language, and events by
		// kind, from these indexes alone (a scrape at a million readers).
		`CREATE INDEX subscribers_status_language ON subscribers(status, language);
		CREATE INDEX subscriber_events_kind ON subscriber_events(kind, at);`,
		statsMigration,
		// Every time a reader becomes mailable or stops being mailable
		// (any process: the web pages, the mail pipe, the CLI), for senders
		// to check at send time (see StopWatch).
		`CREATE TABLE subscriber_changes (
			seq           INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: watchers read past the last they saw
			subscriber_id INTEGER NOT NULL,
			at            INTEGER NOT NULL
		);
		CREATE TRIGGER subscriber_changes_update AFTER UPDATE OF status, paused ON subscribers
			WHEN (OLD.status = 'confirmed' AND OLD.paused = 0) <> (NEW.status = 'confirmed' AND NEW.paused = 0)
			BEGIN INSERT INTO subscriber_changes (subscriber_id, at) VALUES (NEW.id, unixepoch()); END;
		CREATE TRIGGER subscriber_changes_delete AFTER DELETE ON subscribers
			WHEN OLD.status = 'confirmed' AND OLD.paused = 0
			BEGIN INSERT INTO subscriber_changes (subscriber_id, at) VALUES (OLD.id, unixepoch()); END;`,
		reportsMigration,
		// The last confirmation mail per mailbox (see Mailbox): the
		// plus-addresses of one mailbox share one slot.
		`CREATE TABLE subscriber_confirm_slots (
			mailbox TEXT PRIMARY KEY,
			sent_at INTEGER NOT NULL
		) WITHOUT ROWID;`,
	}}
}

// Store reads and writes subscribers.
type Store struct {
	db *sql.DB
	// cfg and themes are replaced whole (a configuration reload) while
	// requests read them.
	cfg      atomic.Pointer[Config]
	themes   atomic.Pointer[[]string]
	now      func() time.Time
	onRemove RemoveHook

	watchMu sync.Mutex
	watches map[*StopWatch]bool // refreshed after this process commits a change
}

// RemoveHook is run inside Remove's transaction so that other components
// can erase their copies of a forgotten reader's data (the outbox keeps
// the address of every delivery). An error aborts the removal.
type RemoveHook func(ctx context.Context, tx *sql.Tx, subscriberID int64, email string) error

// SetRemoveHook installs the hook run by Remove.
func (s *Store) SetRemoveHook(h RemoveHook) { s.onRemove = h }

// NewStore wraps an open database (migrations already applied).
func NewStore(db *sql.DB) *Store {
	s := &Store{db: db, now: time.Now}
	s.Configure(Config{})
	return s
}

// Configure applies the [subscribers] settings (bounce limit, defaults).
func (s *Store) Configure(cfg Config) {
	cfg.Defaults()
	s.cfg.Store(&cfg)
}

// SetThemes restricts theme keys to known ones (import, forms, CLI).
func (s *Store) SetThemes(keys []string) {
	keys = append([]string(nil), keys...)
	s.themes.Store(&keys)
}

// Themes returns the known theme keys (nil if not restricted).
func (s *Store) Themes() []string {
	if p := s.themes.Load(); p != nil {
		return *p
	}
	return nil
}

// SetClock replaces the clock (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Config returns the settings in use.
func (s *Store) Config() Config { return *s.cfg.Load() }

// ErrExists is returned by Add for an address already on the list.
var ErrExists = errors.New("subscriber already exists")

// ErrNotFound is returned for an unknown subscriber.
var ErrNotFound = errors.New("subscriber not found")

const cols = `id, email, name, language, themes, status, timezone, paused, bounce_count, created_at, updated_at, confirmed_at, status_at`

type scanner interface{ Scan(...any) error }

func scanSub(r scanner) (Subscriber, error) {
	var sub Subscriber
	var themes string
	var paused int
	var created, updated, confirmed, statusAt int64
	if err := r.Scan(&sub.ID, &sub.Email, &sub.Name, &sub.Language, &themes, &sub.Status, &sub.Timezone, &paused, &sub.BounceCount, &created, &updated, &confirmed, &statusAt); err != nil {
		return sub, err
	}
	sub.Themes = strings.Fields(themes)
	sub.Paused = paused != 0
	sub.CreatedAt, sub.UpdatedAt, sub.ConfirmedAt, sub.StatusAt = store.Time(created), store.Time(updated), store.Time(confirmed), store.Time(statusAt)
	return sub, nil
}

// execer is what both *sql.DB and *sql.Tx offer.
type execer interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func addEvent(ctx context.Context, x execer, id int64, kind, detail string, at time.Time) error {
	if len(detail) > 500 {
		detail = detail[:500]
	}
	_, err := x.ExecContext(ctx, `INSERT INTO subscriber_events (subscriber_id, kind, detail, at) VALUES (?, ?, ?, ?)`, id, kind, detail, at.Unix())
	if err != nil {
		return fmt.Errorf("subscribers: record %s event: %w", kind, err)
	}
	return nil
}

// clean validates and normalises the fields of sub that a caller may set.
func (s *Store) clean(sub *Subscriber) error {
	email, err := NormalizeEmail(sub.Email)
	if err != nil {
		return err
	}
	sub.Email = email
	if sub.Name, err = CleanName(sub.Name); err != nil {
		return err
	}
	if sub.Language, err = NormalizeLanguage(sub.Language, s.Config().DefaultLanguage); err != nil {
		return err
	}
	if sub.Themes, err = ParseThemes(strings.Join(sub.Themes, " "), s.Themes()); err != nil {
		return err
	}
	if err := checkTimezone(sub.Timezone); err != nil {
		return err
	}
	switch sub.Status {
	case "":
		sub.Status = Confirmed
	case Pending, Confirmed, Unsubscribed, Bounced:
	default:
		return fmt.Errorf("unknown status %q", sub.Status)
	}
	return nil
}

// checkTimezone accepts "" (the configured default) and IANA zone names;
// "Local" (this server's zone, whatever it is) is not a reader's zone.
func checkTimezone(tz string) error {
	if tz == "" {
		return nil
	}
	if tz == "Local" {
		return fmt.Errorf("time zone %q: name the reader's zone (e.g. Asia/Tokyo)", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Errorf("time zone %q: %v", tz, err)
	}
	return nil
}

// Add inserts a subscriber (validating the address); an existing address is
// an error wrapping ErrExists. An empty Status means Confirmed (the operator
// vouches for the address).
func (s *Store) Add(ctx context.Context, sub Subscriber) (Subscriber, error) {
	return s.add(ctx, sub, "added")
}

func (s *Store) add(ctx context.Context, sub Subscriber, how string) (Subscriber, error) {
	if err := s.clean(&sub); err != nil {
		return sub, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return sub, err
	}
	defer tx.Rollback()
	sub, err = insertSub(ctx, tx, sub, s.now(), how)
	if err != nil {
		return sub, err
	}
	return sub, tx.Commit()
}

func insertSub(ctx context.Context, tx execer, sub Subscriber, now time.Time, how string) (Subscriber, error) {
	t := now.Unix()
	var confirmedAt int64
	if sub.Status == Confirmed {
		confirmedAt = t
	}
	// ON CONFLICT DO NOTHING + RETURNING: no row back means the address exists.
	err := tx.QueryRowContext(ctx, `INSERT INTO subscribers (email, name, language, themes, status, timezone, paused, created_at, updated_at, confirmed_at, status_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING id`,
		sub.Email, sub.Name, sub.Language, strings.Join(sub.Themes, " "), sub.Status, sub.Timezone, boolInt(sub.Paused), t, t, confirmedAt, t).Scan(&sub.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return sub, fmt.Errorf("%s: %w", sub.Email, ErrExists)
	}
	if err != nil {
		return sub, fmt.Errorf("subscribers: insert %s: %w", sub.Email, err)
	}
	sub.CreatedAt, sub.UpdatedAt, sub.StatusAt = store.Time(t), store.Time(t), store.Time(t)
	sub.ConfirmedAt = store.Time(confirmedAt)
	q := `INSERT INTO subscriber_events (subscriber_id, kind, detail, at) VALUES (?, ?, ?, ?)`
	args := []any{sub.ID, EventSubscribed, how + "; status " + sub.Status, t}
	if sub.Status != Pending {
		q += `, (?, ?, ?, ?)`
		args = append(args, sub.ID, sub.Status, how, t)
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return sub, fmt.Errorf("subscribers: record events: %w", err)
	}
	return sub, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Get returns one subscriber by id.
func (s *Store) Get(ctx context.Context, id int64) (Subscriber, error) {
	sub, err := scanSub(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM subscribers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
	}
	return sub, err
}

// ByEmail returns one subscriber by address (any case, IDN or ASCII domain).
func (s *Store) ByEmail(ctx context.Context, email string) (Subscriber, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return Subscriber{}, err
	}
	sub, err := scanSub(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM subscribers WHERE email = ?`, norm))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, fmt.Errorf("%s: %w", norm, ErrNotFound)
	}
	return sub, err
}

// query runs a SELECT of cols and scans every row.
func (s *Store) query(ctx context.Context, q string, args ...any) ([]Subscriber, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Subscriber
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Counts returns the number of subscribers per status (from the running
// tallies: a few rows, however many readers there are).
func (s *Store) Counts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, SUM(n) FROM subscriber_tallies GROUP BY status HAVING SUM(n) > 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Events returns a subscriber's recorded state changes, oldest first.
func (s *Store) Events(ctx context.Context, id int64) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, detail, at, status_code, reporting_mta FROM subscriber_events WHERE subscriber_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.Kind, &e.Detail, &at, &e.Status, &e.ReportingMTA); err != nil {
			return nil, err
		}
		e.At = store.Time(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func suppressionKey(email string) string {
	h := sha256.Sum256([]byte(strings.ToLower(email)))
	return hex.EncodeToString(h[:])
}

// Suppressed reports whether an address was deleted on request (and so must
// not come back through an import).
func (s *Store) Suppressed(ctx context.Context, email string) (bool, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return false, err
	}
	return suppressed(ctx, s.db, norm)
}

func suppressed(ctx context.Context, x execer, norm string) (bool, error) {
	var n int
	err := x.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscriber_suppressions WHERE email_sha256 = ?`, suppressionKey(norm)).Scan(&n)
	return n > 0, err
}

// Remove deletes a subscriber and their data (right to be forgotten): the
// row and its events go; only a SHA-256 of the address is kept so that a
// re-import of an old CSV does not add them again. Subscribing again
// through the web form (and confirming) is still possible.
//
// Rows of other components that point at the subscriber (the outbox) must
// allow the delete (ON DELETE CASCADE or SET NULL).
func (s *Store) Remove(ctx context.Context, email string) error {
	sub, err := s.ByEmail(ctx, email)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.onRemove != nil {
		if err := s.onRemove(ctx, tx, sub.ID, sub.Email); err != nil {
			return fmt.Errorf("subscribers: remove %s: %w", sub.Email, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM subscriber_events WHERE subscriber_id = ?`, sub.ID); err != nil {
		return fmt.Errorf("subscribers: delete events of %s: %w", sub.Email, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM subscribers WHERE id = ?`, sub.ID); err != nil {
		return fmt.Errorf("subscribers: delete %s: %w", sub.Email, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO subscriber_suppressions (email_sha256, reason, created_at) VALUES (?, ?, ?)
		ON CONFLICT (email_sha256) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at`,
		suppressionKey(sub.Email), "deleted on request (was "+sub.Status+")", s.now().Unix()); err != nil {
		return fmt.Errorf("subscribers: record suppression: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.changed(ctx)
	return nil
}

// ConfirmedAfter returns up to limit confirmed, not paused subscribers with
// id > afterID, in id order: the delivery engine streams recipients with it.
func (s *Store) ConfirmedAfter(ctx context.Context, afterID int64, limit int) ([]Subscriber, error) {
	return s.pageAfter(ctx, `status = 'confirmed' AND paused = 0 AND `, afterID, limit)
}

// ListAfter returns up to limit subscribers of any status with id >
// afterID, in id order: a keyset page, so that a walk over the whole list
// holds one page at a time and each page costs the same, however far in.
func (s *Store) ListAfter(ctx context.Context, afterID int64, limit int) ([]Subscriber, error) {
	return s.pageAfter(ctx, ``, afterID, limit)
}

// pageAfter returns up to limit (500 when not positive) subscribers with
// id > afterID that also meet cond (conditions ending in AND, or ""), in
// id order.
func (s *Store) pageAfter(ctx context.Context, cond string, afterID int64, limit int) ([]Subscriber, error) {
	if limit <= 0 {
		limit = 500
	}
	return s.query(ctx, `SELECT `+cols+` FROM subscribers WHERE `+cond+`id > ? ORDER BY id LIMIT ?`, afterID, limit)
}

// setStatus moves a subscriber to status inside tx (recording the event)
// when it differs; it reports whether anything changed.
func setStatus(ctx context.Context, tx execer, id int64, status, detail string, now time.Time) (bool, error) {
	var cur string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM subscribers WHERE id = ?`, id).Scan(&cur); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
		}
		return false, err
	}
	if cur == status {
		return false, nil
	}
	t := now.Unix()
	q := `UPDATE subscribers SET status = ?, updated_at = ?, status_at = ? WHERE id = ?`
	args := []any{status, t, t, id}
	if status == Confirmed {
		q = `UPDATE subscribers SET status = ?, updated_at = ?, status_at = ?, confirmed_at = ?, bounce_count = 0, paused = 0 WHERE id = ?`
		args = []any{status, t, t, t, id}
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return false, err
	}
	return true, addEvent(ctx, tx, id, status, detail, now)
}

// Unsubscribe marks a subscriber unsubscribed (idempotent). While another
// writer holds the database past the busy timeout it tries again for a
// moment (see store.RetryBusy); it returns nil only once the change is
// committed.
func (s *Store) Unsubscribe(ctx context.Context, id int64, reason string) error {
	return store.RetryBusy(ctx, func() error { return s.unsubscribe(ctx, id, reason) })
}

func (s *Store) unsubscribe(ctx context.Context, id int64, reason string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var cur string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM subscribers WHERE id = ?`, id).Scan(&cur); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
		}
		return err
	}
	if cur == Bounced { // already never mailed; keep the stronger state
		return nil
	}
	if _, err := setStatus(ctx, tx, id, Unsubscribed, reason, s.now()); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.changed(ctx)
	return nil
}

// RecordBounce counts a permanent failure; at the configured count
// (bounce_limit) the subscriber becomes Bounced and is never mailed again.
func (s *Store) RecordBounce(ctx context.Context, id int64, reason string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.now()
	var count int
	var status string
	err = tx.QueryRowContext(ctx, `UPDATE subscribers SET bounce_count = bounce_count + 1, updated_at = ? WHERE id = ? RETURNING bounce_count, status`, now.Unix(), id).Scan(&count, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if err := addEvent(ctx, tx, id, EventBounce, fmt.Sprintf("%d/%d: %s", count, s.Config().BounceLimit, reason), now); err != nil {
		return err
	}
	if count >= s.Config().BounceLimit && status != Bounced {
		if _, err := setStatus(ctx, tx, id, Bounced, reason, now); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.changed(ctx)
	return nil
}

// Prefs are what a reader changes on the preferences page.
type Prefs struct {
	Language string
	Themes   []string
	Paused   bool
	// Timezone (IANA name) for delivery at local time: nil leaves it
	// unchanged, "" means the configured default.
	Timezone *string
	// Name is how mails greet the reader: nil leaves it unchanged. Only
	// the reader sets it (the page of their own link), never the public
	// form.
	Name *string
}

// UpdatePreferences changes language, themes, pause, time zone and name,
// recording what changed. It does not change the status.
func (s *Store) UpdatePreferences(ctx context.Context, id int64, p Prefs) (Subscriber, error) {
	var sub Subscriber
	err := store.RetryBusy(ctx, func() (err error) {
		sub, err = s.updatePreferences(ctx, id, p)
		return err
	})
	return sub, err
}

func (s *Store) updatePreferences(ctx context.Context, id int64, p Prefs) (Subscriber, error) {
	lang, err := NormalizeLanguage(p.Language, "")
	if err != nil || lang == "" {
		return Subscriber{}, fmt.Errorf("language must be vi or en")
	}
	themes, err := ParseThemes(strings.Join(p.Themes, " "), s.Themes())
	if err != nil {
		return Subscriber{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Subscriber{}, err
	}
	defer tx.Rollback()
	cur, err := scanSub(tx.QueryRowContext(ctx, `SELECT `+cols+` FROM subscribers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return cur, fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return cur, err
	}
	now := s.now()
	var changes []string
	tz := cur.Timezone
	if p.Timezone != nil {
		tz = *p.Timezone
		if err := checkTimezone(tz); err != nil {
			return cur, err
		}
		if tz != cur.Timezone {
			changes = append(changes, fmt.Sprintf("time zone %q → %q", cur.Timezone, tz))
		}
	}
	name := cur.Name
	if p.Name != nil {
		if name, err = CleanName(*p.Name); err != nil {
			return cur, err
		}
		if name != cur.Name {
			changes = append(changes, "name")
		}
	}
	if cur.Language != lang {
		changes = append(changes, "language "+cur.Language+" → "+lang)
	}
	if strings.Join(cur.Themes, " ") != strings.Join(themes, " ") {
		changes = append(changes, fmt.Sprintf("themes [%s] → [%s]", strings.Join(cur.Themes, " "), strings.Join(themes, " ")))
	}
	if len(changes) > 0 {
		if err := addEvent(ctx, tx, id, EventChanged, strings.Join(changes, "; "), now); err != nil {
			return cur, err
		}
	}
	if cur.Paused != p.Paused {
		kind := EventResumed
		if p.Paused {
			kind = EventPaused
		}
		if err := addEvent(ctx, tx, id, kind, "", now); err != nil {
			return cur, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = ?, language = ?, themes = ?, paused = ?, timezone = ?, updated_at = ? WHERE id = ?`,
		name, lang, strings.Join(themes, " "), boolInt(p.Paused), tz, now.Unix(), id); err != nil {
		return cur, err
	}
	if err := tx.Commit(); err != nil {
		return cur, err
	}
	s.changed(ctx)
	return s.Get(ctx, id)
}
