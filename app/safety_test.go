package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/config"
)

// A database other users may read (made by an older version, or copied
// with the wrong mode) is named at start-up with what to do; a private one
// is not.
func TestStartupWarnsWhenDatabaseReadableByOthers(t *testing.T) {
	cfg := config.Default()
	cfg.Database = filepath.Join(t.TempDir(), "hp.db")
	start := func() string {
		var logs bytes.Buffer
		a, err := New(context.Background(), cfg, Options{DryRunDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		return logs.String()
	}
	if out := start(); strings.Contains(out, "readable by others") {
		t.Errorf("a new database is reported readable by others:\n%s", out)
	}
	if st, _ := os.Stat(cfg.Database); st.Mode().Perm() != 0o600 {
		t.Errorf("new database: mode %o, want 600", st.Mode().Perm())
	}
	os.Chmod(cfg.Database, 0o644)
	if out := start(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "chmod 600") {
		t.Errorf("no warning for a database others may read:\n%s", out)
	}
}
