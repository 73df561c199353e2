// Package store opens the project's one SQLite database and applies the
// versioned schema migrations that each domain package owns.
//
// Conventions for every table in the project:
//   - times are INTEGER unix seconds in UTC (columns named *_at), 0 or NULL for "never";
//   - each domain package (feeds, digest, subscribers, deliver, ...) owns its
//     tables and is the only code that writes them.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// Open opens (creating if needed) the SQLite file at path with WAL, a busy
// timeout and foreign keys on every connection. A new file is readable by
// its owner only (SQLite gives its -wal and -shm files the same mode), in
// a directory made for it readable by its owner only.
func Open(path string) (*sql.DB, error) { return OpenWith(path, Options{}) }

// Options change how OpenWith sets up each connection.
type Options struct {
	// ExternalCheckpoints leaves WAL checkpoints to another process
	// (Litestream): SQLite's automatic checkpoint is turned off, so that
	// nothing in this process checkpoints behind the replicator's back.
	ExternalCheckpoints bool
	// BusyTimeout is how long a statement waits for another connection's
	// write lock before failing with SQLITE_BUSY (default 10s).
	BusyTimeout time.Duration
}

// DefaultBusyTimeout is the wait for a write lock held by another
// connection.
const DefaultBusyTimeout = 10 * time.Second

// OpenWith is Open with options.
func OpenWith(path string, o Options) (*sql.DB, error) {
	if path == "" {
		return nil, fmt.Errorf("store: empty database path")
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	busy := o.BusyTimeout
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}
	q := url.Values{}
	pragmas := []string{fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()), "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"}
	if o.ExternalCheckpoints {
		pragmas = append(pragmas, "wal_autocheckpoint(0)")
	}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate") // writers take the lock up front: no deadlocked upgrades
	db, err := sql.Open("sqlite", URI(path)+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

// URI is the SQLite file: URI of path, without parameters: the characters
// a URI gives a meaning ('?', '#', '%') are escaped, so that they stay part
// of the file name.
func URI(path string) string {
	return "file:" + uriEscaper.Replace(filepath.Clean(path))
}

var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// createPrivate makes the database file (and its directory) readable by
// the owner only when it does not exist yet; an existing file keeps its
// mode (see PermissionWarning).
func createPrivate(path string) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("store: create directory for %s: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	return f.Close()
}

// PermissionWarning returns a sentence for the operator when the database
// at path may be read by users other than its owner ("" when it may not,
// or does not exist).
func PermissionWarning(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		return fmt.Sprintf("%s has mode %o: other users on this machine can read every reader's address, the staff's password hashes and the link-signing secret; chmod 600 %s (and its -wal and -shm files)", path, m, path)
	}
	return ""
}

// Migration is the ordered list of schema steps of one component. Step i
// (counting from 1) is applied once; steps are never edited after they ship,
// only appended.
type Migration struct {
	Component string
	Steps     []string
}

// Migrate applies every step not yet applied, each in its own transaction,
// recording (component, version) in schema_migrations.
func Migrate(ctx context.Context, db *sql.DB, migrations ...Migration) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component  TEXT NOT NULL,
		version    INTEGER NOT NULL,
		applied_at INTEGER NOT NULL,
		PRIMARY KEY (component, version))`); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	for _, m := range migrations {
		var current int
		if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?`, m.Component).Scan(&current); err != nil {
			return fmt.Errorf("store: read version of %s: %w", m.Component, err)
		}
		if current > len(m.Steps) {
			return fmt.Errorf("store: database has %s schema version %d but this binary knows only %d: refusing to run an older binary on a newer database", m.Component, current, len(m.Steps))
		}
		for v := current + 1; v <= len(m.Steps); v++ {
			if err := applyStep(ctx, db, m.Component, v, m.Steps[v-1]); err != nil {
				return err
			}
		}
	}
	return nil
}

func applyStep(ctx context.Context, db *sql.DB, component string, version int, step string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate %s to %d: %w", component, version, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, step); err != nil {
		return fmt.Errorf("store: migrate %s to %d: %w", component, version, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)`, component, version, time.Now().Unix()); err != nil {
		return fmt.Errorf("store: record %s version %d: %w", component, version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate %s to %d: %w", component, version, err)
	}
	return nil
}

// Unix converts t to the stored form (0 for the zero time).
func Unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// Time converts a stored unix second count back (the zero time for 0).
func Time(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}
