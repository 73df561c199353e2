package digest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/store"
)

// portal is a feed server whose items the test can change between fetches.
type portal struct {
	mu    sync.Mutex
	items map[string][]string // path → <item> elements
}

func (p *portal) add(path, guid, title, link string, published time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.items[path] = append(p.items[path], fmt.Sprintf(`<item><title>%s</title><link>%s</link><guid isPermaLink="false">%s</guid><pubDate>%s</pubDate><description>%s</description></item>`,
		title, link, guid, published.Format(time.RFC1123Z), title))
}

func (p *portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title>%s</channel></rss>`, r.URL.Path, strings.Join(p.items[r.URL.Path], ""))
}

type fixture struct {
	t      *testing.T
	portal *portal
	feeds  *feeds.Store
	poller *feeds.Poller
	issues *digest.Store
	d      digest.Digest
	db     *sql.DB
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	p := &portal{items: map[string][]string{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	db, err := store.Open(filepath.Join(t.TempDir(), "digest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Migrate(ctx, db, feeds.Migrations(), digest.Migrations()); err != nil {
		t.Fatal(err)
	}
	fs := feeds.NewStore(db)
	if err := fs.SyncSources(ctx, []feeds.Source{
		{Name: "A", URL: srv.URL + "/a", Language: "vi", Timezone: "Asia/Ho_Chi_Minh", AllowPrivate: true},
		{Name: "B", URL: srv.URL + "/b", Language: "en", Timezone: "Asia/Ho_Chi_Minh", AllowPrivate: true},
		{Name: "C", URL: srv.URL + "/c", Language: "en", Timezone: "Asia/Ho_Chi_Minh", AllowPrivate: true},
	}); err != nil {
		t.Fatal(err)
	}
	d := digest.Digest{Key: "weekly", Schedule: "0 8 * * FRI", MaxPerSection: 2}
	d.Defaults("Asia/Ho_Chi_Minh", []string{"diaspora", "fdi", "china"})
	return &fixture{t: t, portal: p, feeds: fs, poller: feeds.NewPoller(feeds.Config{}, fs, slog.New(slog.NewTextHandler(io.Discard, nil))),
		issues: digest.NewStore(db, fs), d: d, db: db}
}

// classifyByTitle stands in for the theme rules: the title names its theme.
func classifyByTitle(it feeds.Item) digest.Classification {
	for _, k := range []string{"diaspora", "fdi", "china"} {
		if strings.Contains(strings.ToLower(it.Title), k) {
			return digest.Classification{Themes: []string{k}, Primary: k, Explanation: "title says " + k}
		}
	}
	return digest.Classification{Primary: "other"}
}

func (f *fixture) fetchAndAssemble() (*digest.Issue, int) {
	f.t.Helper()
	rep := f.poller.FetchAll(context.Background())
	if failed := rep.Failed(); len(failed) > 0 {
		f.t.Fatalf("fetch failed: %v", failed[0].Err)
	}
	iss, added, err := f.issues.Assemble(context.Background(), f.d, classifyByTitle)
	if err != nil {
		f.t.Fatal(err)
	}
	return iss, added
}

func titles(items []digest.IssueItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Item.Title)
	}
	return out
}

func TestAssembleWindowDedupeAndNoRepeat(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.portal.add("/a", "a1", "fdi: VSIP expands", "https://portal.example/vsip", now.Add(-2*time.Hour))
	f.portal.add("/a", "a2", "diaspora: kiều bào visit", "https://portal.example/kieu-bao", now.Add(-72*time.Hour))
	f.portal.add("/a", "a3", "fdi: last month's news", "https://portal.example/old", now.Add(-30*24*time.Hour))
	// The same story in the other feed, with tracking parameters: one story in the issue.
	f.portal.add("/b", "b1", "fdi: VSIP expands (EN)", "https://PORTAL.example/vsip?utm_source=rss#top", now.Add(-90*time.Minute))
	f.portal.add("/b", "b2", "china: Guangxi delegation", "https://wvr.example/guangxi", now.Add(-5*time.Hour))

	iss, added := f.fetchAndAssemble()
	got := titles(iss.Items)
	if added != 3 || len(iss.Items) != 3 {
		t.Fatalf("first issue holds %v, want the 3 stories of the window, once each", got)
	}
	for _, s := range got {
		if strings.Contains(s, "last month") {
			t.Errorf("an item outside the window was placed: %q", s)
		}
	}
	if iss.Number != 1 || iss.Status != digest.StatusDraft || iss.IncludedCount != 3 {
		t.Errorf("issue #%d %s with %d included", iss.Number, iss.Status, iss.IncludedCount)
	}

	// Send it; the next assembly must not place any of its items again.
	ctx := context.Background()
	if err := f.issues.MarkSending(ctx, iss.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.issues.MarkSent(ctx, iss.ID); err != nil {
		t.Fatal(err)
	}
	next, added := f.fetchAndAssemble()
	if next.ID == iss.ID || added != 0 || len(next.Items) != 0 {
		t.Fatalf("after the send, the next issue holds %v (issue %d vs %d)", titles(next.Items), next.ID, iss.ID)
	}

	// A story already sent, republished later by another feed, is not news.
	f.portal.add("/b", "b-late", "diaspora: kiều bào visit (EN)", "https://portal.example/kieu-bao?utm_campaign=x", now.Add(-10*time.Minute))
	// A new story appears: only it goes into the next issue.
	f.portal.add("/b", "b3", "diaspora: remittances grow", "https://wvr.example/remittances", now.Add(-time.Hour))
	next, added = f.fetchAndAssemble()
	if added != 1 || len(next.Items) != 1 || next.Items[0].Item.Title != "diaspora: remittances grow" {
		t.Fatalf("next issue holds %v, want only the new story", titles(next.Items))
	}
	if next.Number != 2 {
		t.Errorf("next issue is #%d, want #2", next.Number)
	}
}

func TestSectionsAndLimitPerSection(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	for i := 0; i < 3; i++ {
		f.portal.add("/a", fmt.Sprint("f", i), fmt.Sprintf("fdi: project %d", i), fmt.Sprintf("https://p.example/f%d", i), now.Add(-time.Duration(i+1)*time.Hour))
	}
	f.portal.add("/a", "o1", "football results", "https://p.example/o1", now.Add(-time.Hour))
	iss, _ := f.fetchAndAssemble()
	secs := iss.Sections(f.d.Themes)
	if len(secs) != 2 || secs[0].Theme != "fdi" || secs[1].Theme != "other" {
		t.Fatalf("sections %+v, want fdi then other", secs)
	}
	fdi := secs[0].Items
	if len(fdi) != 3 || !fdi[0].Included || !fdi[1].Included || fdi[2].Included {
		t.Fatalf("fdi section: want the 2 newest included (max_per_section) and the third kept but excluded, got %+v", fdi)
	}
	if fdi[0].Item.Title != "fdi: project 0" {
		t.Errorf("newest first: got %q first", fdi[0].Item.Title)
	}
	if secs[1].Items[0].Included {
		t.Errorf("an item of no digest theme is included")
	}
}

func TestAssembleKeepsStaffEdits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now()
	f.portal.add("/a", "a1", "fdi: one", "https://p.example/1", now.Add(-2*time.Hour))
	f.portal.add("/a", "a2", "fdi: two", "https://p.example/2", now.Add(-3*time.Hour))
	iss, _ := f.fetchAndAssemble()
	first := iss.Items[0].ItemID
	if err := f.issues.SetIncluded(ctx, iss.ID, iss.Version, first, false); err != nil {
		t.Fatal(err)
	}
	iss, _ = f.issues.Issue(ctx, iss.ID)
	if err := f.issues.SetNote(ctx, iss.ID, iss.Version, "Chào bạn đọc", "Dear readers"); err != nil {
		t.Fatal(err)
	}
	f.portal.add("/b", "b1", "diaspora: three", "https://p.example/3", now.Add(-time.Hour))
	again, added := f.fetchAndAssemble()
	if again.ID != iss.ID || added != 1 {
		t.Fatalf("re-assembly made issue %d (was %d), added %d", again.ID, iss.ID, added)
	}
	if again.NoteVI != "Chào bạn đọc" || again.NoteEN != "Dear readers" {
		t.Errorf("note lost: %q / %q", again.NoteVI, again.NoteEN)
	}
	for _, it := range again.Items {
		if it.ItemID == first && it.Included {
			t.Errorf("the staff's exclusion was undone by re-assembly")
		}
	}
}

func TestConcurrentEditsNeverLoseAnUpdate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now()
	f.portal.add("/a", "a1", "fdi: one", "https://p.example/1", now.Add(-2*time.Hour))
	f.portal.add("/a", "a2", "fdi: two", "https://p.example/2", now.Add(-3*time.Hour))
	iss, _ := f.fetchAndAssemble()
	// Two curators loaded the same version; both save.
	errA := f.issues.SetNote(ctx, iss.ID, iss.Version, "A's note", "")
	errB := f.issues.SetIncluded(ctx, iss.ID, iss.Version, iss.Items[1].ItemID, false)
	if errA != nil {
		t.Fatal(errA)
	}
	if !errors.Is(errB, digest.ErrConflict) {
		t.Fatalf("second save with a stale version: err = %v, want ErrConflict", errB)
	}
	got, _ := f.issues.Issue(ctx, iss.ID)
	if got.NoteVI != "A's note" || !got.Items[1].Included {
		t.Errorf("state after conflict: note %q, item included %v", got.NoteVI, got.Items[1].Included)
	}
	// Reordering with the fresh version works.
	if err := f.issues.Reorder(ctx, got.ID, got.Version, "fdi", []int64{got.Items[1].ItemID}); err != nil {
		t.Fatal(err)
	}
	got, _ = f.issues.Issue(ctx, iss.ID)
	if secs := got.Sections(f.d.Themes); secs[0].Items[0].Item.Title != "fdi: two" {
		t.Errorf("reorder: first is %q", secs[0].Items[0].Item.Title)
	}
}

func TestApprovedIssueIsFrozen(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.portal.add("/a", "a1", "fdi: one", "https://p.example/1", time.Now().Add(-time.Hour))
	iss, _ := f.fetchAndAssemble()
	if err := f.issues.Approve(ctx, iss.ID, iss.Version, "editor@haiphong.gov.vn"); err != nil {
		t.Fatal(err)
	}
	iss, _ = f.issues.Issue(ctx, iss.ID)
	if iss.Status != digest.StatusApproved || iss.ApprovedBy != "editor@haiphong.gov.vn" {
		t.Fatalf("status %s by %q", iss.Status, iss.ApprovedBy)
	}
	if err := f.issues.SetNote(ctx, iss.ID, iss.Version, "late edit", ""); !errors.Is(err, digest.ErrFrozen) {
		t.Fatalf("edit of an approved issue: err = %v, want ErrFrozen", err)
	}
	// New items do not slip into an approved issue.
	f.portal.add("/a", "a2", "fdi: two", "https://p.example/2", time.Now().Add(-time.Hour))
	same, added := f.fetchAndAssemble()
	if same.ID != iss.ID || added != 0 {
		t.Fatalf("assembly changed an approved issue")
	}
	if err := f.issues.Unapprove(ctx, iss.ID, iss.Version); err != nil {
		t.Fatal(err)
	}
	iss, _ = f.issues.Issue(ctx, iss.ID)
	// An item that is not in the issue: a clear error, and the version stays.
	if err := f.issues.SetIncluded(ctx, iss.ID, iss.Version, 99999, true); !errors.Is(err, digest.ErrNotFound) {
		t.Fatalf("editing an item not in the issue: err = %v, want ErrNotFound", err)
	}
	if again, _ := f.issues.Issue(ctx, iss.ID); again.Version != iss.Version {
		t.Fatalf("a failed edit bumped the version")
	}
	if err := f.issues.Reschedule(ctx, iss.ID, iss.Version, time.Time{}); err != nil {
		t.Fatal(err)
	}
	iss, _ = f.issues.Issue(ctx, iss.ID)
	if err := f.issues.SetNote(ctx, iss.ID, iss.Version, "now editable", ""); err != nil {
		t.Fatalf("edit after un-approving: %v", err)
	}
}
