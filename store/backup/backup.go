// Package backup copies the project's SQLite database while the daemon
// runs, keeps a rotation of scheduled copies, checks a copy's integrity and
// schema, and restores one in place of the database.
//
// A copy is taken with VACUUM INTO: one read transaction, so it is a
// consistent snapshot that writers (sends, fetches) never wait for. It is
// written into a new private temporary file beside the destination, checked
// with PRAGMA integrity_check, and only then linked to its name, so a
// backup is never written through an existing file or symbolic link and a
// file with the backup's name is always complete.
package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/haiphong/hpdigest/internal/cronspec"
	"github.com/haiphong/hpdigest/store"
)

// Config is the [backup] section.
type Config struct {
	// Schedule is a cron spec (in the config's time zone) for backups taken
	// by the daemon; empty: none.
	Schedule string `toml:"schedule"`
	// Dir receives the scheduled backups (default: "backups" beside the database).
	Dir string `toml:"dir"`
	// Keep is how many scheduled backups are kept, newest first (default 7).
	Keep int `toml:"keep"`
	// Litestream says Litestream replicates the database: the daemon then
	// never checkpoints the WAL itself and leaves that to Litestream.
	Litestream bool `toml:"litestream"`
}

// DefaultKeep is how many scheduled backups are kept unless configured.
const DefaultKeep = 7

// Defaults fills the directory (beside the database at dbPath) and Keep.
func (c *Config) Defaults(dbPath string) {
	if c.Dir == "" {
		c.Dir = DefaultDir(dbPath)
	}
	if c.Keep == 0 {
		c.Keep = DefaultKeep
	}
}

// DefaultDir is where scheduled backups go unless dir says: "backups"
// beside the database at dbPath.
func DefaultDir(dbPath string) string { return filepath.Join(filepath.Dir(dbPath), "backups") }

// Validate checks the section; errors name the key ("backup.schedule: ...").
func (c Config) Validate() error {
	if c.Schedule != "" {
		if err := cronspec.Check(c.Schedule); err != nil {
			return fmt.Errorf("backup.schedule: %w", err)
		}
	}
	if c.Keep < 1 {
		return fmt.Errorf("backup.keep: %d: keep at least one backup", c.Keep)
	}
	return nil
}

// Info describes a backup written.
type Info struct {
	Path string
	Size int64
	Took time.Duration
}

// Online writes a consistent copy of the open database to dest, a file
// that must not exist yet, with mode 0600, and checks the copy's integrity.
// Writers keep going while it runs. On failure nothing is left at dest.
func Online(ctx context.Context, db *sql.DB, dest string) (Info, error) {
	start := time.Now()
	if _, err := os.Lstat(dest); err == nil {
		return Info{}, fmt.Errorf("backup: %s already exists: a backup never overwrites a file, choose a new name", dest)
	} else if !errors.Is(err, os.ErrNotExist) {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".hpdigest-backup-*.tmp") // mode 0600, O_EXCL
	if err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	keep := false
	defer func() {
		if !keep {
			os.Remove(tmpPath)
		}
	}()
	// VACUUM INTO accepts an existing empty file and keeps its mode.
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmpPath); err != nil {
		return Info{}, fmt.Errorf("backup: copy the database: %w", err)
	}
	if _, err := Check(ctx, tmpPath); err != nil {
		return Info{}, err
	}
	if err := syncFile(tmpPath); err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	// A hard link fails if dest appeared meanwhile: never clobber.
	if err := os.Link(tmpPath, dest); err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	syncDir(filepath.Dir(dest))
	st, err := os.Stat(dest)
	if err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	return Info{Path: dest, Size: st.Size(), Took: time.Since(start)}, nil
}

// Versions are the schema versions of a database, by component.
type Versions map[string]int

// Check opens the database file at path, runs PRAGMA integrity_check and
// reads its schema versions; a file that is not an intact hpdigest
// database is an error.
func Check(ctx context.Context, path string) (Versions, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	// Read-only and immutable: checking never changes the file or leaves a
	// -wal or -shm beside it.
	db, err := sql.Open("sqlite", store.URI(path)+"?mode=ro&immutable=1")
	if err != nil {
		return nil, fmt.Errorf("backup: open %s: %w", path, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return nil, fmt.Errorf("backup: %s: %w", path, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return nil, fmt.Errorf("backup: %s: %w", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("backup: %s: %w", path, err)
	}
	if len(problems) > 0 {
		if len(problems) > 5 {
			problems = append(problems[:5], "...")
		}
		return nil, fmt.Errorf("backup: %s fails the integrity check: %s", path, strings.Join(problems, "; "))
	}
	v := Versions{}
	vr, err := db.QueryContext(ctx, `SELECT component, MAX(version) FROM schema_migrations GROUP BY component`)
	if err != nil {
		return nil, fmt.Errorf("backup: %s is not an hpdigest database (no schema versions): %w", path, err)
	}
	defer vr.Close()
	for vr.Next() {
		var c string
		var n int
		if err := vr.Scan(&c, &n); err != nil {
			return nil, fmt.Errorf("backup: %s: %w", path, err)
		}
		v[c] = n
	}
	if err := vr.Err(); err != nil {
		return nil, fmt.Errorf("backup: %s: %w", path, err)
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("backup: %s is not an hpdigest database (no schema versions)", path)
	}
	return v, nil
}

// timeLayout stamps scheduled backups: sortable, UTC, no colons.
const timeLayout = "20060102T150405Z"

// stem is the name scheduled backups of the database at dbPath start with.
func stem(dbPath string) string {
	return strings.TrimSuffix(filepath.Base(dbPath), filepath.Ext(dbPath)) + "-"
}

// Scheduled writes a backup named <database>-<UTC time>.db into cfg.Dir
// and then removes all but the newest cfg.Keep of them. It returns the
// backup and the files removed.
func Scheduled(ctx context.Context, db *sql.DB, dbPath string, cfg Config, now time.Time) (Info, []string, error) {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return Info{}, nil, fmt.Errorf("backup: %w", err)
	}
	info, err := Online(ctx, db, filepath.Join(cfg.Dir, stem(dbPath)+now.UTC().Format(timeLayout)+".db"))
	if err != nil {
		return info, nil, err
	}
	removed, err := rotate(cfg.Dir, dbPath, cfg.Keep)
	return info, removed, err
}

// backupFile is one scheduled backup found in the directory.
type backupFile struct {
	path string
	at   time.Time
}

// list returns the scheduled backups of the database in dir, newest first.
// Files that do not carry the name and time stamp of one are left alone.
func list(dir, dbPath string) ([]backupFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	prefix := stem(dbPath)
	var out []backupFile
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ".db") {
			continue
		}
		at, err := time.Parse(timeLayout, strings.TrimSuffix(strings.TrimPrefix(name, prefix), ".db"))
		if err != nil {
			continue
		}
		out = append(out, backupFile{filepath.Join(dir, name), at})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.After(out[j].at) })
	return out, nil
}

func rotate(dir, dbPath string, keep int) ([]string, error) {
	files, err := list(dir, dbPath)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	var removed []string
	for _, f := range files[min(keep, len(files)):] {
		if err := os.Remove(f.path); err != nil {
			return removed, fmt.Errorf("backup: remove old backup: %w", err)
		}
		removed = append(removed, f.path)
	}
	return removed, nil
}

// Latest returns the time of the newest scheduled backup in dir (false if
// there is none).
func Latest(dir, dbPath string) (time.Time, bool) {
	files, err := list(dir, dbPath)
	if err != nil || len(files) == 0 {
		return time.Time{}, false
	}
	return files[0].at, true
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// syncDir makes a new directory entry durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
