package staff

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haiphong/hpdigest/digest/render/browsercheck"
)

// TestBrowserStories is an editor at work on stories: the curation page
// shows a story with two versions, a suggested pairing and each
// edition's coverage; the editor merges the pair and translates a story
// published only in Vietnamese, side by side with the original.
func TestBrowserStories(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	bctx := browsercheck.Start(t)
	dir := browsercheck.ScreenshotDir(t)
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()

	e := newStoryEnv(t, "", true)
	iss := e.issue()
	lgd := story(t, iss, "LG Display")
	tet := story(t, iss, "Tết cộng đồng")
	if len(lgd.Versions) != 1 {
		t.Fatalf("LG Display has %d versions, want 2 in all", len(lgd.Versions)+1)
	}
	b := browser{t: t, ctx: ctx, dir: dir}
	navigate := b.navigate
	visible := func(sel string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
			t.Fatalf("%s not visible: %v", sel, err)
		}
		return strings.Join(strings.Fields(b.text(sel)), " ")
	}
	shot := func(name string, width int64) {
		t.Helper()
		b.shot(name, width)
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 900)); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 900)); err != nil {
		t.Fatal(err)
	}
	navigate("log in page", chromedp.Navigate(e.srv.URL+fmt.Sprintf("/staff/issues/%d", iss.ID)))
	navigate("log in",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), aliceEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
	)

	// The story with its two versions, the suggested pairing, the meter.
	if s := visible(fmt.Sprintf("#version-%d", lgd.Versions[0].ItemID)); !strings.Contains(s, "LG Display pours additional") || !strings.Contains(s, tr("vi", "ver.how_rules")) {
		t.Errorf("the English version of LG Display reads %q", s)
	}
	if s := visible(".pairing"); !strings.Contains(s, "Kitakyushu") || !strings.Contains(s, "Độ tin cậy") || !strings.Contains(s, "score") {
		t.Errorf("the suggested pairing reads %q", s)
	}
	meters, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[...document.querySelectorAll("#coverage meter")].map(m => m.value)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(meters) != 2 || meters[1] >= meters[0] {
		t.Errorf("coverage meters %v: want the Vietnamese and English editions, the English one lower", meters)
	}
	if s := visible("#coverage-warning"); !strings.Contains(s, "ấn bản tiếng Anh") {
		t.Errorf("approval warning %q", s)
	}
	shot("stories-curation", 1100)
	shot("stories-curation", 375)

	// Merge the pair; translate the Vietnamese-only story.
	navigate("merge", chromedp.Click(chromedp.CSS(`.pairing button[data-action=merge]`)))
	if s := visible(".flash"); s != tr("vi", "done.merged") {
		t.Errorf("after merging the page says %q", s)
	}
	navigate("translate",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#translate-%d-en summary`, tet.ItemID))),
		chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`#translate-%d-en input[name=title]`, tet.ItemID)), "Vietnamese in Poland celebrate Tet together"),
		chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`#translate-%d-en textarea[name=summary]`, tet.ItemID)), "More than 500 overseas Vietnamese in Warsaw made chung cakes."),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#translate-%d-en button[data-action=translate]`, tet.ItemID))),
	)
	if s := visible(".flash"); s != tr("vi", "done.translated") {
		t.Errorf("after translating the page says %q", s)
	}
	if s := visible(fmt.Sprintf("#item-%d .meta", tet.ItemID)); !strings.Contains(s, tr("vi", "item.translated_en")) {
		t.Errorf("the translated story reads %q", s)
	}
	// The side-by-side editor, open on another story.
	kita := story(t, e.issue(), "Kitakyushu")
	if len(kita.Versions) != 1 {
		t.Errorf("Kitakyushu after merging: %d versions", len(kita.Versions))
	}
	other := story(t, e.issue(), "Kiều bào Nhật Bản")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#translate-%d-en summary`, other.ItemID)))); err != nil {
		t.Fatal(err)
	}
	visible(fmt.Sprintf(`#translate-%d-en .original`, other.ItemID))
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS(fmt.Sprintf(`#item-%d`, other.ItemID)))); err != nil {
		t.Fatal(err)
	}
	shot("stories-after", 1100)

	// Readable on a phone and a laptop, light and dark.
	browsercheck.Check(t, ctx, e.srv.URL+fmt.Sprintf("/staff/issues/%d", iss.ID), dir, "check-stories", []int64{375, 1024})
}
