package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/web/staff"
)

// opsFlags are the backup and restore commands: they work on the database
// file before (and without) the application opening it.
type opsFlags struct {
	backup, restore string
	vacuum          bool
}

func (o *opsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.backup, "backup", "", "write a consistent copy of the database to the new `file` (mode 0600) while the daemon runs, and check it")
	fs.BoolVar(&o.vacuum, "vacuum", false, "give the space retention freed back to the file system (SQLite VACUUM; refused while an issue is being sent)")
	fs.StringVar(&o.restore, "restore", "", "replace the database with the backup `file` (checked first; refused while the daemon or another hpdigest command runs); the old database is kept as DATABASE.before-restore")
}

// runOps runs -backup, -restore or -vacuum; ok is false when none was asked for.
func runOps(ctx context.Context, cfg *config.Config, o opsFlags, stdout, stderr io.Writer) (code int, ok bool) {
	switch {
	case o.backup != "":
		info, err := app.Backup(ctx, cfg, o.backup)
		if err == nil {
			fmt.Fprintf(stdout, "backed up %s to %s: %d bytes, integrity ok, in %s\n", cfg.Database, info.Path, info.Size, info.Took.Round(time.Millisecond))
		}
		return reportErr(stderr, err), true
	case o.restore != "":
		return reportErr(stderr, app.Restore(ctx, cfg, o.restore, stdout, staff.Migrations())), true
	case o.vacuum:
		return reportErr(stderr, app.Vacuum(ctx, cfg, stdout)), true
	}
	return 0, false
}
