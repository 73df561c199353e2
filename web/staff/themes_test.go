package staff

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/feeds"
)

// A curator excludes, moves and re-includes items on the curation page;
// the export is the labelled set testdata/staff/labels.jsonl.
func TestCurationDecisionsExportAsLabels(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	csrf := c.login(aliceEmail, password)
	act := func(title, action string, form url.Values) {
		t.Helper()
		iss := e.issue()
		if r := c.edit(csrf, iss.Version, itemPath(iss, findItem(t, iss, title), action), form); r.status != http.StatusSeeOther {
			t.Fatalf("%s %q: %d\n%s", action, title, r.status, r.body)
		}
	}
	act("Hội nghị kiều bào", "include", url.Values{"included": {"0"}})
	act("Hợp tác giữa Hải Phòng", "move", url.Values{"theme": {"fdi"}})
	act("Doanh nghiệp FDI", "include", url.Values{"included": {"0"}})
	act("Doanh nghiệp FDI", "include", url.Values{"included": {"1"}}) // changed their mind
	act("Trao học bổng", "move", url.Values{"theme": {"other"}})

	var got bytes.Buffer
	items, err := e.a.Digests.LabelledItems(context.Background(), e.a.Cfg().ThemeKeys())
	if err != nil {
		t.Fatal(err)
	}
	if err := digest.WriteLabelled(&got, items); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "staff", "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("exported labels:\n%s\nwant (testdata/staff/labels.jsonl):\n%s", got.String(), want)
	}
	// The file is what -eval-themes reads.
	if _, err := theme.Evaluate(e.a.Classifier, &got); err != nil {
		t.Errorf("-eval-themes cannot read the export: %v", err)
	}
}

// investorsFeed serves testdata/staff/investors.rss; late() adds one more
// story to it.
func investorsFeed(t *testing.T) (srv *httptest.Server, late func(title string)) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "staff", "investors.rss"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var extra atomic.Value
	extra.Store("")
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var dates []any
		for _, h := range []int{3, 6, 8, 10} {
			dates = append(dates, now.Add(-time.Duration(h)*time.Hour).Format(time.RFC1123Z))
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		io.WriteString(w, fmt.Sprintf(string(raw), append(dates, extra.Load())...))
	}))
	t.Cleanup(srv.Close)
	return srv, func(title string) {
		extra.Store(fmt.Sprintf(`<item><title>%s</title><link>https://baohaiphong.example.vn/kinh-te/late</link><guid>late</guid><pubDate>%s</pubDate></item>`,
			title, time.Now().Add(-time.Minute).Format(time.RFC1123Z)))
	}
}

// The rules miss three LG Display stories; a curator moves them to fdi.
// The themes page proposes "LG Display" with the F1 it brings; once added
// (to the rules file, not the config), the next LG Display story fetched is
// sorted into fdi.
func TestAcceptedPhraseSortsNewItems(t *testing.T) {
	feed, late := investorsFeed(t)
	e := newEnv(t, envOpts{extraConfig: fmt.Sprintf("\n[[feeds]]\nname = \"Báo Hải Phòng\"\nurl = %q\nlanguage = \"vi\"\nallow_private = true\n", feed.URL)})
	c := e.client()
	csrf := c.login(aliceEmail, password)
	if r := c.get("/staff/themes"); r.status != 200 || !strings.Contains(r.body, tr("vi", "themes.none")) {
		t.Fatalf("themes page before any decision: %d\n%s", r.status, r.body)
	}
	for _, title := range []string{"LG Display mở rộng", "LG Display tuyển", "dây chuyền OLED"} {
		iss := e.issue()
		it := findItem(t, iss, title)
		if it.Theme != "other" {
			t.Fatalf("%q is in %s; the test needs the rules to miss it", title, it.Theme)
		}
		if r := c.edit(csrf, iss.Version, itemPath(iss, it, "move"), url.Values{"theme": {"fdi"}}); r.status != http.StatusSeeOther {
			t.Fatalf("move: %d", r.status)
		}
	}
	page := c.get("/staff/themes")
	suggestion := tr("vi", "themes.suggest", "LG Display", 3, "Đầu tư nước ngoài")
	gain := tr("vi", "themes.gain", "Đầu tư nước ngoài", "0.00", "1.00")
	if !strings.Contains(page.body, suggestion) || !strings.Contains(page.body, gain) {
		t.Fatalf("themes page lacks %q with %q:\n%s", suggestion, gain, page.body)
	}

	const story = "LG Display công bố kế hoạch sản xuất năm 2027"
	if got := digest.Classify(e.a.Classifier, feeds.Item{Title: story}); got.Primary != "other" {
		t.Fatalf("before: the story is %s already", got.Primary)
	}
	r := c.post("/staff/themes/phrases", url.Values{"csrf": {csrf}, "theme": {"fdi"}, "phrase": {"LG Display"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("add phrase: %d\n%s", r.status, r.body)
	}
	if page := c.get(r.location); !strings.Contains(page.body, tr("vi", "themes.added", "LG Display", "Đầu tư nước ngoài")) {
		t.Errorf("no confirmation after adding:\n%s", page.body)
	}
	rules, err := os.ReadFile(e.a.Cfg().ThemesRulesFile)
	if err != nil || !strings.Contains(string(rules), `text = "LG Display"`) || !strings.Contains(string(rules), aliceEmail) {
		t.Fatalf("rules file %s: %v\n%s", e.a.Cfg().ThemesRulesFile, err, rules)
	}
	if len(e.a.Cfg().Themes[1].Phrases) != 2 {
		t.Errorf("the config's own fdi rules changed: %+v", e.a.Cfg().Themes[1].Phrases)
	}

	late(story)
	e.a.FetchNow(context.Background())
	var stored digest.Classification
	for _, it := range mustItems(t, e) {
		if it.Title == story {
			cs, err := e.a.Digests.Classifications(context.Background(), []int64{it.ID})
			if err != nil {
				t.Fatal(err)
			}
			stored = cs[it.ID]
		}
	}
	if stored.Primary != "fdi" {
		t.Errorf("the new story was sorted into %q, want fdi (%s)", stored.Primary, stored.Explanation)
	}
	// The suggestion is gone: the rules now agree with the staff.
	if page := c.get("/staff/themes"); strings.Contains(page.body, suggestion) {
		t.Error("the accepted phrase is still suggested")
	}
	// A bad phrase is refused and nothing is written.
	before, _ := os.ReadFile(e.a.Cfg().ThemesRulesFile)
	if r := c.post("/staff/themes/phrases", url.Values{"csrf": {csrf}, "theme": {"fdi"}, "phrase": {" ,;; "}}); r.status != http.StatusBadRequest {
		t.Errorf("a phrase without words: %d", r.status)
	}
	if r := c.post("/staff/themes/phrases", url.Values{"csrf": {csrf}, "theme": {"nope"}, "phrase": {"x"}}); r.status != http.StatusBadRequest {
		t.Errorf("an unknown theme: %d", r.status)
	}
	if after, _ := os.ReadFile(e.a.Cfg().ThemesRulesFile); !bytes.Equal(before, after) {
		t.Error("a refused phrase changed the rules file")
	}
}

func mustItems(t *testing.T, e *env) []feeds.Item {
	t.Helper()
	var out []feeds.Item
	if err := e.a.Feeds.EachItem(context.Background(), func(it feeds.Item) error { out = append(out, it); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}
