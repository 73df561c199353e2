package staff

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// browser is a chromium tab of a browser test, with screenshots going to
// dir.
type browser struct {
	t   *testing.T
	ctx context.Context
	dir string
}

// navigate runs actions that load a page and checks it arrived.
func (b browser) navigate(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, steps...)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	if res.Status != 200 {
		b.t.Fatalf("%s: HTTP %d at %s", what, res.Status, res.URL)
	}
}

// text returns the text of the element sel.
func (b browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("%s: %v", sel, err)
	}
	return s
}

// shot saves a full-page screenshot at width (a phone's below 600) as
// dir/name-width.png.
func (b browser) shot(name string, width int64) {
	b.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
	if width < 600 {
		opts = append(opts, chromedp.EmulateMobile)
	}
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(width, 900, opts...)); err != nil {
		b.t.Fatal(err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, fmt.Sprintf("%s-%d.png", name, width)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
