package digest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/digest"
)

// put adds or replaces (same GUID) an item with its own summary.
func (p *portal) put(path, guid, title, summary, link string, published time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	el := fmt.Sprintf(`<item><title>%s</title><link>%s</link><guid isPermaLink="false">%s</guid><pubDate>%s</pubDate><description>%s</description></item>`,
		title, link, guid, published.Format(time.RFC1123Z), summary)
	marker := `<guid isPermaLink="false">` + guid + `</guid>`
	for i, old := range p.items[path] {
		if strings.Contains(old, marker) {
			p.items[path][i] = el
			return
		}
	}
	// New items go on top, as portals list them.
	p.items[path] = append([]string{el}, p.items[path]...)
}

func (f *fixture) send(iss *digest.Issue) {
	f.t.Helper()
	ctx := context.Background()
	if err := f.issues.MarkSending(ctx, iss.ID); err != nil {
		f.t.Fatal(err)
	}
	if err := f.issues.MarkSent(ctx, iss.ID); err != nil {
		f.t.Fatal(err)
	}
}

const (
	fdiTitle   = "fdi: Hải Phòng thu hút 1,2 tỷ USD vốn đầu tư trong quý I"
	fdiSummary = "Trong quý I năm 2026, thành phố Hải Phòng thu hút 1,2 tỷ USD vốn đầu tư trực tiếp nước ngoài, tập trung vào các khu công nghiệp DEEP C và VSIP."
)

// A portal re-saves a mailed story under a new GUID with a corrected title:
// it is not offered as new; staff see it as an update of what was sent.
func TestCorrectionOfAMailedStoryIsAnUpdateNotNews(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	link := "https://haiphong.gov.vn/tin-tuc/fdi-quy-i-12345.html"
	f.portal.put("/a", "g1", fdiTitle, fdiSummary, link, now.Add(-3*time.Hour))
	iss, _ := f.fetchAndAssemble()
	if len(iss.Included()) != 1 {
		t.Fatalf("first issue: %v", titles(iss.Items))
	}
	f.send(iss)

	corrected := "[Đính chính] fdi: Hải Phòng thu hút 2,1 tỷ USD vốn đầu tư trong quý I"
	f.portal.put("/a", "g1-dinh-chinh", corrected, strings.ReplaceAll(fdiSummary, "1,2", "2,1"), link, now.Add(-time.Hour))
	next, added := f.fetchAndAssemble()
	if added != 1 || len(next.Items) != 1 {
		t.Fatalf("next draft holds %v, want the correction once", titles(next.Items))
	}
	it := next.Items[0]
	if it.Included || it.ExcludedBy != digest.ExcludedByUpdate || it.UpdateOf != iss.Items[0].ItemID || it.UpdateIn != iss.Number {
		t.Errorf("correction placed as %+v: want excluded, marked as an update of item %d in #%d", it, iss.Items[0].ItemID, iss.Number)
	}
	if len(next.Included()) != 0 {
		t.Errorf("the correction would be mailed again: %v", titles(next.Included()))
	}
}

// A copy with a new GUID of a story whose original was edited in place
// after sending: the copy (still carrying the title as mailed) is not news
// and not an update; a copy carrying the edited title is an update.
func TestRepublishedCopyAboveAnEditedOriginal(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	link := "https://baohaiphong.vn/doan-kieu-bao-tham-trang-due-401.html"
	title := "diaspora: Đoàn kiều bào Nhật Bản thăm khu công nghiệp Tràng Duệ"
	summary := "Ngày 12/3, đoàn 25 kiều bào đang sinh sống tại Nhật Bản đã đến thăm và tìm hiểu môi trường đầu tư tại khu công nghiệp Tràng Duệ."
	f.portal.put("/a", "orig", title, summary, link, now.Add(-5*time.Hour))
	iss, _ := f.fetchAndAssemble()
	f.send(iss)

	// The portal edits the original's title (same GUID) and lists a copy of
	// the old version above it under a new GUID.
	edited := "diaspora: Đoàn 25 kiều bào tại Nhật Bản tìm hiểu môi trường đầu tư ở khu công nghiệp Tràng Duệ"
	f.portal.put("/a", "orig", edited, summary, link, now.Add(-5*time.Hour))
	f.portal.put("/a", "copy", title, summary, link, now.Add(-time.Hour))
	next, added := f.fetchAndAssemble()
	if added != 0 || len(next.Items) != 0 {
		t.Fatalf("next draft holds %v: the copy of a mailed story came back", titles(next.Items))
	}
	// The portal saves it once more, with the edited title, under a new
	// GUID and link: staff see that what readers got was edited.
	f.portal.put("/a", "copy2", edited, summary, "https://baohaiphong.vn/doan-kieu-bao-tham-trang-due-455.html", now.Add(-30*time.Minute))
	next, added = f.fetchAndAssemble()
	if added != 1 || next.Items[0].Included || next.Items[0].ExcludedBy != digest.ExcludedByUpdate {
		t.Fatalf("a copy with the edited title: %+v (added %d), want one excluded update", next.Items, added)
	}
}

// A title edited before the send (same GUID) changes the draft's item; a
// copy under a new GUID and link with the same text is one story.
func TestTitleEditedBeforeSendingAndCopiesInOneDraft(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.portal.put("/a", "g1", fdiTitle, fdiSummary, "https://haiphong.gov.vn/fdi-1.html", now.Add(-3*time.Hour))
	iss, _ := f.fetchAndAssemble()
	edited := "fdi: Hải Phòng thu hút 1,2 tỷ USD vốn FDI trong quý I năm 2026"
	f.portal.put("/a", "g1", edited, fdiSummary, "https://haiphong.gov.vn/fdi-1.html", now.Add(-3*time.Hour))
	f.portal.put("/b", "b-copy", fdiTitle, fdiSummary, "https://thoidai.vn/hai-phong-fdi-quy-i-2201.html", now.Add(-2*time.Hour))
	again, added := f.fetchAndAssemble()
	if again.ID != iss.ID || added != 0 || len(again.Items) != 1 {
		t.Fatalf("draft holds %v (added %d), want the one story", titles(again.Items), added)
	}
	if again.Items[0].Item.Title != edited {
		t.Errorf("draft shows %q, want the edited title", again.Items[0].Item.Title)
	}
}

// Items left out for lack of room come back once in the next draft,
// after the new items and marked; an item a curator excluded does not.
func TestItemsOverTheLimitAreCarriedOverOnce(t *testing.T) {
	f := newFixture(t) // max_per_section = 2
	ctx := context.Background()
	now := time.Now()
	for i := 0; i < 4; i++ {
		f.portal.add("/a", fmt.Sprint("f", i), fmt.Sprintf("fdi: project %d", i), fmt.Sprintf("https://p.example/f%d", i), now.Add(-time.Duration(i+1)*time.Hour))
	}
	iss, _ := f.fetchAndAssemble()
	fdi := iss.Sections(f.d.Themes)[0].Items
	if len(fdi) != 4 || fdi[2].Included || fdi[2].ExcludedBy != digest.ExcludedByLimit {
		t.Fatalf("first draft: %+v", fdi)
	}
	// A curator excludes project 3 (already out for lack of room) and project 0.
	for _, it := range []digest.IssueItem{fdi[3], fdi[0]} {
		cur, _ := f.issues.Issue(ctx, iss.ID)
		if err := f.issues.SetIncluded(ctx, iss.ID, cur.Version, it.ItemID, false); err != nil {
			t.Fatal(err)
		}
	}
	iss, _ = f.issues.Issue(ctx, iss.ID)
	f.send(iss)

	f.portal.add("/a", "f9", "fdi: project 9", "https://p.example/f9", now.Add(-10*time.Minute))
	next, _ := f.fetchAndAssemble()
	got := next.Sections(f.d.Themes)[0].Items
	if len(got) != 2 || got[1].Item.Title != "fdi: project 2" || got[1].CarriedFrom != iss.Number || !got[1].Included {
		t.Fatalf("next draft: %v, want project 9 then project 2 carried over from #%d (included: there is room)", titles(got), iss.Number)
	}
	if got[0].Item.Title != "fdi: project 9" || got[0].CarriedFrom != 0 || !got[0].Included {
		t.Errorf("first item %q carried from %d", got[0].Item.Title, got[0].CarriedFrom)
	}
	// Sent again: nothing is carried twice.
	f.send(next)
	third, added := f.fetchAndAssemble()
	if added != 0 {
		t.Errorf("third draft holds %v", titles(third.Items))
	}
}
