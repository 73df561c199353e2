package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/internal/smtptest"
)

// A curator's move is written by -export-labels and read back by
// -eval-themes.
func TestExportLabelsReadsBackWithEvalThemes(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, feedServer(t).URL, smtptest.Start(t))
	cli(t, "-config", cfgPath, "-fetch-now") // some sample feeds are broken on purpose

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := cfg.Digest("")
	iss, _, err := a.Assemble(ctx, d)
	if err != nil || len(iss.Items) == 0 {
		t.Fatalf("assemble: %v, %d items", err, len(iss.Items))
	}
	it := iss.Items[0]
	if err := a.Digests.MoveItem(ctx, iss.ID, iss.Version, it.ItemID, "china"); err != nil {
		t.Fatal(err)
	}
	a.Close()

	out := filepath.Join(dir, "labels.jsonl")
	code, stdout, stderr := cli(t, "-config", cfgPath, "-export-labels", out)
	if code != 0 || !strings.Contains(stdout, "wrote 1 labelled items") {
		t.Fatalf("-export-labels: %d %s %s", code, stdout, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"labels":["china"]`) || !strings.Contains(string(data), it.Item.Title) {
		t.Errorf("export:\n%s", data)
	}
	code, stdout, stderr = cli(t, "-config", cfgPath, "-eval-themes", out)
	if code != 0 || !strings.Contains(stdout, "1 items") {
		t.Errorf("-eval-themes on the export: %d\n%s\n%s", code, stdout, stderr)
	}
}
