package feeds_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
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

// BenchmarkIngestVsParse measures, round by round in turn, ingesting a
// new 1000-item feed (fetched over loopback HTTP, parsed, normalised,
// sanitised and stored in a SQLite file by the poller) and parsing and
// normalising the same document in memory (BenchmarkParseLargeFeed's
// work), and reports the ratio of their rates: 1 would mean fetching and
// storing cost nothing.
//
//	go test ./feeds -run '^$' -bench IngestVsParse -benchtime 20x
func BenchmarkIngestVsParse(b *testing.B) {
	const n = 1000
	in := feedstest.NewIngester(b)
	var ingest, parse time.Duration
	// The benchmark's clock runs throughout (the rates come from the two
	// durations): with it stopped, b.Loop would go on far past -benchtime.
	for i := 0; b.Loop(); i++ {
		doc := feedstest.LargeFeed(i, n)
		in.Serve(doc)
		runtime.GC() // each starts clean of the other's garbage
		start := time.Now()
		in.Fetch(b, n)
		ingest += time.Since(start)
		runtime.GC()
		start = time.Now()
		if items, err := feeds.ParseDocument(doc, "application/rss+xml", "https://haiphong.example.vn/rss", "vi", ""); err != nil || len(items) != n {
			b.Fatalf("%d items, %v", len(items), err)
		}
		parse += time.Since(start)
	}
	b.ReportMetric(float64(n*b.N)/ingest.Seconds(), "ingest-items/s")
	b.ReportMetric(float64(n*b.N)/parse.Seconds(), "parse-items/s")
	b.ReportMetric(parse.Seconds()/ingest.Seconds(), "ratio")
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
