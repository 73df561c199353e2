package staff

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/internal/smtptest"
)

// BenchmarkAddByURLLookup measures finding an article by its address among
// 10,000 stored items (feeds.Store.ItemByURL over the story-key index, as
// "add by URL" does); the baseline is the lookup of one item by id.
//
//	go test ./web/staff -run '^$' -bench AddByURL -benchtime 20x
func BenchmarkAddByURLLookup(b *testing.B) {
	const feedsN, perFeed = 5, 2000
	mux := http.NewServeMux()
	old := time.Now().Add(-60 * 24 * time.Hour).Format(time.RFC1123Z)
	for f := 0; f < feedsN; f++ {
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>big</title><link>https://big.example.vn/</link>`)
		for i := 0; i < perFeed; i++ {
			fmt.Fprintf(&sb, `<item><title>Tin số %d-%d về Hải Phòng</title><link>https://big%d.example.vn/tin/%d</link><guid>g-%d-%d</guid><pubDate>%s</pubDate><description>Nội dung %d</description></item>`, f, i, f, i, f, i, old, i)
		}
		sb.WriteString(`</channel></rss>`)
		body := sb.String()
		mux.HandleFunc(fmt.Sprintf("/big%d.rss", f), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
			io.WriteString(w, body)
		})
	}
	portal := feedServer(b)
	big := httptest.NewServer(mux)
	b.Cleanup(big.Close)
	var extra strings.Builder
	for f := 0; f < feedsN; f++ {
		fmt.Fprintf(&extra, "\n[[feeds]]\nname = \"Big %d\"\nurl = \"%s/big%d.rss\"\nlanguage = \"vi\"\nallow_private = true\n", f, big.URL, f)
	}
	a, h := benchStaff(b, portal.URL, extra.String())
	ctx := context.Background()
	// The newest item is the last one a scan (oldest first) reaches.
	target := fmt.Sprintf("https://big%d.example.vn/tin/%d", feedsN-1, perFeed-1)
	it, err := h.findItem(ctx, target)
	if err != nil || it.ID == 0 {
		b.Fatalf("item %s not found (%v); are all %d items stored?", target, err, feedsN*perFeed)
	}
	b.Run("by_url", func(b *testing.B) {
		for b.Loop() {
			if got, _ := h.findItem(ctx, target); got.ID != it.ID {
				b.Fatal("lost the item")
			}
		}
	})
	b.Run("baseline_by_id", func(b *testing.B) {
		for b.Loop() {
			if got, _ := a.Feeds.ItemsByID(ctx, []int64{it.ID}); got[it.ID].ID != it.ID {
				b.Fatal("lost the item")
			}
		}
	})
}

// benchStaff is the staff area of a daemon over a real SQLite file, its
// feeds (feedBase, plus the [[feeds]] of extra) fetched once.
func benchStaff(b *testing.B, feedBase, extra string) (*app.App, *Handler) {
	b.Helper()
	cfg := testConfig(b, b.TempDir(), feedBase, "http://127.0.0.1", smtptest.Start(b), false, extra)
	ctx := context.Background()
	a, err := app.New(ctx, cfg, app.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	a.FetchNow(ctx)
	h, err := New(ctx, a, Config{})
	if err != nil {
		b.Fatal(err)
	}
	return a, h
}
