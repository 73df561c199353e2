package feeds

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/text/unicode/norm"

	"github.com/haiphong/hpdigest/internal/testneed"
)

// corpusDir holds real feeds from gofeed's and miniflux's test suites: they
// live beside the repository (read in place, never copied), so a clone on
// its own skips the tests that read them, except in CI.
const corpusDir = "../../shared/feeds/corpus"

func corpusFiles(t testing.TB) []string {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		testneed.Skip(t, "feed corpus not available at %s beside the repository: %v", corpusDir, err)
	}
	var files []string
	err := filepath.WalkDir(corpusDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".xml") || strings.HasSuffix(path, ".json")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading the feed corpus: %v", err)
	}
	return files
}

func checkText(t *testing.T, feed, field, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: %s is not valid UTF-8: %q", feed, field, s)
	} else if !norm.NFC.IsNormalString(s) {
		t.Errorf("%s: %s is not NFC: %q", feed, field, s)
	}
}

// Every corpus file goes through the whole ingestion path (HTTP, decoding,
// parsing, normalising, sanitising, SQLite): no panic, no hang, and either
// items with valid NFC text or an error naming the feed.
func TestCorpusIngestion(t *testing.T) {
	files := corpusFiles(t)
	if len(files) < 400 {
		t.Fatalf("found only %d corpus files under %s", len(files), corpusDir)
	}
	byPath := map[string]string{}
	var srcs []Source
	for _, f := range files {
		rel, _ := filepath.Rel(corpusDir, f)
		rel = filepath.ToSlash(rel)
		byPath["/"+rel] = f
		srcs = append(srcs, Source{Name: rel, URL: "", Language: "en", AllowPrivate: true})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := byPath[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasSuffix(f, ".json") {
			w.Header().Set("Content-Type", "application/feed+json")
		} else {
			w.Header().Set("Content-Type", "application/xml")
		}
		http.ServeFile(w, r, f)
	}))
	defer srv.Close()
	for i := range srcs {
		srcs[i].URL = srv.URL + "/" + srcs[i].Name
	}
	st := newTestStore(t)
	if err := st.SyncSources(context.Background(), srcs); err != nil {
		t.Fatal(err)
	}
	p := NewPoller(Config{Timeout: 20 * time.Second}, st, nil)
	rep := p.FetchAll(context.Background())
	if len(rep.Feeds) != len(srcs) {
		t.Fatalf("%d results for %d feeds", len(rep.Feeds), len(srcs))
	}
	var withItems, failed, items int
	for _, r := range rep.Feeds {
		if r.Err != nil {
			failed++
			if !strings.Contains(r.Err.Error(), r.Name) {
				t.Errorf("error %q does not name the feed %s", r.Err, r.Name)
			}
			t.Logf("%s: %v", r.Name, r.Err)
			continue
		}
		if len(r.NewItems) > 0 {
			withItems++
		}
		for _, it := range r.NewItems {
			if it.Title == "" {
				t.Errorf("%s: item without a title: %+v", r.Name, it)
			}
			items++
			for field, s := range map[string]string{"title": it.Title, "summary_html": it.SummaryHTML, "summary_text": it.SummaryText, "url": it.URL, "image": it.ImageURL, "guid": it.GUID} {
				checkText(t, r.Name, field, s)
			}
			if it.GUID == "" {
				t.Errorf("%s: item without identity", r.Name)
			}
			if it.Published().After(time.Now().Add(maxFutureSkew)) {
				t.Errorf("%s: item dated %v, more than a day ahead", r.Name, it.Published())
			}
			if strings.Contains(strings.ToLower(it.SummaryHTML), "<script") {
				t.Errorf("%s: script survived sanitising", r.Name)
			}
		}
	}
	t.Logf("%d feeds: %d with items (%d items), %d errors", len(rep.Feeds), withItems, items, failed)
	// Stored text must read back the same (valid, NFC) from SQLite.
	var stored int
	err := st.EachItem(context.Background(), func(it Item) error {
		stored++
		checkText(t, it.FeedName, "stored title", it.Title)
		checkText(t, it.FeedName, "stored summary", it.SummaryText)
		return nil
	})
	if err != nil || stored != items {
		t.Errorf("EachItem: %v, %d items read back, %d stored", err, stored, items)
	}
	if withItems < 90 {
		t.Errorf("only %d corpus feeds gave items; the parser path is broken", withItems)
	}

	// Known content from miniflux's encoding files: a title among the items
	// and a phrase of one item's summary, or, for a feed without items, the
	// channel title as decoded.
	want := []struct{ file, title, summaryHas, channelTitle string }{
		{file: "miniflux/encoding_utf8-incorrect-prolog.xml", title: "Café"},
		{file: "miniflux/encoding_invalid-prolog.xml", title: "Café"},
		{file: "miniflux/encoding_koi8r.xml", title: "Первая новость"},
		{file: "miniflux/xml_koi8r.xml", title: "Первая новость"},
		{file: "miniflux/parser_no_encoding_ISO-8859-1.xml", title: "Caroline Eliacheff : « Dolto reste authentiquement subversive »"},
		{file: "miniflux/parser_encoding_ISO-8859-1.xml", title: "Red Dead Redemption 2: Hinweise auf PC-Umsetzung in App von Rockstar Games",
			summaryHas: "Viele Spieler wünschen sich eine PC-Version von Red Dead Redemption 2"},
		{file: "miniflux/encoding_windows-1252-incorrect-prolog.xml", channelTitle: "Euro €"},
	}
	res := byName(rep)
	for _, w := range want {
		r, ok := res[w.file]
		if !ok {
			t.Errorf("%s: not in the corpus run", w.file)
			continue
		}
		if r.Err != nil {
			t.Errorf("%s: %v", w.file, r.Err)
			continue
		}
		if w.channelTitle != "" {
			if len(r.NewItems) != 0 {
				t.Errorf("%s: %d items, want none", w.file, len(r.NewItems))
			}
			if got := channelTitle(t, filepath.Join(corpusDir, w.file)); got != w.channelTitle {
				t.Errorf("%s: channel title %q, want %q", w.file, got, w.channelTitle)
			}
			continue
		}
		var titles []string
		var item *Item
		for i, it := range r.NewItems {
			titles = append(titles, it.Title)
			if it.Title == w.title {
				item = &r.NewItems[i]
			}
		}
		if item == nil {
			t.Errorf("%s: no item titled %q; got %q", w.file, w.title, titles)
			continue
		}
		if !strings.Contains(item.SummaryText, w.summaryHas) {
			t.Errorf("%s: %q: summary %q lacks %q", w.file, w.title, item.SummaryText, w.summaryHas)
		}
	}
}

// channelTitle decodes a feed file as the poller does and returns the title
// of its channel.
func channelTitle(t *testing.T, path string) string {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := toUTF8(body, "application/xml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := gofeed.NewParser().ParseString(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	return f.Title
}
