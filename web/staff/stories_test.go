package staff

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/digest"
)

// storyFeeds serves a Vietnamese and an English portal: a story in both
// languages (LG Display), a story whose two versions the rules only
// suggest pairing (Kitakyushu), and a story only in Vietnamese.
func storyFeeds(t testing.TB) *httptest.Server {
	t.Helper()
	now := time.Now()
	ago := func(h int) string { return now.Add(-time.Duration(h) * time.Hour).Format(time.RFC1123Z) }
	feed := func(name string, dates ...any) string {
		raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "staff", name))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf(string(raw), dates...)
	}
	vi, en := feed("stories-vi.rss", ago(3), ago(6), ago(8)), feed("stories-en.rss", ago(2), ago(5))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		switch r.URL.Path {
		case "/vi.rss":
			io.WriteString(w, vi)
		case "/en.rss":
			io.WriteString(w, en)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// newStoryEnv is the staff area over a draft with the story feeds too;
// mode is the digest's other_language ("" for the default).
func newStoryEnv(t *testing.T, mode string, requireApproval bool) *env {
	t.Helper()
	srv := storyFeeds(t)
	extra := ""
	if mode != "" {
		extra = fmt.Sprintf("other_language = %q\n", mode)
	}
	extra += fmt.Sprintf(`
[[feeds]]
name = "Báo Hải Phòng"
url = "%[1]s/vi.rss"
language = "vi"
allow_private = true

[[feeds]]
name = "VietnamPlus English"
url = "%[1]s/en.rss"
language = "en"
allow_private = true
`, srv.URL)
	return newEnv(t, envOpts{extraConfig: extra, requireApproval: requireApproval})
}

// story returns the draft's story with an item (its lead or a version)
// whose title contains s.
func story(t *testing.T, iss *digest.Issue, s string) digest.IssueItem {
	t.Helper()
	for _, it := range iss.Items {
		if strings.Contains(it.Item.Title, s) {
			return it
		}
		for _, v := range it.Versions {
			if strings.Contains(v.Item.Title, s) {
				return it
			}
		}
	}
	t.Fatalf("no story %q in issue %d", s, iss.ID)
	return digest.IssueItem{}
}

var flashRe = regexp.MustCompile(`(?s)class="flash"[^>]*>(.*?)</`)

// The curation page shows a story with its versions and sources, the
// pairing the rules suggest with its explanation and confidence, and each
// edition's coverage; staff merge, confirm, split and translate in one
// click each, and their decisions hold when the draft is assembled again.
func TestStoriesOnTheCurationPage(t *testing.T) {
	e := newStoryEnv(t, "", true)
	c := e.client()
	csrf := c.login(aliceEmail, password)
	iss := e.issue()
	lgd := story(t, iss, "LG Display")
	if len(lgd.Versions) != 1 || lgd.Versions[0].Item.Language != "en" {
		t.Fatalf("LG Display: %+v: want the English edition as a version", lgd)
	}
	page := c.get(fmt.Sprintf("/staff/issues/%d", iss.ID))
	if page.status != 200 {
		t.Fatalf("curation page: %d", page.status)
	}
	body := page.body
	for _, want := range []string{
		fmt.Sprintf(`id="version-%d"`, lgd.Versions[0].ItemID),
		"LG Display pours additional 1.4 billion USD of FDI into Hai Phong plant",
		tr("vi", "ver.sources", "Báo Hải Phòng, VietnamPlus English"),
		tr("vi", "pair.title"),
		"Kitakyushu",
		tr("vi", "act.merge"),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("curation page lacks %q", want)
		}
	}
	// The suggestion explains itself, with a confidence.
	conf := regexp.MustCompile(`Độ tin cậy (\d+)%</span> <span class="explain">([^<]*Kitakyushu[^<]*)</span>`).FindStringSubmatch(body)
	if conf == nil || !strings.Contains(conf[2], "score") {
		t.Fatalf("no Kitakyushu pairing with a confidence and an explanation on the page")
	}
	// Coverage: every story has a Vietnamese version or is Vietnamese; the
	// English edition lacks all but LG Display.
	before := digest.CoverageOf(iss, "en", digest.OtherLanguageBadge)
	if line := tr("vi", "cov.edition_en", before.InLanguage(), before.Stories); !strings.Contains(body, line) {
		t.Errorf("no coverage line %q", line)
	}
	if w := tr("vi", "warn.coverage_en", before.Missing); !strings.Contains(body, w) {
		t.Errorf("no approval warning %q before approving", w)
	}

	// Merge the Kitakyushu pair.
	kv, ke := story(t, iss, "Kỷ niệm quan hệ"), story(t, iss, "Kitakyushu celebrate")
	if kv.ItemID == ke.ItemID {
		t.Fatal("the rules joined the Kitakyushu pair: the test needs a suggestion")
	}
	r := c.edit(csrf, iss.Version, fmt.Sprintf("/staff/issues/%d/merge", iss.ID), url.Values{"a": {fmt.Sprint(kv.ItemID)}, "b": {fmt.Sprint(ke.ItemID)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("merge: %d %s", r.status, errorIn(r.body))
	}
	iss = e.issue()
	if k := story(t, iss, "Kitakyushu"); len(k.Versions) != 1 || k.ItemID != kv.ItemID {
		t.Fatalf("after merging: %+v", k)
	}
	after := digest.CoverageOf(iss, "en", digest.OtherLanguageBadge)
	if after.Native != before.Native || after.Stories != before.Stories-1 {
		t.Errorf("coverage after merging: %+v, before %+v: want one story fewer, in English as before (its English version)", after, before)
	}
	if after.Native != 2 {
		t.Errorf("English edition: %+v: want LG Display and Kitakyushu in English", after)
	}

	// Confirm the LG Display pairing; translate the Vietnamese-only story.
	if r := c.edit(csrf, iss.Version, fmt.Sprintf("/staff/issues/%d/items/%d/confirm", iss.ID, lgd.Versions[0].ItemID), nil); r.status != http.StatusSeeOther {
		t.Fatalf("confirm: %d %s", r.status, errorIn(r.body))
	}
	iss = e.issue()
	tet := story(t, iss, "Tết cộng đồng")
	r = c.edit(csrf, iss.Version, fmt.Sprintf("/staff/issues/%d/items/%d/translate", iss.ID, tet.ItemID), url.Values{
		"lang": {"en"}, "title": {"Vietnamese in Poland celebrate Tet together"}, "summary": {"More than 500 overseas Vietnamese in Warsaw made chung cakes."}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("translate: %d %s", r.status, errorIn(r.body))
	}
	iss = e.issue()
	if tet = story(t, iss, "Tết cộng đồng"); tet.TitleEN != "Vietnamese in Poland celebrate Tet together" || tet.TitleVI != "" {
		t.Errorf("after translating: %+v", tet)
	}
	if got := story(t, iss, "LG Display").Versions[0].ConfirmedBy; got != aliceEmail {
		t.Errorf("LG Display pairing confirmed by %q", got)
	}
	// A stale form is refused, and what the editor typed is kept.
	r = c.edit(csrf, iss.Version-1, fmt.Sprintf("/staff/issues/%d/items/%d/translate", iss.ID, tet.ItemID), url.Values{
		"lang": {"en"}, "title": {"A title typed on a stale page"}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "A title typed on a stale page") {
		t.Errorf("stale translation: %d, typed title kept: %v", r.status, strings.Contains(r.body, "A title typed on a stale page"))
	}

	// Split the English LG Display edition out: it becomes a story of its
	// own, and stays one when the draft is assembled again.
	iss = e.issue()
	enID := story(t, iss, "LG Display").Versions[0].ItemID
	if r := c.edit(csrf, iss.Version, fmt.Sprintf("/staff/issues/%d/items/%d/split", iss.ID, enID), nil); r.status != http.StatusSeeOther {
		t.Fatalf("split: %d %s", r.status, errorIn(r.body))
	}
	if r := c.post("/staff/digests/weekly/assemble", url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther {
		t.Fatalf("assemble: %d", r.status)
	}
	iss = e.issue()
	if vi, en := story(t, iss, "tăng vốn FDI"), story(t, iss, "pours additional"); vi.ItemID == en.ItemID || en.ItemID != enID || len(vi.Versions) != 0 {
		t.Errorf("after split and reassembly: Vietnamese %d (%d versions), English %d", vi.ItemID, len(vi.Versions), en.ItemID)
	}
	if k := story(t, iss, "Kitakyushu"); len(k.Versions) != 1 {
		t.Errorf("the merge did not survive reassembly: %+v", k)
	}
	// Every decision is in the issue's log, in words.
	page = c.get(fmt.Sprintf("/staff/issues/%d", iss.ID))
	for _, k := range []string{"audit.merge_stories", "audit.confirm_story", "audit.translate", "audit.split_story"} {
		if !strings.Contains(page.body, tr("vi", k)) {
			t.Errorf("the log lacks %q", tr("vi", k))
		}
	}
}

// Approving warns about editions with stories not in their language, and
// approves all the same; a draft with every story in both languages has
// no warning.
func TestApprovalWarnsAboutMissingLanguages(t *testing.T) {
	e := newStoryEnv(t, digest.OtherLanguageTranslated, true)
	c := e.client()
	csrf := c.login(aliceEmail, password)
	iss := e.issue()
	cov := digest.CoverageOf(iss, "en", digest.OtherLanguageTranslated)
	if cov.Missing == 0 {
		t.Fatal("the draft has every story in English: nothing to warn about")
	}
	r := c.edit(csrf, iss.Version, fmt.Sprintf("/staff/issues/%d/approve", iss.ID), nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", r.status, errorIn(r.body))
	}
	if e.issue().Status != digest.StatusApproved {
		t.Fatal("the warning blocked the approval")
	}
	page := c.get(r.location)
	m := flashRe.FindStringSubmatch(page.body)
	if m == nil || !strings.Contains(m[1], tr("vi", "warn.coverage_en", cov.Missing)) || !strings.Contains(m[1], tr("vi", "warn.then_translated_only")) {
		t.Errorf("approval message %q: want the English edition's warning under translated_only", m)
	}
	// The keep-apart and merge forms need the session's CSRF token.
	if r := c.post(fmt.Sprintf("/staff/issues/%d/keep-apart", iss.ID), url.Values{"a": {"1"}, "b": {"2"}}); r.status != http.StatusForbidden {
		t.Errorf("keep apart without CSRF: %d", r.status)
	}
}

// Keeping two stories apart removes the suggestion and binds later
// assemblies; bad input is refused with a reason.
func TestKeepApart(t *testing.T) {
	e := newStoryEnv(t, "", false)
	c := e.client()
	csrf := c.login(aliceEmail, password)
	iss := e.issue()
	kv, ke := story(t, iss, "Kỷ niệm quan hệ"), story(t, iss, "Kitakyushu celebrate")
	path := fmt.Sprintf("/staff/issues/%d/keep-apart", iss.ID)
	if r := c.edit(csrf, iss.Version, path, url.Values{"a": {fmt.Sprint(kv.ItemID)}, "b": {"x"}}); r.status != http.StatusBadRequest {
		t.Errorf("keep apart with a bad item: %d", r.status)
	}
	if r := c.edit(csrf, iss.Version, path, url.Values{"a": {fmt.Sprint(kv.ItemID)}, "b": {"987654"}}); r.status != http.StatusNotFound {
		t.Errorf("keep apart with an item not in the issue: %d", r.status)
	}
	if r := c.edit(csrf, iss.Version, path, url.Values{"a": {fmt.Sprint(kv.ItemID)}, "b": {fmt.Sprint(ke.ItemID)}}); r.status != http.StatusSeeOther {
		t.Fatalf("keep apart: %d %s", r.status, errorIn(r.body))
	}
	page := c.get(fmt.Sprintf("/staff/issues/%d", iss.ID))
	if strings.Contains(page.body, fmt.Sprintf(`data-into="%d" data-from="%d"`, kv.ItemID, ke.ItemID)) ||
		strings.Contains(page.body, fmt.Sprintf(`data-into="%d" data-from="%d"`, ke.ItemID, kv.ItemID)) {
		t.Error("the pairing is still suggested after keeping the stories apart")
	}
	sugg, err := e.a.Digests.Suggestions(t.Context(), e.issue())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sugg {
		if (s.Into == kv.ItemID && s.From == ke.ItemID) || (s.Into == ke.ItemID && s.From == kv.ItemID) {
			t.Errorf("suggested again: %+v", s)
		}
	}
}
