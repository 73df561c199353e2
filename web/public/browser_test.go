package public

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haiphong/hpdigest/digest/render/browsercheck"
	"github.com/haiphong/hpdigest/subscribers"
)

// TestBrowserReaderPages drives the pages in Debian's chromium the way a
// reader does (a real browser's same-origin POSTs must pass the
// cross-origin check), and checks layout and contrast at phone and desktop
// widths.
func TestBrowserReaderPages(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	bctx := browsercheck.Start(t)
	dir := browsercheck.ScreenshotDir(t)
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()
	e := newEnv(t, nil)
	widths := []int64{320, 400, 1024}

	browsercheck.Check(t, ctx, e.url("/subscribe?lang=vi"), dir, "subscribe-vi", widths)
	browsercheck.Check(t, ctx, e.url("/subscribe?lang=en"), dir, "subscribe-en", widths)

	navigate := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		res, err := chromedp.RunResponse(ctx, steps...)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if res.Status != 200 {
			t.Fatalf("%s: HTTP %d at %s", what, res.Status, res.URL)
		}
	}
	heading := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("h1")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	navigate("open the form", chromedp.Navigate(e.url("/subscribe?lang=en")))
	navigate("subscribe",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "Lan.Tran@Example.JP"),
		chromedp.Click(chromedp.CSS(`input[name=language][value=vi]`)),
		chromedp.Click(chromedp.CSS(`input[name=themes][value=diaspora]`)),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
	)
	if h := heading(); h != "Please check your inbox" {
		t.Fatalf("after subscribing: %q", h)
	}
	s := e.sub("lan.tran@example.jp")
	if s.Status != subscribers.Pending || s.Language != "vi" || strings.Join(s.Themes, ",") != "diaspora" || s.Name != "" {
		t.Fatalf("stored %+v", s)
	}

	confirm := e.linkIn(e.waitMails(1)[0], "/confirm/")
	navigate("open the confirmation link", chromedp.Navigate(confirm))
	if s := e.sub("lan.tran@example.jp"); s.Status != subscribers.Pending {
		t.Fatal("opening the link confirmed without the button")
	}
	navigate("confirm", chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	// The page keeps the language the reader picked for the site (cookie),
	// not the language chosen for the digest.
	if h := heading(); h != "Confirmed — thank you!" {
		t.Fatalf("after confirming: %q", h)
	}
	if s := e.sub("lan.tran@example.jp"); s.Status != subscribers.Confirmed {
		t.Fatalf("status %s", s.Status)
	}

	navigate("preferences", chromedp.Click(chromedp.CSS(`a[href*="/preferences/"]`)))
	prefsURL, _ := chromedp.Run(ctx, chromedp.Location())
	browsercheck.Check(t, ctx, prefsURL, dir, "preferences-en", widths)
	navigate("pause",
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Trần Thị Lan"),
		chromedp.Click(chromedp.CSS(`input[name=paused]`)),
		chromedp.Click(chromedp.CSS(`input[name=themes][value=fdi]`)),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
	)
	if note, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(".note"))); note != "Your changes are saved." {
		t.Fatalf("after saving: %q", note)
	}
	if s := e.sub("lan.tran@example.jp"); !s.Paused || strings.Join(s.Themes, ",") != "diaspora,fdi" || s.Name != "Trần Thị Lan" {
		t.Fatalf("saved %+v", s)
	}

	unsub := e.url("/unsubscribe/" + e.tokens.Sign(subscribers.PurposeUnsubscribe, s.ID))
	navigate("open the unsubscribe link", chromedp.Navigate(unsub))
	if s := e.sub("lan.tran@example.jp"); s.Status != subscribers.Confirmed {
		t.Fatal("opening the unsubscribe link unsubscribed")
	}
	navigate("unsubscribe", chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	if h := heading(); h != "You are unsubscribed" {
		t.Fatalf("after unsubscribing: %q", h)
	}
	if s := e.sub("lan.tran@example.jp"); s.Status != subscribers.Unsubscribed {
		t.Fatalf("status %s", s.Status)
	}
}
