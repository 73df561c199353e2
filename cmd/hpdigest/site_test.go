package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/internal/smtptest"
	"github.com/haiphong/hpdigest/web/archive"
)

// "View in browser" works from the moment an issue starts going out, and
// drafts never show on the web.
func TestArchiveShowsIssuesOnceTheyGoOut(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Load(writeConfig(t, t.TempDir(), feedServer(t).URL, smtptest.Start(t)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, app.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.FetchNow(ctx)
	iss, _, err := a.Assemble(ctx, cfg.Digests[0])
	if err != nil {
		t.Fatal(err)
	}
	src := archiveSource{a}
	if _, err := src.RenderIssue(ctx, iss.ID); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("a draft on the web: err = %v", err)
	}
	if list, _ := src.SentIssues(ctx); len(list) != 0 {
		t.Fatalf("archive lists a draft: %+v", list)
	}
	if err := a.Digests.MarkSending(ctx, iss.ID); err != nil {
		t.Fatal(err)
	}
	r, err := src.RenderIssue(ctx, iss.ID)
	if err != nil || len(r.Sections) == 0 {
		t.Fatalf("issue being sent: %v, %d sections", err, len(r.Sections))
	}
	list, _ := src.SentIssues(ctx)
	if len(list) != 1 || list[0].Items != len(iss.Included()) {
		t.Fatalf("archive list %+v, want the issue with %d items", list, len(iss.Included()))
	}
}
