package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/store"
)

// testSchema stands for the project's components: two versioned steps.
var testSchema = store.Migration{Component: "ledger", Steps: []string{
	`CREATE TABLE batches (id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, size INTEGER NOT NULL)`,
	`CREATE TABLE entries (id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL REFERENCES batches(id), n INTEGER NOT NULL)`,
}}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Migrate(context.Background(), db, testSchema); err != nil {
		t.Fatal(err)
	}
	return db
}

// writeBatch commits one batch and its entries in one transaction.
func writeBatch(ctx context.Context, db *sql.DB, writer, size int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO batches (writer, size) VALUES (?, ?)`, writer, size)
	if err != nil {
		return err
	}
	id, _ := res.LastInsertId()
	for n := 0; n < size; n++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO entries (batch_id, n) VALUES (?, ?)`, id, n); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// contents is every row of the test tables, in order, as text.
func contents(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{`SELECT 'b', id, writer, size FROM batches ORDER BY id`, `SELECT 'e', id, batch_id, n FROM entries ORDER BY id`} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var kind string
			var a, b, c int64
			if err := rows.Scan(&kind, &a, &b, &c); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(kind, a, b, c))
		}
		rows.Close()
	}
	return out
}

// A backup taken while four writers commit batches holds whole batches
// only (every transaction all or nothing), passes the integrity check, is
// private (0600), and once restored in place of the database holds exactly
// what the backup held.
func TestBackupDuringWritesIsConsistentAndRestores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "live.db")
	db := openDB(t, dbPath)

	var committed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 1; w <= 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := writeBatch(ctx, db, w, 5+i%20); err != nil {
					t.Error(err)
					return
				}
				committed.Add(1)
			}
		}()
	}
	for committed.Load() < 50 { // the backup starts with writers in full swing
		time.Sleep(time.Millisecond)
	}
	dest := filepath.Join(dir, "copy.db")
	info, err := Online(ctx, db, dest)
	atBackup := committed.Load()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	final := committed.Load()
	if final <= atBackup {
		t.Fatalf("writers stopped while the backup ran (%d batches before, %d after): the test proves nothing", atBackup, final)
	}
	st, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || info.Size != st.Size() {
		t.Errorf("backup mode %v size %d (info %d), want 0600", st.Mode().Perm(), st.Size(), info.Size)
	}
	if v, err := Check(ctx, dest); err != nil || v["ledger"] != 2 {
		t.Fatalf("check of the backup: %v %v", v, err)
	}
	copyDB, err := sql.Open("sqlite", "file:"+dest+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var batches, torn int
	copyDB.QueryRow(`SELECT COUNT(*) FROM batches`).Scan(&batches)
	copyDB.QueryRow(`SELECT COUNT(*) FROM batches b WHERE size <> (SELECT COUNT(*) FROM entries e WHERE e.batch_id = b.id)`).Scan(&torn)
	if torn != 0 {
		t.Errorf("%d batches of the backup are incomplete: not a consistent snapshot", torn)
	}
	if int64(batches) < 50 || int64(batches) > final {
		t.Errorf("backup holds %d batches; %d were committed before it began and %d in all", batches, 50, final)
	}
	want := contents(t, copyDB)

	// Restore the backup in place of the database (stopped: closed).
	db.Close()
	res, err := Restore(ctx, dest, dbPath, Versions{"ledger": 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Before != dbPath+BeforeRestoreSuffix {
		t.Errorf("replaced database kept as %q", res.Before)
	}
	restored := openDB(t, dbPath)
	if got := contents(t, restored); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("restored database differs from the backup: %d rows, want %d", len(got), len(want))
	}
	old := openDB(t, res.Before)
	var oldBatches int64
	old.QueryRow(`SELECT COUNT(*) FROM batches`).Scan(&oldBatches)
	if oldBatches != final {
		t.Errorf("the database kept as .before-restore has %d batches, want all %d committed", oldBatches, final)
	}
}

// A backup never writes through an existing file or a symbolic link, and
// leaves nothing behind when it fails.
func TestBackupNeverOverwrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openDB(t, filepath.Join(dir, "live.db"))
	if err := writeBatch(ctx, db, 1, 3); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "existing.db")
	os.WriteFile(existing, []byte("precious"), 0o644)
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("do not touch"), 0o644)
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for _, dest := range []string{existing, link} {
		if _, err := Online(ctx, db, dest); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Errorf("backup to %s: %v, want a refusal", filepath.Base(dest), err)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "precious" {
		t.Error("existing file changed")
	}
	if b, _ := os.ReadFile(target); string(b) != "do not touch" {
		t.Error("symlink target changed")
	}
	if _, err := Online(ctx, db, filepath.Join(dir, "no-such-dir", "x.db")); err == nil {
		t.Error("backup into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".hpdigest-backup-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// Restore refuses while another process holds the database (the daemon's
// shared lock), refuses a damaged file and one from a newer schema, and
// never overwrites an earlier .before-restore; each refusal leaves the
// database as it was.
func TestRestoreRefusals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "live.db")
	db := openDB(t, dbPath)
	if err := writeBatch(ctx, db, 1, 4); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.db")
	if _, err := Online(ctx, db, good); err != nil {
		t.Fatal(err)
	}
	if err := writeBatch(ctx, db, 2, 4); err != nil { // the live database moves on
		t.Fatal(err)
	}

	daemon, err := store.LockShared(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Restore(ctx, good, dbPath, Versions{"ledger": 2})
	if !errors.Is(err, store.ErrInUse) || !strings.Contains(err.Error(), "stop the daemon") {
		t.Fatalf("restore while the database is held: %v", err)
	}
	daemon.Close()

	corrupt := filepath.Join(dir, "corrupt.db")
	b, _ := os.ReadFile(good)
	copy(b[len(b)/2:], strings.Repeat("\xff", len(b)/2))
	os.WriteFile(corrupt, b, 0o600)
	if _, err := Restore(ctx, corrupt, dbPath, Versions{"ledger": 2}); err == nil {
		t.Error("a damaged backup was restored")
	}
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte("not a database"), 0o600)
	if _, err := Restore(ctx, notDB, dbPath, Versions{"ledger": 2}); err == nil {
		t.Error("a text file was restored")
	}
	if _, err := Restore(ctx, good, dbPath, Versions{"ledger": 1}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("backup of a newer schema: %v", err)
	}
	var batches int
	db.QueryRow(`SELECT COUNT(*) FROM batches`).Scan(&batches)
	if batches != 2 {
		t.Fatalf("refused restores changed the database: %d batches", batches)
	}

	db.Close()
	if _, err := Restore(ctx, good, dbPath, Versions{"ledger": 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, good, dbPath, Versions{"ledger": 2}); err == nil || !strings.Contains(err.Error(), BeforeRestoreSuffix) {
		t.Errorf("second restore over an existing .before-restore: %v", err)
	}
	kept := openDB(t, dbPath+BeforeRestoreSuffix)
	kept.QueryRow(`SELECT COUNT(*) FROM batches`).Scan(&batches)
	if batches != 2 {
		t.Errorf(".before-restore holds %d batches, want the 2 of the replaced database", batches)
	}
}

// Scheduled backups carry a UTC time stamp and only the newest Keep stay;
// other files in the directory are never touched.
func TestScheduledBackupsRotate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "hpdigest.db")
	db := openDB(t, dbPath)
	cfg := Config{Keep: 2}
	cfg.Defaults(dbPath)
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(cfg.Dir, "hpdigest-notes.db")
	os.WriteFile(mine, []byte("x"), 0o600)
	base := time.Date(2026, 3, 1, 3, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	var last Info
	for day := 0; day < 4; day++ {
		info, _, err := Scheduled(ctx, db, dbPath, cfg, base.AddDate(0, 0, day))
		if err != nil {
			t.Fatal(err)
		}
		last = info
	}
	if filepath.Base(last.Path) != "hpdigest-20260303T200000Z.db" {
		t.Errorf("last backup named %s", filepath.Base(last.Path))
	}
	entries, _ := os.ReadDir(cfg.Dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := "hpdigest-20260302T200000Z.db hpdigest-20260303T200000Z.db hpdigest-notes.db"
	if strings.Join(names, " ") != want {
		t.Errorf("backup directory: %v, want %s", names, want)
	}
	if at, ok := Latest(cfg.Dir, dbPath); !ok || !at.Equal(base.AddDate(0, 0, 3)) {
		t.Errorf("Latest = %v %v", at, ok)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Schedule: "0 3 * * *", Keep: 7}, ""},
		{Config{Schedule: "every night", Keep: 7}, "backup.schedule"},
		{Config{Keep: -1}, "backup.keep"},
	} {
		err := c.cfg.Validate()
		if (c.want == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), c.want+":")) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}
