package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest/deliver"
)

// ErrSending is Vacuum's answer while an issue is being sent.
var ErrSending = errors.New("an issue is being sent")

// Vacuum rebuilds the database file without its free pages (SQLite's
// VACUUM): what retention deleted is given back to the file system. It
// holds the database's shared lock, so a restore cannot run meanwhile, and
// refuses while an issue is being sent or waits to resume: VACUUM holds
// the write lock for its whole run (seconds per hundred megabytes), which
// a send would wait for. The daemon may keep running otherwise: the
// readers' changes and the polls wait for the end (a wait longer than the
// busy timeout fails and is retried), so run it at a quiet hour.
func Vacuum(ctx context.Context, cfg *config.Config, w io.Writer) error {
	db, done, err := openExisting(cfg, "vacuum")
	if err != nil {
		return err
	}
	defer done()
	unfinished, err := deliver.Unfinished(ctx, db)
	if err != nil {
		return err
	}
	if len(unfinished) > 0 {
		return fmt.Errorf("vacuum: %w (issue ids %v, or an interrupted send waiting to resume): run -vacuum once it has finished", ErrSending, unfinished)
	}
	var pages, free, pageSize int64
	for _, p := range []struct {
		pragma string
		v      *int64
	}{{"page_count", &pages}, {"freelist_count", &free}, {"page_size", &pageSize}} {
		if err := db.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.v); err != nil {
			return fmt.Errorf("vacuum: %w", err)
		}
	}
	fmt.Fprintf(w, "%s: %s, of which %s free (%d of %d pages)\n", cfg.Database, mb(pages*pageSize), mb(free*pageSize), free, pages)
	start := time.Now()
	if _, err := db.ExecContext(ctx, "VACUUM"); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	if !cfg.Backup.Litestream { // Litestream checkpoints itself
		if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return fmt.Errorf("vacuum: checkpoint: %w", err)
		}
	}
	if err := db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	fmt.Fprintf(w, "vacuumed in %s: %s now\n", time.Since(start).Round(time.Millisecond), mb(pages*pageSize))
	return nil
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
