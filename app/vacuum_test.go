package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
)

// -vacuum gives freed space back to the file system, and refuses while a
// send is unfinished.
func TestVacuumShrinksTheFileAndWaitsForSends(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse("v.toml", []byte(`database = "`+filepath.Join(dir, "hp.db")+`"
[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"
`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{Log: slog.New(slog.DiscardHandler), ThrowawayLinkKey: true})
	if err != nil {
		t.Fatal(err)
	}
	// Space used, then freed (as retention frees it).
	blob := strings.Repeat("x", 4000)
	for i := range 2000 {
		if _, err := a.DB.Exec(`INSERT INTO settings (key, value) VALUES (?, ?)`, fmt.Sprintf("filler-%d", i), blob); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.DB.Exec(`DELETE FROM settings WHERE key LIKE 'filler-%'; PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.Exec(`INSERT INTO delivery_jobs (issue_id, created_at) VALUES (7, 1)`); err != nil {
		t.Fatal(err)
	}
	a.Close()
	size := func() int64 {
		st, err := os.Stat(cfg.Database)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	before := size()
	var out bytes.Buffer
	if err := app.Vacuum(context.Background(), cfg, &out); !errors.Is(err, app.ErrSending) || !strings.Contains(err.Error(), "[7]") {
		t.Fatalf("vacuum during a send: %v", err)
	}
	if size() != before {
		t.Fatal("the refused vacuum changed the file")
	}
	// The send finishes.
	a, err = app.New(context.Background(), cfg, app.Options{Log: slog.New(slog.DiscardHandler), ThrowawayLinkKey: true})
	if err != nil {
		t.Fatal(err)
	}
	a.DB.Exec(`UPDATE delivery_jobs SET finished_at = 2`)
	a.Close()
	out.Reset()
	if err := app.Vacuum(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	if after := size(); after*2 > before {
		t.Errorf("vacuum left %d bytes of %d", after, before)
	}
	if !strings.Contains(out.String(), "free") || !strings.Contains(out.String(), "vacuumed in") {
		t.Errorf("output: %s", out.String())
	}
}
