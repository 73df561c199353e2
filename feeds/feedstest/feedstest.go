// Package feedstest holds benchmark and test helpers for the feeds package
// that other packages can reuse: a generator of large Vietnamese feeds and
// the ingestion benchmark, which accepts a classify callback so the digest
// side can measure parse + normalise + sanitise + classify + store.
package feedstest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/store"
)

// LargeFeed returns an RSS document of n items whose GUIDs carry round, so
// each round's items are new. Items look like a portal's: Vietnamese text,
// HTML descriptions with images, a tracking pixel, a script, utm links.
func LargeFeed(round, n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Cổng thông tin Hải Phòng</title><link>https://haiphong.example.vn/</link>`)
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `<item><guid isPermaLink="false">r%d-i%d</guid>`+
			`<title>Hải Phòng thu hút %d dự án FDI &amp;#8211; kiều bào đóng góp xây dựng quê hương (%d)</title>`+
			`<link>https://haiphong.example.vn/tin-tuc/kinh-te/bai-%d-%d.html?utm_source=rss&amp;utm_medium=feed</link>`+
			`<pubDate>%s</pubDate>`+
			`<media:content url="/anh/%d.jpg" medium="image"/>`+
			`<description><![CDATA[<p>Sáng nay, UBND thành phố Hải Phòng đã tiếp đoàn doanh nghiệp Trung Quốc và Hàn Quốc tìm hiểu cơ hội đầu tư tại khu kinh tế Đình Vũ &ndash; Cát Hải.</p>`+
			`<p>Theo Sở Kế hoạch và Đầu tư, vốn FDI năm nay đạt mức cao<br>nhờ cảng Lạch Huyện và hạ tầng giao thông.</p>`+
			`<img src="/anh/%d-1.jpg" alt="Hội nghị"><img src="https://track.example/p.gif" width="1" height="1">`+
			`<script>track()</script><a href="/tin-tuc/lien-quan-%d.html" onclick="x()">Xem thêm</a>]]></description></item>`,
			round, i, i, round, round, i, base.Add(-time.Duration(i)*time.Minute).In(time.FixedZone("ICT", 7*3600)).Format("02/01/2006 15:04:05"), i, i, i)
	}
	b.WriteString(`</channel></rss>`)
	return []byte(b.String())
}

// NewStore opens a migrated SQLite file in a temporary directory.
func NewStore(tb testing.TB) *feeds.Store {
	tb.Helper()
	db, err := store.Open(filepath.Join(tb.TempDir(), "bench.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := store.Migrate(context.Background(), db, feeds.Migrations()); err != nil {
		tb.Fatal(err)
	}
	return feeds.NewStore(db)
}

// Ingester fetches one feed over loopback HTTP and stores its items in a
// real SQLite file, with the poller the daemon uses.
type Ingester struct {
	srv  *httptest.Server
	body atomic.Pointer[[]byte]
	p    *feeds.Poller
}

// NewIngester starts the feed's server; both stop when the test ends.
func NewIngester(tb testing.TB) *Ingester {
	tb.Helper()
	in := &Ingester{}
	st := NewStore(tb)
	in.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(*in.body.Load())
	}))
	tb.Cleanup(in.srv.Close)
	if err := st.SyncSources(context.Background(), []feeds.Source{{Name: "large", URL: in.srv.URL, Language: "vi", AllowPrivate: true}}); err != nil {
		tb.Fatal(err)
	}
	in.p = feeds.NewPoller(feeds.Config{MaxBodyBytes: 256 << 20, Timeout: time.Minute}, st, nil)
	return in
}

// Serve makes doc the feed's document.
func (in *Ingester) Serve(doc []byte) { in.body.Store(&doc) }

// Fetch fetches the feed once and returns its new items; it fails unless
// there are want of them.
func (in *Ingester) Fetch(tb testing.TB, want int) []feeds.Item {
	rep := in.p.FetchAll(context.Background())
	r := rep.Feeds[0]
	if r.Err != nil || len(r.NewItems) != want {
		tb.Fatalf("err %v, %d new items, want %d", r.Err, len(r.NewItems), want)
	}
	return r.NewItems
}

// BenchmarkIngest fetches (over loopback HTTP) and ingests a feed of n new
// items per iteration into a real SQLite file, calling classify (if not nil)
// on every new item, and reports items/s.
func BenchmarkIngest(b *testing.B, n int, classify func(feeds.Item)) {
	in := NewIngester(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		in.Serve(LargeFeed(i, n))
		b.StartTimer()
		for _, it := range in.Fetch(b, n) {
			if classify != nil {
				classify(it)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "items/s")
}
