package app

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/store"
	"github.com/haiphong/hpdigest/store/backup"
	"github.com/haiphong/hpdigest/subscribers"
)

// KnownVersions are this binary's schema versions, by component: the
// application's and those of parts that migrate their own tables (extra).
func KnownVersions(extra ...store.Migration) backup.Versions {
	v := backup.Versions{}
	for _, m := range append(Migrations(), extra...) {
		v[m.Component] = len(m.Steps)
	}
	return v
}

// Backup writes a consistent copy of the configured database to dest (a
// new file, mode 0600) and checks it: the -backup command. The daemon may
// keep running; this only reads.
func Backup(ctx context.Context, cfg *config.Config, dest string) (backup.Info, error) {
	db, done, err := openExisting(cfg, "backup")
	if err != nil {
		return backup.Info{}, err
	}
	defer done()
	return backup.Online(ctx, db, dest)
}

// openExisting opens the configured database, which must exist, for a
// command (named by what) that runs beside the daemon: it holds the
// database's shared lock, so a restore cannot run meanwhile, until done.
func openExisting(cfg *config.Config, what string) (db *sql.DB, done func(), err error) {
	if _, err := os.Stat(cfg.Database); err != nil {
		return nil, nil, fmt.Errorf("%s: no database: %w", what, err)
	}
	lock, err := store.LockShared(cfg.Database)
	if err != nil {
		return nil, nil, err
	}
	db, err = store.OpenWith(cfg.Database, store.Options{ExternalCheckpoints: cfg.Backup.Litestream})
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	return db, func() {
		db.Close()
		lock.Close()
	}, nil
}

// Restore replaces the configured database with the backup at src (the
// -restore command; see backup.Restore for what it checks and refuses) and
// prints what the restored database holds. extra are the migrations of
// parts outside the application (the staff area) that the backup may hold.
func Restore(ctx context.Context, cfg *config.Config, src string, w io.Writer, extra ...store.Migration) error {
	res, err := backup.Restore(ctx, src, cfg.Database, KnownVersions(extra...))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "restored %s into %s (integrity ok; schema %s)\n", src, cfg.Database, res.Versions)
	if res.Before != "" {
		fmt.Fprintf(w, "the database it replaced is kept as %s\n", res.Before)
	}
	if len(res.Migrate) > 0 {
		fmt.Fprintf(w, "its schema is older than this hpdigest's: the next start migrates %s\n", strings.Join(res.Migrate, ", "))
	}
	if err := printContents(ctx, cfg.Database, w); err != nil {
		return fmt.Errorf("restored, but cannot read it back: %w", err)
	}
	if _, err := os.Stat(backup.LitestreamDir(cfg.Database)); err == nil {
		fmt.Fprintf(w, "Litestream: before starting it again, run `litestream reset %s` (or remove %s): it does not notice a replaced database\n",
			cfg.Database, backup.LitestreamDir(cfg.Database))
	}
	return nil
}

// printContents counts what the database holds, through each owner.
func printContents(ctx context.Context, path string, w io.Writer) error {
	lock, err := store.LockShared(path)
	if err != nil {
		return err
	}
	defer lock.Close()
	db, err := store.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	subs, err := subscribers.NewStore(db).CountByStatus(ctx)
	if err != nil {
		return err
	}
	byStatus := map[string]int{}
	total := 0
	for _, c := range subs {
		byStatus[c.Status] += c.N
		total += c.N
	}
	fmt.Fprintf(w, "subscribers: %d (%s)\n", total, joinCounts(byStatus))
	issues, err := digest.NewStore(db, nil).Stats(ctx)
	if err != nil {
		return err
	}
	for _, d := range issues {
		fmt.Fprintf(w, "issues of %s: %s\n", d.Digest, joinCounts(d.ByStatus))
	}
	fs, err := feeds.NewStore(db).FeedStats(ctx)
	if err != nil {
		return err
	}
	themes, err := digest.NewStore(db, nil).ThemeCounts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "feeds: %d; items by theme: %s\n", len(fs), joinCounts(themes))
	rows, err := deliver.OutboxRows(ctx, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "outbox rows: %d\n", rows)
	return nil
}

func joinCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}
