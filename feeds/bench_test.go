package feeds_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/feeds/feedstest"
)

// go test ./feeds -run '^$' -bench . -benchtime 3x
func BenchmarkIngestLargeFeed(b *testing.B) {
	feedstest.BenchmarkIngest(b, 1000, nil)
}

// BenchmarkParseLargeFeed is the baseline for BenchmarkIngestLargeFeed:
// decoding, parsing, normalising and sanitising the same 1000-item feed,
// without HTTP or SQLite.
func BenchmarkParseLargeFeed(b *testing.B) {
	doc := feedstest.LargeFeed(1, 1000)
	b.ReportAllocs()
	for b.Loop() {
		items, err := feeds.ParseDocument(doc, "application/rss+xml", "https://haiphong.example.vn/rss", "vi", "")
		if err != nil || len(items) != 1000 {
			b.Fatalf("%d items, %v", len(items), err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkPollRound: one FetchAll over 50 feeds. "304": every feed answers
// Not Modified to the stored ETag; "full": every feed has 20 new items.
func BenchmarkPollRound(b *testing.B) {
	for _, mode := range []string{"304", "full"} {
		b.Run(mode, func(b *testing.B) {
			const nFeeds, nItems = 50, 20
			var round atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rd := round.Load()
				etag := fmt.Sprintf(`"%d"`, rd)
				if r.Header.Get("If-None-Match") == etag {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("ETag", etag)
				w.Write(feedstest.LargeFeed(int(rd), nItems))
			}))
			defer srv.Close()
			st := feedstest.NewStore(b)
			var srcs []feeds.Source
			for i := 0; i < nFeeds; i++ {
				srcs = append(srcs, feeds.Source{Name: fmt.Sprint("f", i), URL: fmt.Sprintf("%s/f%d", srv.URL, i), Language: "vi", AllowPrivate: true})
			}
			ctx := context.Background()
			if err := st.SyncSources(ctx, srcs); err != nil {
				b.Fatal(err)
			}
			p := feeds.NewPoller(feeds.Config{Concurrency: 8, PerHost: 8, Timeout: time.Minute}, st, nil)
			if rep := p.FetchAll(ctx); len(rep.Failed()) > 0 {
				b.Fatal(rep.Failed()[0].Err)
			}
			b.ResetTimer()
			for b.Loop() {
				if mode == "full" {
					round.Add(1)
				}
				rep := p.FetchAll(ctx)
				for _, r := range rep.Feeds {
					if r.Err != nil || (mode == "304") != r.NotModified {
						b.Fatalf("%s: %+v", mode, r)
					}
				}
			}
			b.ReportMetric(float64(nFeeds*b.N)/b.Elapsed().Seconds(), "feeds/s")
		})
	}
}
