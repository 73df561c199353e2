package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A database path may hold any character a file name can: '?' and '#'
// are part of the name, not a query or a fragment.
func TestOpenPathWithQueryAndFragmentCharacters(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data?mode=ro#1 %41.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatalf("write to %s: %v", path, err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the file is not where the path says: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "data?mode=ro#1 %41.db") {
			t.Errorf("stray file %q beside the database", e.Name())
		}
	}
}

// The database holds every reader, the staff's password hashes and the
// link-signing secret: only its owner may read it, and a directory made
// for it is the owner's alone.
func TestNewDatabaseIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "hp.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(p), m)
		}
	}
	st, _ := os.Stat(dir)
	if m := st.Mode().Perm(); m != 0o700 {
		t.Errorf("directory made for the database: mode %o, want 700", m)
	}
	if w := PermissionWarning(path); w != "" {
		t.Errorf("warning about a private database: %s", w)
	}
	os.Chmod(path, 0o644)
	if w := PermissionWarning(path); !strings.Contains(w, "644") || !strings.Contains(w, "chmod 600") {
		t.Errorf("a database others may read: warning %q", w)
	}
}

// RetryBusy tries again while another connection holds the write lock
// longer than the busy timeout, and gives up with the error once ctx ends.
func TestRetryBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hp.db")
	db, err := OpenWith(path, Options{BusyTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Exec(`CREATE TABLE t (x INTEGER)`)
	holder, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	ctx := context.Background()
	hold := func() func() {
		tx, err := holder.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO t VALUES (0)`); err != nil {
			t.Fatal(err)
		}
		return func() { tx.Commit() }
	}

	release := hold()
	_, err = db.Exec(`INSERT INTO t VALUES (1)`)
	if !IsBusy(err) {
		t.Fatalf("a write while another holds the lock: %v, want SQLITE_BUSY", err)
	}
	time.AfterFunc(150*time.Millisecond, release)
	tries := 0
	err = RetryBusy(ctx, func() error {
		tries++
		_, err := db.Exec(`INSERT INTO t VALUES (2)`)
		return err
	})
	if err != nil || tries < 2 {
		t.Fatalf("RetryBusy: %v after %d tries", err, tries)
	}
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM t WHERE x = 2`).Scan(&n)
	if n != 1 {
		t.Errorf("the retried write is there %d times", n)
	}

	release = hold()
	defer release()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err = RetryBusy(short, func() error { _, err := db.Exec(`INSERT INTO t VALUES (3)`); return err })
	if !IsBusy(err) {
		t.Errorf("lock never released: %v, want the busy error", err)
	}
	if other := errors.New("no such table"); RetryBusy(ctx, func() error { return other }) != other {
		t.Error("an error other than busy was retried or changed")
	}
}
