package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestMigrateAppliesEachStepOnceAndRefusesNewerDatabases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "x.db") // the directory is created
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := Migration{Component: "things", Steps: []string{
		`CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`,
		`ALTER TABLE things ADD COLUMN colour TEXT NOT NULL DEFAULT ''`,
	}}
	for i := 0; i < 2; i++ { // a restart applies nothing again
		if err := Migrate(ctx, db, m); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if _, err := db.Exec(`INSERT INTO things (name, colour) VALUES ('a', 'red')`); err != nil {
		t.Fatal(err)
	}
	// A broken step fails with the component and version, and leaves no trace.
	bad := Migration{Component: "things", Steps: append(m.Steps, `ALTER TABLE nope ADD COLUMN x`)}
	err = Migrate(ctx, db, bad)
	if err == nil || !strings.Contains(err.Error(), "things to 3") {
		t.Fatalf("broken step: err = %v", err)
	}
	var v int
	db.QueryRow(`SELECT MAX(version) FROM schema_migrations WHERE component = 'things'`).Scan(&v)
	if v != 2 {
		t.Fatalf("version after a failed step = %d, want 2", v)
	}
	// An older binary (knowing one step) refuses the newer database.
	if err := Migrate(ctx, db, Migration{Component: "things", Steps: m.Steps[:1]}); err == nil || !strings.Contains(err.Error(), "older binary") {
		t.Fatalf("older binary: err = %v", err)
	}
	// The pragmas hold on every connection.
	var fk int
	var mode string
	db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	if fk != 1 || mode != "wal" {
		t.Errorf("foreign_keys=%d journal_mode=%s", fk, mode)
	}
}

// With ExternalCheckpoints (Litestream), no connection checkpoints the WAL
// on its own; by default SQLite does at 1000 pages.
func TestExternalCheckpointsTurnOffAutocheckpoint(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want int
	}{{Options{}, 1000}, {Options{ExternalCheckpoints: true}, 0}} {
		db, err := OpenWith(filepath.Join(t.TempDir(), "x.db"), c.opts)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(3)
		for i := 0; i < 3; i++ { // every connection of the pool
			conn, err := db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var n int
			if err := conn.QueryRowContext(context.Background(), `PRAGMA wal_autocheckpoint`).Scan(&n); err != nil || n != c.want {
				t.Errorf("%+v: connection %d: wal_autocheckpoint = %d %v, want %d", c.opts, i, n, err, c.want)
			}
		}
		db.Close()
	}
}
