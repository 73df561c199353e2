package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/internal/clock"
)

// Half a year after an issue went out, retention deletes the items that
// are in no issue (a feed still carrying one does not bring it back),
// keeps those the issue holds, folds the issue's outbox into its counts,
// which read as before, and deletes reader events past their limit.
func TestRetentionOnARealDatabase(t *testing.T) {
	t0 := time.Date(2026, 3, 6, 8, 0, 0, 0, time.UTC)
	clk := clock.NewManual(t0)
	var fetches atomic.Int32
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := fetches.Add(1) // each answer differs: the feed is parsed every time
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		item := func(guid, title string, at time.Time) string {
			return fmt.Sprintf(`<item><title>%s</title><link>https://tin.example.org/%s</link><guid>%s</guid><pubDate>%s</pubDate><description>%s.</description></item>`,
				title, guid, guid, at.Format(time.RFC1123Z), title)
		}
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Tin</title><link>https://tin.example.org/</link>`+
			fmt.Sprintf("<description>lần %d</description>", n)+
			item("new-1", "Kiều bào Đức về quê đón Tết", t0.Add(-2*time.Hour))+
			item("new-2", "Khu công nghiệp VSIP thu hút thêm vốn FDI", t0.Add(-3*time.Hour))+
			item("old-1", "Lễ hội hoa phượng đỏ năm ngoái", t0.Add(-40*24*time.Hour))+ // outside the window: in no issue
			`</channel></rss>`)
	}))
	defer feed.Close()
	dir := t.TempDir()
	toml := fmt.Sprintf(`database = %q

[http]
base_url = "https://digest.haiphong.example.org"

[sender]
address = "digest@haiphong.example.org"

[[subscribers.keys]]
id = "k1"
secret = "0123456789abcdef0123456789abcdef-retention"

[[feeds]]
name = "Tin"
url = %q
language = "vi"
allow_private = true

[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"

[retention]
reader_events = "1440h"
`, filepath.Join(dir, "hp.db"), feed.URL)
	cfg, err := config.Parse("retention.toml", []byte(toml))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{Log: slog.New(slog.DiscardHandler), Clock: clk, DryRunDir: filepath.Join(dir, "outbox")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	var readers []int64
	for _, email := range []string{"an@example.jp", "binh@example.de", "chi@example.fr"} {
		if err := a.Subscribers.CLIAdd(ctx, io.Discard, email, "", "vi", ""); err != nil {
			t.Fatal(err)
		}
	}
	subs, err := a.Subscribers.ConfirmedAfter(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		readers = append(readers, s.ID)
	}
	d, _ := cfg.Digest("weekly")
	res, err := a.SendNow(ctx, d, true)
	if err != nil || res.Summary.Sent != 3 {
		t.Fatalf("send: %+v %v", res.Summary, err)
	}
	issue := res.Issue.ID
	if _, err := a.Engine.RecordOutcome(ctx, deliver.Delivery{IssueID: issue, SubscriberID: readers[1]},
		deliver.Outcome{Kind: deliver.OutcomeHardBounce, FoundBy: deliver.FoundByVERP, ReportID: "<dsn-1@mx>"}); err != nil {
		t.Fatal(err)
	}
	themesBefore, _ := a.Digests.ThemeCounts(ctx)
	totalsBefore, _ := a.Engine.IssueTotals(ctx, []int64{issue})
	outcomesBefore, _ := a.Engine.IssueOutcomes(ctx, []int64{issue})
	items := func() int {
		n := 0
		a.Feeds.EachItem(ctx, func(feeds.Item) error { n++; return nil })
		return n
	}
	if n := items(); n != 3 {
		t.Fatalf("%d items stored, want 3", n)
	}

	// A month on, nothing is old enough yet.
	clk.Advance(30 * 24 * time.Hour)
	rep, err := a.ApplyRetention(ctx)
	if err != nil || rep.Items != 0 || rep.Outbox.Issues != 0 || rep.ReaderEvents != 0 {
		t.Fatalf("after a month: %+v %v", rep, err)
	}

	clk.Advance(170 * 24 * time.Hour)
	rep, err = a.ApplyRetention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Items != 1 || rep.Outbox != (deliver.FoldReport{Issues: 1, Rows: 3, Events: 1}) || rep.ReaderEvents < 3 {
		t.Errorf("retention: %+v", rep)
	}
	if n := items(); n != 2 {
		t.Errorf("%d items left, want the 2 the issue holds", n)
	}
	themesAfter, _ := a.Digests.ThemeCounts(ctx)
	if themesAfter["other"] != themesBefore["other"]-1 || themesAfter["diaspora"] != themesBefore["diaspora"] {
		t.Errorf("item themes: %v, were %v (only the pruned item's should go)", themesAfter, themesBefore)
	}
	// The feed still carries the pruned item: it is not new again.
	if rep := a.FetchNow(ctx); len(rep.NewItems()) != 0 {
		t.Errorf("the pruned item came back as new: %+v", rep.NewItems())
	}
	totalsAfter, _ := a.Engine.IssueTotals(ctx, []int64{issue})
	outcomesAfter, _ := a.Engine.IssueOutcomes(ctx, []int64{issue})
	got := totalsAfter[issue]
	if got.Folded.IsZero() {
		t.Error("the issue's outbox was not folded")
	}
	got.Folded = time.Time{}
	if got != totalsBefore[issue] || outcomesAfter[issue] != outcomesBefore[issue] {
		t.Errorf("counts after the fold: %+v %+v, before %+v %+v", got, outcomesAfter[issue], totalsBefore[issue], outcomesBefore[issue])
	}
	if rows, _ := deliver.OutboxRows(ctx, a.DB); rows != 0 {
		t.Errorf("%d outbox rows left", rows)
	}
	for _, id := range readers {
		if ev, _ := a.Subscribers.Events(ctx, id); len(ev) != 0 {
			t.Errorf("reader %d keeps %d events older than reader_events", id, len(ev))
		}
		if _, err := a.Subscribers.Get(ctx, id); err != nil {
			t.Errorf("reader %d: %v", id, err)
		}
	}
}
