package staff

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/render/browsercheck"
	"github.com/haiphong/hpdigest/subscribers"
)

// TestBrowserCurateApproveSend is what an editor does on a Thursday: log
// in, exclude an item, move one up, fix a title, write the note, look at
// the preview, approve. The issue then sent must carry every edit.
func TestBrowserCurateApproveSend(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	bctx := browsercheck.Start(t)
	dir := browsercheck.ScreenshotDir(t)
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()

	e := newEnv(t, envOpts{requireApproval: true})
	bg := context.Background()
	if _, err := e.a.Subscribers.Add(bg, subscribers.Subscriber{Email: "lan@example.jp", Name: "Nguyễn Thị Lan", Language: "vi"}); err != nil {
		t.Fatal(err)
	}
	iss := e.issue()
	excluded := findItem(t, iss, "Hội nghị kiều bào")
	raised := findItem(t, iss, "Trao học bổng")
	retitled := findItem(t, iss, "vốn FDI")
	const newTitle = "Hải Phòng hút 2 tỷ USD vốn FDI (biên tập)"
	const note = "Kính gửi bà con kiều bào: số này có tin về học bổng."

	tab := browser{t: t, ctx: ctx, dir: dir}
	navigate, text, shot := tab.navigate, tab.text, tab.shot
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 900)); err != nil {
		t.Fatal(err)
	}

	// A stranger lands on the login page.
	navigate("open", chromedp.Navigate(e.srv.URL+"/staff/"))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/staff/login") {
		t.Fatalf("not sent to the login page: %s", loc)
	}
	shot("login", 375)
	navigate("log in",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), aliceEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
	)
	if s := text("#approval-warning, .warning.big"); !strings.Contains(s, "CHƯA ĐƯỢC DUYỆT") {
		t.Errorf("dashboard: no approval warning, got %q", s)
	}
	shot("dashboard", 1100)

	navigate("open the draft", chromedp.Click(chromedp.CSS(`a.issue-link`)))
	shot("curation-before", 1100)

	// Exclude.
	navigate("exclude", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#item-%d button[data-action=exclude]`, excluded.ItemID))))
	if cls, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.getElementById("item-%d").className`, excluded.ItemID))); !strings.Contains(cls, "excluded") {
		t.Errorf("excluded item shown as %q", cls)
	}
	// Move "Trao học bổng" (third) up twice: first in its section.
	for i := 0; i < 2; i++ {
		navigate("up", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#item-%d button[data-action=up]`, raised.ItemID))))
	}
	first, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#section-diaspora li.item").id`))
	if first != fmt.Sprintf("item-%d", raised.ItemID) {
		t.Errorf("first diaspora item is %s, want item-%d", first, raised.ItemID)
	}
	// Retitle.
	navigate("retitle",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#item-%d details.edit summary`, retitled.ItemID))),
		chromedp.SendKeys(chromedp.CSS(fmt.Sprintf(`#item-%d input[name=title_vi]`, retitled.ItemID)), newTitle),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#item-%d details.edit button[type=submit]`, retitled.ItemID))),
	)
	// Note.
	navigate("note",
		chromedp.SendKeys(chromedp.CSS(`textarea[name=note_vi]`), note),
		chromedp.Click(chromedp.CSS(`#save-note`)),
	)
	if s := text(".flash"); s != tr("vi", "done.note") {
		t.Errorf("after saving the note the page says %q", s)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
		t.Fatal(err)
	}
	shot("curation", 1100)
	shot("curation", 375)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 900)); err != nil {
		t.Fatal(err)
	}

	// Preview, as a Vietnamese reader of every theme.
	navigate("preview", chromedp.Click(chromedp.CSS(`#preview-link`)))
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#mail-preview`))); err != nil {
		t.Fatal(err)
	}
	pre := text("#text-part")
	for _, want := range []string{note, newTitle, "Trao học bổng"} {
		if !strings.Contains(pre, want) {
			t.Errorf("preview text part lacks %q", want)
		}
	}
	if strings.Contains(pre, "Hội nghị kiều bào") {
		t.Error("preview shows the excluded item")
	}
	// Let the frame render before the picture.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { const f = document.getElementById("mail-preview"); return f && f.getBoundingClientRect().height > 300; })()`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the sandboxed frame's paint; no assertion depends on it
	shot("preview", 1100)
	shot("preview", 375)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 900)); err != nil {
		t.Fatal(err)
	}

	// Approve.
	navigate("back", chromedp.Navigate(e.srv.URL+fmt.Sprintf("/staff/issues/%d", iss.ID)))
	navigate("approve", chromedp.Click(chromedp.CSS(`#approve`)))
	if s := text(".badge.status-approved"); s == "" {
		t.Error("no approved badge after approving")
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#approval-warning").length`)); n != 0 {
		t.Error("the approval warning is still shown")
	}
	shot("approved", 1100)

	// The same page in English.
	navigate("english", chromedp.Navigate(e.srv.URL+fmt.Sprintf("/staff/lang?to=en&back=/staff/issues/%d", iss.ID)))
	if h1 := text("h1"); !strings.HasPrefix(h1, "Issue 1") {
		t.Errorf("English page heading %q", h1)
	}
	shot("approved-en", 1100)
	navigate("vietnamese", chromedp.Navigate(e.srv.URL+fmt.Sprintf("/staff/lang?to=vi&back=/staff/issues/%d", iss.ID)))

	// The layout holds on a phone and a laptop, with readable contrast.
	browsercheck.Check(t, ctx, e.srv.URL+fmt.Sprintf("/staff/issues/%d", iss.ID), dir, "check-issue", []int64{375, 1024})
	browsercheck.Check(t, ctx, e.srv.URL+"/staff/subscribers", dir, "check-subscribers", []int64{375, 1024})

	// Send, and read what the reader got.
	approved := e.issue()
	if approved.Status != digest.StatusApproved {
		t.Fatalf("issue is %s", approved.Status)
	}
	if _, err := e.a.SendIssue(bg, e.d, approved); err != nil {
		t.Fatal(err)
	}
	got := e.smtp.For("lan@example.jp")
	if len(got) != 1 {
		t.Fatalf("%d messages to the subscriber", len(got))
	}
	msg := parsed(t, got[0])
	body := partsOf(t, msg.Header.Get("Content-Type"), msg.Body)
	plain := body
	if i := strings.Index(body, "--- text/html"); i > 0 {
		plain = body[:i]
	}
	for _, want := range []string{note, newTitle} {
		if !strings.Contains(plain, want) || !strings.Contains(body[len(plain):], htmlText(want)) {
			t.Errorf("the sent mail lacks %q in both parts", want)
		}
	}
	if strings.Contains(body, "Hội nghị kiều bào") {
		t.Error("the sent mail has the excluded item")
	}
	if strings.Contains(plain, retitled.Item.Title) {
		t.Error("the sent mail still has the old title")
	}
	a, b := strings.Index(plain, "Trao học bổng"), strings.Index(plain, "Kiều bào Nhật Bản")
	if a < 0 || b < 0 || a > b {
		t.Errorf("order in the sent mail: 'Trao học bổng' at %d, 'Kiều bào Nhật Bản' at %d; want the raised item first", a, b)
	}

	// What was sent, and the feeds, as staff see them afterwards.
	navigate("history", chromedp.Navigate(e.srv.URL+"/staff/history"))
	if s := text(fmt.Sprintf("#hist-%d .sent", iss.ID)); s != "1" {
		t.Errorf("history shows %q sent, want 1", s)
	}
	shot("history", 1100)
	browsercheck.Check(t, ctx, e.srv.URL+"/staff/history", dir, "check-history", []int64{375, 1024})
	browsercheck.Check(t, ctx, e.srv.URL+"/staff/feeds", dir, "check-feeds", []int64{375, 1024})
}

// htmlText is s as html/template writes it in text.
func htmlText(s string) string { return template_escape(s) }
