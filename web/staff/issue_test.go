package staff

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/digest"
)

func issuePath(iss *digest.Issue, rest string) string {
	return fmt.Sprintf("/staff/issues/%d%s", iss.ID, rest)
}

func itemPath(iss *digest.Issue, it digest.IssueItem, action string) string {
	return fmt.Sprintf("/staff/issues/%d/items/%d/%s", iss.ID, it.ItemID, action)
}

func sectionOrder(iss *digest.Issue, themes []string, theme string) []string {
	var out []string
	for _, s := range iss.Sections(themes) {
		if s.Theme == theme {
			for _, it := range s.Items {
				out = append(out, it.Item.Title)
			}
		}
	}
	return out
}

func wantOK(t *testing.T, what string, r resp) {
	t.Helper()
	if r.status != http.StatusSeeOther {
		t.Fatalf("%s: status %d, want 303:\n%s", what, r.status, errorIn(r.body))
	}
}

var errorRe = regexp.MustCompile(`(?s)<p class="error"[^>]*>(.*?)</p>`)

func errorIn(body string) string {
	if m := errorRe.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	if len(body) > 400 {
		return body[:400]
	}
	return body
}

func TestCurationActions(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	csrf := c.login(aliceEmail, password)
	iss := e.issue()
	page := c.get(issuePath(iss, ""))
	if page.status != http.StatusOK {
		t.Fatalf("issue page: %d", page.status)
	}
	// The page shows sections, sources, and why each item was classified.
	for _, want := range []string{"Kiều bào", "Đầu tư nước ngoài", "Cổng TTĐT Hải Phòng", "Hội nghị kiều bào", "kiều bào"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("issue page lacks %q", want)
		}
	}
	hoiNghi := findItem(t, iss, "Hội nghị kiều bào")
	if hoiNghi.Class.Explanation == "" || !strings.Contains(page.body, template_escape(hoiNghi.Class.Explanation[:20])) {
		t.Errorf("the classification explanation %q is not shown", hoiNghi.Class.Explanation)
	}

	// Exclude.
	wantOK(t, "exclude", c.edit(csrf, iss.Version, itemPath(iss, hoiNghi, "include"), url.Values{"included": {"0"}}))
	iss = e.issue()
	if findItem(t, iss, "Hội nghị kiều bào").Included {
		t.Fatal("exclude did not exclude")
	}
	// Include again.
	wantOK(t, "include", c.edit(csrf, iss.Version, itemPath(iss, hoiNghi, "include"), url.Values{"included": {"1"}}))
	iss = e.issue()
	if !findItem(t, iss, "Hội nghị kiều bào").Included {
		t.Fatal("include did not include")
	}

	// Reorder: the third diaspora item up, then the first down.
	before := sectionOrder(iss, e.d.Themes, "diaspora")
	hocBong := findItem(t, iss, "Trao học bổng")
	r := c.edit(csrf, iss.Version, itemPath(iss, hocBong, "order"), url.Values{"dir": {"up"}})
	wantOK(t, "up", r)
	if !strings.HasSuffix(r.location, fmt.Sprintf("#item-%d", hocBong.ItemID)) {
		t.Errorf("after a move the page should scroll back to the item: Location %q", r.location)
	}
	iss = e.issue()
	got := sectionOrder(iss, e.d.Themes, "diaspora")
	want := []string{before[0], before[2], before[1]}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("after up: %q, want %q", got, want)
	}
	first := findItem(t, iss, before[0])
	wantOK(t, "down", c.edit(csrf, iss.Version, itemPath(iss, first, "order"), url.Values{"dir": {"down"}}))
	iss = e.issue()
	got = sectionOrder(iss, e.d.Themes, "diaspora")
	want = []string{before[2], before[0], before[1]}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("after down: %q, want %q", got, want)
	}

	// Move to another section.
	fdi := findItem(t, iss, "Deep C")
	wantOK(t, "move", c.edit(csrf, iss.Version, itemPath(iss, fdi, "move"), url.Values{"theme": {"china"}}))
	iss = e.issue()
	if th := findItem(t, iss, "Deep C").Theme; th != "china" {
		t.Fatalf("moved item is in %q, want china", th)
	}
	if r := c.edit(csrf, iss.Version, itemPath(iss, fdi, "move"), url.Values{"theme": {"sports"}}); r.status != http.StatusBadRequest {
		t.Errorf("move to an unknown section: %d, want 400", r.status)
	}

	// Edit title and summary per language.
	wantOK(t, "edit", c.edit(csrf, iss.Version, itemPath(iss, fdi, "edit"), url.Values{
		"title_vi": {"Deep C: nhà máy FDI mới"}, "title_en": {"Deep C: a new FDI plant"},
		"summary_vi": {"Tóm tắt của biên tập viên."}, "summary_en": {"Editor's summary."}}))
	iss = e.issue()
	it := findItem(t, iss, "Deep C")
	if it.TitleVI != "Deep C: nhà máy FDI mới" || it.TitleEN != "Deep C: a new FDI plant" || it.SummaryEN != "Editor's summary." {
		t.Fatalf("edit: %+v", it)
	}

	// Editor's note.
	wantOK(t, "note", c.edit(csrf, iss.Version, issuePath(iss, "/note"), url.Values{"note_vi": {"Chào bạn đọc!"}, "note_en": {"Hello readers!"}}))
	iss = e.issue()
	if iss.NoteVI != "Chào bạn đọc!" || iss.NoteEN != "Hello readers!" {
		t.Fatalf("note: %q / %q", iss.NoteVI, iss.NoteEN)
	}

	// Add by URL: an article stored (older than the window) but not placed.
	old := "https://portal.example.vn/tin/kieu-bao-uc-truong-hoc"
	wantOK(t, "add", c.edit(csrf, iss.Version, issuePath(iss, "/add"), url.Values{"url": {"http://www.portal.example.vn/tin/kieu-bao-uc-truong-hoc/?utm_source=zalo"}, "theme": {"auto"}}))
	iss = e.issue()
	added := findItem(t, iss, "Kiều bào Úc")
	if !added.Included || added.Theme != "diaspora" || added.Item.URL != old {
		t.Fatalf("added item: included %v, section %q, url %q", added.Included, added.Theme, added.Item.URL)
	}
	// Unknown and malformed URLs are refused with a clear message, and
	// the URL typed stays in the field.
	r = c.edit(csrf, iss.Version, issuePath(iss, "/add"), url.Values{"url": {"https://elsewhere.example/story"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "https://elsewhere.example/story") || !strings.Contains(errorIn(r.body), "elsewhere.example") {
		t.Errorf("add unknown URL: %d %q", r.status, errorIn(r.body))
	}
	if r := c.edit(csrf, iss.Version, issuePath(iss, "/add"), url.Values{"url": {"javascript:alert(1)"}}); r.status != http.StatusBadRequest {
		t.Errorf("add a javascript: URL: %d", r.status)
	}
	if e.issue().Version != iss.Version {
		t.Error("a refused add changed the issue")
	}

	// Unknown issue and item.
	if r := c.get("/staff/issues/999"); r.status != http.StatusNotFound {
		t.Errorf("unknown issue: %d", r.status)
	}
	if r := c.edit(csrf, iss.Version, fmt.Sprintf("/staff/issues/%d/items/999/include", iss.ID), url.Values{"included": {"0"}}); r.status != http.StatusNotFound {
		t.Errorf("unknown item: %d", r.status)
	}

	// The audit log names who did what.
	page = c.get(issuePath(iss, ""))
	for _, want := range []string{aliceEmail, "exclude", "move", "note", "add"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}
}

// template_escape is how html/template writes s in element text.
func template_escape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;")
	return r.Replace(s)
}

func TestApproveFreezeUnapproveReschedule(t *testing.T) {
	e := newEnv(t, envOpts{requireApproval: true})
	c := e.client()
	c.login(aliceEmail, password)
	iss := e.issue()

	// The warning is prominent on the dashboard and the issue page.
	warn := strings.SplitN(tr("vi", "warn.needs_approval"), "%s", 2)[0]
	for _, p := range []string{"/staff/", issuePath(iss, "")} {
		if r := c.get(p); !strings.Contains(r.body, warn) || !strings.Contains(r.body, `role="alert"`) {
			t.Errorf("%s: no not-approved warning", p)
		}
	}
	// The next send is shown (Friday 08:00 in Hanoi time).
	if r := c.get(issuePath(iss, "")); !strings.Contains(r.body, "Thứ Sáu") || !strings.Contains(r.body, "08:00") {
		t.Errorf("issue page does not show the next send (Friday 08:00)")
	}
	// A week later the Friday send has passed without approval: staff are
	// told it did not go out.
	missedPrefix := strings.SplitN(tr("vi", "warn.missed"), "%s", 2)[0]
	if r := c.get(issuePath(iss, "")); strings.Contains(r.body, missedPrefix) {
		t.Error("a missed send is reported before the send time")
	}
	e.h.now = func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
	later := e.client() // the first session has expired by then
	later.login(bobEmail, password)
	for _, p := range []string{"/staff/", issuePath(iss, "")} {
		if r := later.get(p); !strings.Contains(r.body, missedPrefix) {
			t.Errorf("%s: no word that the scheduled send did not go out", p)
		}
	}
	e.h.now = time.Now
	csrf := c.login(aliceEmail, password) // the sweep at bob's login removed alice's expired-looking session
	// The same when staff moved the send to a time that passed unapproved.
	if err := e.a.Digests.Reschedule(context.Background(), iss.ID, iss.Version, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if r := c.get(issuePath(iss, "")); !strings.Contains(r.body, missedPrefix) {
		t.Error("no word that the rescheduled send did not go out")
	}
	if err := e.a.Digests.Reschedule(context.Background(), iss.ID, iss.Version+1, time.Time{}); err != nil {
		t.Fatal(err)
	}
	iss = e.issue()
	// Sending a draft that needs approval is refused.
	if r := c.edit(csrf, iss.Version, issuePath(iss, "/send"), nil); r.status != http.StatusBadRequest {
		t.Errorf("send an unapproved draft: %d, want 400", r.status)
	}

	wantOK(t, "approve", c.edit(csrf, iss.Version, issuePath(iss, "/approve"), nil))
	iss = e.issue()
	if iss.Status != digest.StatusApproved || iss.ApprovedBy != aliceEmail {
		t.Fatalf("after approve: %s by %q", iss.Status, iss.ApprovedBy)
	}
	if r := c.get(issuePath(iss, "")); strings.Contains(r.body, warn) {
		t.Error("the warning is still shown after approval")
	}
	// Frozen: edits are refused with a clear message.
	it := iss.Items[0]
	r := c.edit(csrf, iss.Version, itemPath(iss, it, "include"), url.Values{"included": {"0"}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, tr("vi", "err.frozen")) {
		t.Errorf("edit an approved issue: %d %q", r.status, errorIn(r.body))
	}

	// Reschedule: past refused, future accepted, empty clears.
	loc := e.d.Location()
	past := time.Now().Add(-time.Hour).In(loc).Format("2006-01-02T15:04")
	if r := c.edit(csrf, iss.Version, issuePath(iss, "/reschedule"), url.Values{"at": {past}}); r.status != http.StatusBadRequest {
		t.Errorf("reschedule to the past: %d", r.status)
	}
	future := time.Now().Add(72 * time.Hour).In(loc).Truncate(time.Minute)
	wantOK(t, "reschedule", c.edit(csrf, iss.Version, issuePath(iss, "/reschedule"), url.Values{"at": {future.Format("2006-01-02T15:04")}}))
	iss = e.issue()
	if !iss.ScheduledAt.Equal(future) {
		t.Fatalf("scheduled at %v, want %v", iss.ScheduledAt, future)
	}
	if r := c.get(issuePath(iss, "")); !strings.Contains(r.body, future.Format("02/01/2006 15:04")) {
		t.Error("the page does not show the new send time")
	}
	wantOK(t, "clear schedule", c.edit(csrf, iss.Version, issuePath(iss, "/reschedule"), url.Values{"at": {""}}))
	iss = e.issue()
	if !iss.ScheduledAt.IsZero() {
		t.Fatalf("schedule not cleared: %v", iss.ScheduledAt)
	}

	wantOK(t, "unapprove", c.edit(csrf, iss.Version, issuePath(iss, "/unapprove"), nil))
	iss = e.issue()
	if iss.Status != digest.StatusDraft {
		t.Fatalf("after unapprove: %s", iss.Status)
	}
	wantOK(t, "edit after unapprove", c.edit(csrf, iss.Version, itemPath(iss, it, "include"), url.Values{"included": {"0"}}))
}

// Two curators open the same draft; the second to save gets a clear
// conflict and the first one's change survives. What the second typed is
// still in the form.
func TestConcurrentEditsNoLostUpdate(t *testing.T) {
	e := newEnv(t, envOpts{})
	alice, bob := e.client(), e.client()
	ca := alice.login(aliceEmail, password)
	cb := bob.login(bobEmail, password)
	iss := e.issue()
	seen := iss.Version // both pages show this version
	alice.get(issuePath(iss, ""))
	bob.get(issuePath(iss, ""))

	wantOK(t, "alice's note", alice.edit(ca, seen, issuePath(iss, "/note"), url.Values{"note_vi": {"Ghi chú của Lan"}, "note_en": {"Lan's note"}}))

	r := bob.edit(cb, seen, issuePath(iss, "/note"), url.Values{"note_vi": {"Ghi chú của Bình"}, "note_en": {"Binh's note"}})
	if r.status != http.StatusConflict {
		t.Fatalf("bob's stale save: %d, want 409", r.status)
	}
	if !strings.Contains(r.body, tr("vi", "err.conflict")[:40]) {
		t.Errorf("bob is not told clearly: %q", errorIn(r.body))
	}
	if !strings.Contains(r.body, "Ghi chú của Bình") {
		t.Error("bob's text was lost from the form")
	}
	if got := e.issue(); got.NoteVI != "Ghi chú của Lan" || got.NoteEN != "Lan's note" {
		t.Fatalf("lost update: the note is %q / %q", got.NoteVI, got.NoteEN)
	}
	// The conflict page carries the fresh version: bob can save now.
	fresh := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(r.body)
	if fresh == nil || fresh[1] != fmt.Sprint(e.issue().Version) {
		t.Fatalf("conflict page version %v, want %d", fresh, e.issue().Version)
	}

	// Same for item edits: a stale exclude is refused, nothing changes.
	it := findItem(t, iss, "Hội nghị kiều bào")
	if r := bob.edit(cb, seen, itemPath(iss, it, "include"), url.Values{"included": {"0"}}); r.status != http.StatusConflict {
		t.Errorf("stale exclude: %d", r.status)
	}
	r = bob.edit(cb, seen, itemPath(iss, it, "edit"), url.Values{"title_vi": {"Tiêu đề của Bình"}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "Tiêu đề của Bình") {
		t.Errorf("stale title edit: %d, typed title kept: %v", r.status, strings.Contains(r.body, "Tiêu đề của Bình"))
	}
	if r := bob.edit(cb, seen, itemPath(iss, it, "order"), url.Values{"dir": {"down"}}); r.status != http.StatusConflict {
		t.Errorf("stale reorder: %d", r.status)
	}
	if r := bob.edit(cb, seen, issuePath(iss, "/approve"), nil); r.status != http.StatusConflict {
		t.Errorf("approving a version bob has not seen: %d", r.status)
	}
	got := e.issue()
	if !findItem(t, got, "Hội nghị kiều bào").Included || findItem(t, got, "Hội nghị kiều bào").TitleVI != "" || got.Status != digest.StatusDraft {
		t.Error("a stale edit went through")
	}
}

// Many editors press "exclude" on different items at the same moment from
// the same version: exactly one wins, the others are told.
func TestConcurrentEditsParallel(t *testing.T) {
	e := newEnv(t, envOpts{})
	iss := e.issue()
	const n = 5
	clients := make([]*client, n)
	tokens := make([]string, n)
	for i := range clients {
		clients[i] = e.client()
		email := aliceEmail
		if i%2 == 1 {
			email = bobEmail
		}
		tokens[i] = clients[i].login(email, password)
	}
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			it := iss.Items[i%len(iss.Items)]
			statuses[i] = clients[i].edit(tokens[i], iss.Version, itemPath(iss, it, "include"), url.Values{"included": {"0"}}).status
		}(i)
	}
	wg.Wait()
	ok, conflict := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusSeeOther:
			ok++
		case http.StatusConflict:
			conflict++
		}
	}
	if ok != 1 || conflict != n-1 {
		t.Fatalf("statuses %v: want exactly one success and %d conflicts", statuses, n-1)
	}
	got := e.issue()
	if excluded := len(got.Items) - len(got.Included()); excluded != 1 || got.Version != iss.Version+1 {
		t.Errorf("%d items excluded, version %d → %d: want exactly one change", excluded, iss.Version, got.Version)
	}
}

func TestAssembleFromDashboard(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	csrf := c.login(aliceEmail, password)
	r := c.post("/staff/digests/weekly/assemble", url.Values{"csrf": {csrf}})
	if r.status != http.StatusSeeOther || r.location != fmt.Sprintf("/staff/issues/%d", e.issue().ID) {
		t.Fatalf("assemble: %d %q", r.status, r.location)
	}
	if r := c.get(r.location); !strings.Contains(r.body, tr("vi", "dash.assembled", 0)) {
		t.Errorf("no flash after assembling: %q", errorIn(r.body))
	}
	if r := c.get("/staff/digests/weekly"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/staff/issues/") {
		t.Errorf("current draft link: %d %q", r.status, r.location)
	}
	if r := c.post("/staff/digests/nope/assemble", url.Values{"csrf": {csrf}}); r.status != http.StatusNotFound {
		t.Errorf("unknown digest: %d", r.status)
	}
	_ = context.Background()
}
