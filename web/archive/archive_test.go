package archive_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/digest/render"
	"github.com/haiphong/hpdigest/digest/render/browsercheck"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/templates"
	"github.com/haiphong/hpdigest/web/archive"
	"github.com/mmcdole/gofeed"
)

var ict = time.FixedZone("ICT", 7*3600)

// memStore is an in-memory digest store: issues 1..3 sent, 4 a draft.
type memStore struct {
	mu     sync.Mutex
	base   string
	issues map[int64]*render.Issue
	sentAt map[int64]time.Time
	fail   error
}

func (m *memStore) SentIssues(ctx context.Context) ([]archive.IssueSummary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	var out []archive.IssueSummary
	for id := int64(10); id > 0; id-- {
		iss, ok := m.issues[id]
		at, sent := m.sentAt[id]
		if !ok || !sent {
			continue
		}
		n := 0
		for _, s := range iss.Sections {
			n += len(s.Items)
		}
		out = append(out, archive.IssueSummary{ID: id, Number: iss.Number, Date: iss.Date, SentAt: at, Items: n})
	}
	return out, nil
}

func (m *memStore) RenderIssue(ctx context.Context, id int64) (*render.Issue, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	iss, ok := m.issues[id]
	if !ok {
		return nil, fmt.Errorf("issue %d: %w", id, archive.ErrNotFound)
	}
	cp := *iss
	return &cp, nil
}

var (
	diaspora = theme.Theme{Key: "diaspora", NameVI: "Kiều bào", NameEN: "Overseas Vietnamese"}
	fdi      = theme.Theme{Key: "fdi", NameVI: "Đầu tư nước ngoài", NameEN: "Foreign investment"}
)

func newStore(base string, imgBase string) *memStore {
	m := &memStore{base: base, issues: map[int64]*render.Issue{}, sentAt: map[int64]time.Time{}}
	for id := int64(1); id <= 4; id++ {
		date := time.Date(2026, 11, 6, 8, 0, 0, 0, ict).AddDate(0, 0, 7*int(id-1))
		iss := &render.Issue{
			ID: id, Number: int(id), DigestKey: "weekly", Date: date, Location: ict,
			Title:  render.Localized{VI: "Bản tin Hải Phòng", EN: "Hai Phong Digest"},
			Note:   render.Localized{VI: fmt.Sprintf("Ghi chú số %d.", id), EN: fmt.Sprintf("Note for issue %d.", id)},
			WebURL: archive.IssueURL(base, id),
			Sender: render.Sender{Name: "Sở Ngoại vụ Hải Phòng", PostalAddress: "18 Hoàng Diệu, Hải Phòng"},
			Sections: []render.Section{
				{Theme: diaspora, Items: []render.Item{{
					Title: render.Localized{Default: fmt.Sprintf("Kiều bào về quê dự lễ hội, số %d", id), EN: fmt.Sprintf("Overseas Vietnamese return for the festival, issue %d", id)},
					URL:   fmt.Sprintf("https://haiphong.gov.vn/a-%d.html", id), Source: "Cổng thông tin Hải Phòng", Language: "vi",
					Published: date.Add(-24 * time.Hour), ImageURL: imgBase + "/img/1.png",
				}}},
				{Theme: fdi, Items: []render.Item{{
					Title: render.Localized{Default: fmt.Sprintf("New FDI project <%d> & more", id)},
					URL:   fmt.Sprintf("https://en.vietnamplus.vn/fdi-%d.vnp", id), Source: "VietnamPlus", Language: "en",
					Published: date.Add(-48 * time.Hour),
				}}},
			},
		}
		m.issues[id] = iss
		if id <= 3 { // issue 4 is a draft
			m.sentAt[id] = date.Add(30 * time.Minute)
		}
	}
	return m
}

type env struct {
	srv   *httptest.Server
	store *memStore
}

func setup(t *testing.T) env {
	t.Helper()
	r, err := render.New(templates.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("GET /img/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(browsercheck.Photo())
	})
	store := newStore(srv.URL, srv.URL)
	h, err := archive.New(store, r, srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	h.Location = ict
	h.SubscribeURL = srv.URL + "/subscribe"
	h.Register(mux)
	return env{srv: srv, store: store}
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

func TestIssuePageLanguage(t *testing.T) {
	e := setup(t)
	for _, tc := range []struct {
		query, accept, want string
	}{
		{"", "", "vi"},
		{"", "en-US,en;q=0.9", "en"},
		{"", "fr-FR,fr;q=0.9,vi;q=0.5", "vi"},
		{"", "de", "vi"},
		{"?lang=en", "vi", "en"},
		{"?lang=vi", "en", "vi"},
		{"?lang=xx", "en-GB", "en"},
	} {
		res, body := get(t, e.srv.URL+"/issues/2"+tc.query, "Accept-Language", tc.accept)
		if res.StatusCode != 200 {
			t.Fatalf("%s %q: status %d", tc.query, tc.accept, res.StatusCode)
		}
		if !strings.Contains(body, `<html lang="`+tc.want+`">`) || res.Header.Get("Content-Language") != tc.want {
			t.Errorf("query %q, Accept-Language %q: page not in %s", tc.query, tc.accept, tc.want)
		}
		if tc.query == "" && res.Header.Get("Vary") != "Accept-Language" {
			t.Errorf("negotiated page without Vary: Accept-Language")
		}
	}
	_, body := get(t, e.srv.URL+"/issues/2?lang=en")
	for _, want := range []string{
		"Overseas Vietnamese return for the festival, issue 2",
		"New FDI project &lt;2&gt; &amp; more", // escaped
		"Friday, 13 November 2026",
		`href="` + e.srv.URL + `/issues?lang=en"`,   // back to the archive
		`href="` + e.srv.URL + `/issues/2?lang=vi"`, // other language
		`href="` + e.srv.URL + `/subscribe"`,        // subscribe
		"You are reading the web version",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("web page lacks %q", want)
		}
	}
	// The web version has no per-reader parts and no leftover placeholders.
	if regexp.MustCompile(`hpd[0-9a-f]{24}`).MatchString(body) || strings.Contains(body, "unsubscribe") {
		t.Error("web page carries per-reader parts")
	}
}

func TestOnlySentIssuesAreServed(t *testing.T) {
	e := setup(t)
	for _, path := range []string{"/issues/4", "/issues/99", "/issues/abc", "/issues/-1", "/issues/0"} {
		res, _ := get(t, e.srv.URL+path)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, res.StatusCode)
		}
	}
	res, body := get(t, e.srv.URL+"/issues?lang=vi")
	if res.StatusCode != 200 || strings.Contains(body, "Số 4 ") {
		t.Errorf("archive lists the draft or fails: %d", res.StatusCode)
	}
	// A failing store is a 500 with a message, not a crash or an empty page.
	e.store.mu.Lock()
	e.store.fail = fmt.Errorf("database is locked")
	e.store.mu.Unlock()
	res, body = get(t, e.srv.URL+"/issues")
	if res.StatusCode != 500 || strings.Contains(body, "database is locked") {
		t.Errorf("store failure: status %d, body %q", res.StatusCode, body)
	}
}

func TestArchivePageLinksWork(t *testing.T) {
	e := setup(t)
	res, body := get(t, e.srv.URL+"/issues", "Accept-Language", "vi")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	links := regexp.MustCompile(`<a class="issue" href="([^"]+)">([^<]+)</a>`).FindAllStringSubmatch(body, -1)
	if len(links) != 3 {
		t.Fatalf("archive lists %d issues, want the 3 sent ones:\n%s", len(links), body)
	}
	wantLabels := []string{"Số 3 – Thứ Sáu, 20/11/2026", "Số 2 – Thứ Sáu, 13/11/2026", "Số 1 – Thứ Sáu, 06/11/2026"}
	for i, l := range links {
		if l[2] != wantLabels[i] {
			t.Errorf("entry %d = %q, want %q (newest first)", i, l[2], wantLabels[i])
		}
		href := strings.ReplaceAll(l[1], "&amp;", "&")
		res, page := get(t, href)
		if res.StatusCode != 200 || !strings.Contains(page, `<html lang="vi">`) {
			t.Errorf("link %s: status %d", href, res.StatusCode)
		}
	}
	if !strings.Contains(body, `type="application/atom+xml"`) {
		t.Error("archive page does not advertise the feed")
	}
	_, empty := get(t, e.srv.URL+"/issues/?lang=en")
	if !strings.Contains(empty, "Past issues – Hai Phong Digest") {
		t.Error("/issues/ does not serve the archive")
	}
}

func TestAtomFeed(t *testing.T) {
	e := setup(t)
	for _, l := range []string{"vi", "en"} {
		res, body := get(t, e.srv.URL+"/issues/feed.atom?lang="+l)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/atom+xml") {
			t.Fatalf("feed: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		feed, err := gofeed.NewParser().ParseString(body)
		if err != nil {
			t.Fatalf("feed does not parse: %v\n%s", err, body)
		}
		if feed.FeedType != "atom" || len(feed.Items) != 3 {
			t.Fatalf("%s: type %s with %d entries, want atom with 3", l, feed.FeedType, len(feed.Items))
		}
		first := feed.Items[0]
		if want := archive.IssueURL(e.srv.URL, 3) + "?lang=" + l; first.Link != want {
			t.Errorf("first entry links to %q, want %q", first.Link, want)
		}
		if first.UpdatedParsed == nil || !first.UpdatedParsed.Equal(time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)) {
			t.Errorf("first entry updated %v", first.UpdatedParsed)
		}
		wantTitle := map[string]string{"vi": "Số 3 – Thứ Sáu, 20/11/2026", "en": "Issue 3 – Friday, 20 November 2026"}[l]
		if first.Title != wantTitle {
			t.Errorf("entry title %q, want %q", first.Title, wantTitle)
		}
		if !strings.Contains(first.Content, `href="https://haiphong.gov.vn/a-3.html"`) || !strings.Contains(first.Content, "&lt;3&gt;") {
			t.Errorf("entry content lacks linked, escaped titles: %s", first.Content)
		}
		if feed.Language != l {
			t.Errorf("feed language %q", feed.Language)
		}
	}
}

func TestNewRejectsBadBaseURL(t *testing.T) {
	r, err := render.New(templates.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "digest.example.org", "ftp://x", "/issues"} {
		if _, err := archive.New(&memStore{}, r, bad); err == nil {
			t.Errorf("base URL %q accepted", bad)
		}
	}
}

// TestBrowser loads the archive and an issue page in chromium: no
// horizontal overflow at phone widths, readable contrast, screenshots.
func TestBrowser(t *testing.T) {
	ctx := browsercheck.Start(t)
	dir := browsercheck.ScreenshotDir(t)
	e := setup(t)
	browsercheck.Check(t, ctx, e.srv.URL+"/issues?lang=vi", dir, "archive-vi", []int64{320, 375, 1024})
	browsercheck.Check(t, ctx, e.srv.URL+"/issues/3?lang=en", dir, "web-issue-en", []int64{320, 375, 1024})
}
