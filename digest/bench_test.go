package digest_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/story"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/feeds/feedstest"
	"github.com/haiphong/hpdigest/store"
)

// BenchmarkIngestAndClassify is the whole ingestion path of a large feed —
// fetch over HTTP, parse, normalise, sanitise, store — plus classifying
// every new item with the shipped theme rules, as the daemon does. Compare
// with feeds' BenchmarkIngestLargeFeed (the same without classification):
//
//	go test -run '^$' -bench 'Ingest' -benchtime 10x ./feeds ./digest
func BenchmarkIngestAndClassify(b *testing.B) {
	c, err := theme.New(theme.Defaults())
	if err != nil {
		b.Fatal(err)
	}
	feedstest.BenchmarkIngest(b, 1000, func(it feeds.Item) { digest.Classify(c, it) })
}

// BenchmarkAssembleMonth measures draft assembly of a busy month: 5,000
// items in a 30-day window, from two portals in both languages (copies of
// the labelled stories with their own figures, links and dates), stored
// with their themes and story signals as the daemon stores them at
// ingestion. Each iteration assembles the draft afresh twice in the same
// run: without same-story detection (the baseline) and with it, and
// reports both and their ratio:
//
//	go test -run '^$' -bench AssembleMonth -benchtime 5x ./digest
func BenchmarkAssembleMonth(b *testing.B) {
	const n = 5000
	ctx := context.Background()
	db, err := store.Open(filepath.Join(b.TempDir(), "month.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := store.Migrate(ctx, db, feeds.Migrations(), digest.Migrations()); err != nil {
		b.Fatal(err)
	}
	fs := feeds.NewStore(db)
	docs := monthFeeds(b, n, time.Now())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(docs[r.URL.Path])
	}))
	defer srv.Close()
	if err := fs.SyncSources(ctx, []feeds.Source{
		{Name: "Cổng Hải Phòng", URL: srv.URL + "/vi0", Language: "vi"},
		{Name: "Báo Hải Phòng", URL: srv.URL + "/vi1", Language: "vi"},
		{Name: "VietnamPlus English", URL: srv.URL + "/en0", Language: "en"},
		{Name: "Viet Nam News", URL: srv.URL + "/en1", Language: "en"},
	}); err != nil {
		b.Fatal(err)
	}
	rep := feeds.NewPoller(feeds.Config{MaxBodyBytes: 256 << 20, Timeout: time.Minute}, fs, nil).FetchAll(ctx)
	c, err := theme.New(theme.Defaults())
	if err != nil {
		b.Fatal(err)
	}
	issues := digest.NewStore(db, fs)
	issues.SetStories(story.Default())
	stored := 0
	for _, f := range rep.Feeds {
		if f.Err != nil {
			b.Fatal(f.Err)
		}
		for _, it := range f.NewItems {
			if err := issues.SaveClassification(ctx, it.ID, digest.Classify(c, it)); err != nil {
				b.Fatal(err)
			}
			if err := issues.SaveSignals(ctx, it); err != nil {
				b.Fatal(err)
			}
			stored++
		}
	}
	if stored < n*9/10 {
		b.Fatalf("only %d of %d items stored", stored, n)
	}
	d := digest.Digest{Key: "monthly", Schedule: "0 8 1 * *", Window: 30 * 24 * time.Hour}
	d.Defaults("Asia/Ho_Chi_Minh", []string{"diaspora", "fdi", "china"})
	classify := func(it feeds.Item) digest.Classification { return digest.Classify(c, it) }
	assemble := func(det *story.Detector) (time.Duration, *digest.Issue) {
		if _, err := db.ExecContext(ctx, `DELETE FROM issues`); err != nil {
			b.Fatal(err)
		}
		issues.SetStories(det)
		start := time.Now()
		iss, _, err := issues.Assemble(ctx, d, classify)
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(start), iss
	}
	var without, with time.Duration
	var stories, versions int
	for b.Loop() {
		t, _ := assemble(nil)
		without += t
		t, iss := assemble(story.Default())
		with += t
		stories, versions = len(iss.Items), 0
		for _, it := range iss.Items {
			versions += len(it.Versions)
		}
	}
	ms := func(t time.Duration) float64 { return float64(t.Milliseconds()) / float64(b.N) }
	b.ReportMetric(ms(without), "ms-without-stories/op")
	b.ReportMetric(ms(with), "ms-with-stories/op")
	b.ReportMetric(float64(with)/float64(without), "ratio")
	b.ReportMetric(float64(stored), "items")
	b.ReportMetric(float64(stories), "stories")
	b.ReportMetric(float64(versions), "versions")
}

// monthFeeds builds the month's feeds, two per language (a feed is read
// up to 2,000 items at a time): copies of the labelled stories
// (testdata/stories). Copy k of a story has its figures shifted, a share of
// its names and words swapped for others of the same language (the same
// swap in every item of the copy, so its items still report one event),
// its own links, and dates spread over the last 30 days.
func monthFeeds(tb testing.TB, n int, now time.Time) map[string][]byte {
	var seeds []story.Labelled
	for _, name := range []string{"dev.jsonl", "heldout.jsonl"} {
		f, err := os.Open(filepath.Join("..", "testdata", "stories", name))
		if err != nil {
			tb.Fatal(err)
		}
		items, err := story.ReadLabelled(f)
		f.Close()
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, items...)
	}
	token := regexp.MustCompile(`\p{L}+|[0-9]+`)
	// Each language's words: [0] lower case, [1] capitalised.
	vocab := map[string]*[2][]string{"vi": {}, "en": {}}
	known := map[string]bool{}
	for _, s := range seeds {
		for _, w := range token.FindAllString(s.Title+" "+s.Summary, -1) {
			if known[s.Lang+w] || unicode.IsDigit(rune(w[0])) || vocab[s.Lang] == nil {
				continue
			}
			known[s.Lang+w] = true
			r, _ := utf8.DecodeRuneInString(w)
			caps := 0
			if unicode.IsUpper(r) {
				caps = 1
			}
			vocab[s.Lang][caps] = append(vocab[s.Lang][caps], w)
		}
	}
	vary := func(lang, text string, k int) string {
		if k == 0 {
			return text
		}
		return token.ReplaceAllStringFunc(text, func(w string) string {
			if unicode.IsDigit(rune(w[0])) {
				v, _ := strconv.Atoi(w)
				return strconv.Itoa(v + k*3)
			}
			h := fnv.New64a()
			fmt.Fprintf(h, "%s/%d", w, k)
			x := h.Sum64()
			r, _ := utf8.DecodeRuneInString(w)
			switch {
			case unicode.IsUpper(r) && x%2 == 0:
				return vocab[lang][1][(x>>8)%uint64(len(vocab[lang][1]))]
			case !unicode.IsUpper(r) && x%4 == 0:
				return vocab[lang][0][(x>>8)%uint64(len(vocab[lang][0]))]
			}
			return w
		})
	}
	var out = map[string]*strings.Builder{"/vi0": {}, "/vi1": {}, "/en0": {}, "/en1": {}}
	for _, b := range out {
		b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>month</title><link>https://portal.example/</link>`)
	}
	for i := 0; i < n; i++ {
		s, k := seeds[i%len(seeds)], i/len(seeds)
		b := out[fmt.Sprintf("/%s%d", s.Lang, k%2)]
		if b == nil {
			continue
		}
		day := (int(s.Published.Unix()/86400) + k*7) % 30
		published := now.Add(-time.Duration(day)*24*time.Hour - time.Duration(i%600)*time.Minute)
		link := s.URL
		if link == "" {
			link = "https://portal.example/" + s.ID
		}
		fmt.Fprintf(b, `<item><guid isPermaLink="false">%s-%d</guid><title>%s</title><link>%s?copy=%d</link><pubDate>%s</pubDate><description>%s</description></item>`,
			s.ID, k, html.EscapeString(vary(s.Lang, s.Title, k)), html.EscapeString(link), k, published.Format(time.RFC1123Z), html.EscapeString(vary(s.Lang, s.Summary, k)))
	}
	docs := map[string][]byte{}
	for path, b := range out {
		b.WriteString(`</channel></rss>`)
		docs[path] = []byte(b.String())
	}
	return docs
}
