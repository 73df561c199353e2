package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/haiphong/hpdigest/store"
)

// Restored says what Restore did.
type Restored struct {
	Versions Versions
	// Before is where the replaced database was moved ("" if there was none).
	Before string
	// Migrate lists the components whose schema is older than this
	// binary's: the next start migrates them.
	Migrate []string
}

// BeforeRestoreSuffix names the replaced database: <database>.before-restore.
const BeforeRestoreSuffix = ".before-restore"

// Restore replaces the database at dbPath with the backup at src. The
// backup must pass the integrity check and carry no schema newer than
// known (this binary's versions, by component). Restore refuses while any
// other process has the database open (the daemon or a one-off command
// holds the shared lock; see store.LockShared), and it refuses to overwrite
// an earlier <database>.before-restore. The replaced database is
// checkpointed and kept there.
func Restore(ctx context.Context, src, dbPath string, known Versions) (Restored, error) {
	var res Restored
	if st, err := os.Stat(src + "-wal"); err == nil && st.Size() > 0 {
		return res, fmt.Errorf("restore: %s has a -wal file beside it: it is a live database, not a backup (make one with -backup)", src)
	}
	v, err := Check(ctx, src)
	if err != nil {
		return res, err
	}
	res.Versions = v
	for _, c := range sortedKeys(v) {
		want, ok := known[c]
		switch {
		case !ok:
			return res, fmt.Errorf("restore: %s has schema component %q that this hpdigest does not know: it was made by a newer version", src, c)
		case v[c] > want:
			return res, fmt.Errorf("restore: %s has %s schema version %d, newer than this hpdigest's %d: restore it with the version that made it", src, c, v[c], want)
		case v[c] < want:
			res.Migrate = append(res.Migrate, fmt.Sprintf("%s %d→%d", c, v[c], want))
		}
	}
	lock, err := store.LockExclusive(dbPath)
	if err != nil {
		if errors.Is(err, store.ErrInUse) {
			return res, fmt.Errorf("restore: %w: stop the daemon (systemctl stop hpdigest) and any other hpdigest command first", err)
		}
		return res, err
	}
	defer lock.Close()
	if same(src, dbPath) {
		return res, fmt.Errorf("restore: %s is the database itself", src)
	}
	before := dbPath + BeforeRestoreSuffix
	if _, err := os.Lstat(before); err == nil {
		return res, fmt.Errorf("restore: %s exists (kept from an earlier restore): move it away first, it may be the only copy of that database", before)
	}
	if _, err := os.Stat(dbPath); err == nil {
		if err := checkpoint(ctx, dbPath); err != nil {
			return res, err
		}
		if err := os.Rename(dbPath, before); err != nil {
			return res, fmt.Errorf("restore: keep the current database: %w", err)
		}
		res.Before = before
		// Checkpointed, the WAL is empty; it goes along so no old page can
		// be replayed into the restored database.
		for _, suffix := range []string{"-wal", "-shm"} {
			if err := os.Rename(dbPath+suffix, before+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return res, fmt.Errorf("restore: %w", err)
			}
		}
	}
	if err := copyNew(src, dbPath); err != nil {
		return res, err
	}
	return res, nil
}

// checkpoint folds the WAL of the (idle) database into its file, so the
// file alone is the whole database.
func checkpoint(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", store.URI(path)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("restore: open %s: %w", path, err)
	}
	defer db.Close()
	var busy, logFrames, done int
	if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("restore: checkpoint %s: %w", path, err)
	}
	if busy != 0 {
		return fmt.Errorf("restore: %s is still in use by another program (Litestream? stop it first)", path)
	}
	return db.Close()
}

// copyNew copies src to a new file dst (mode 0600) through a temporary
// file beside it, renamed into place once it is on disk.
func copyNew(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".hpdigest-restore-*.tmp")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("restore: copy %s: %w", src, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("restore: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	syncDir(filepath.Dir(dst))
	return nil
}

func same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func sortedKeys(v Versions) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// LitestreamDir is the state directory Litestream keeps beside the
// database at dbPath; it must be removed after a restore, before Litestream
// starts again (Litestream does not notice a database replaced under it).
func LitestreamDir(dbPath string) string {
	return filepath.Join(filepath.Dir(dbPath), "."+filepath.Base(dbPath)+"-litestream")
}

// String lists versions as "app 1, deliver 3, ...".
func (v Versions) String() string {
	var parts []string
	for _, k := range sortedKeys(v) {
		parts = append(parts, fmt.Sprintf("%s %d", k, v[k]))
	}
	return strings.Join(parts, ", ")
}
