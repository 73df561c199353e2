// Package browsercheck drives Debian's chromium (via chromedp) for tests of
// the email and web pages: it loads a page at several widths in light and
// dark mode, fails on horizontal overflow or text below 4.5:1 contrast, and
// saves full-page screenshots. Only tests import it.
package browsercheck

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/haiphong/hpdigest/internal/testneed"
)

const chromiumPath = "/usr/bin/chromium"

// Start starts Debian's chromium headless, isolated from the network but
// for loopback. It skips when chromium is missing or in -short mode,
// unless CI is set.
func Start(t testing.TB) context.Context {
	t.Helper()
	if testing.Short() && !testneed.CI() {
		t.Skip("browser check skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		testneed.Skip(t, "chromium not installed (%v); apt-get install -y chromium", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		// Any host name fails to resolve: a page that links a remote
		// resource cannot make the test reach outside loopback.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// ScreenshotDir is where screenshots go: $HPDIGEST_SCREENSHOTS (kept) or a
// temporary folder.
func ScreenshotDir(t testing.TB) string {
	dir := os.Getenv("HPDIGEST_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

type layout struct {
	ScrollWidth, InnerWidth int
	Offenders               []string
}

// overflowJS measures horizontal overflow and names the widest elements.
const overflowJS = `(() => {
  const w = window.innerWidth, off = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > w + 0.5) off.push(el.tagName + '.' + el.className + ' right=' + Math.round(r.right));
  }
  return {ScrollWidth: document.documentElement.scrollWidth, InnerWidth: w, Offenders: off.slice(0, 5)};
})()`

type contrast struct {
	Checked int
	Bad     []string
}

// contrastJS computes the WCAG contrast of every visible text against the
// nearest opaque background behind it.
const contrastJS = `(() => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(parseFloat); return {r:p[0], g:p[1], b:p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0.5) return c; } return {r:255, g:255, b:255, a:1}; };
  const bad = []; let checked = 0;
  for (const el of document.body.querySelectorAll('*')) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim() !== '')) continue;
    const cs = getComputedStyle(el);
    if (el.getClientRects().length === 0 || cs.visibility === 'hidden' || parseFloat(cs.opacity) === 0) continue;
    const fg = parse(cs.color), b = bg(el);
    const l1 = lum(fg), l2 = lum(b), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    checked++;
    if (ratio < 4.5) bad.push(el.tagName + ' "' + el.textContent.trim().slice(0, 40) + '" ' + cs.color + ' on ' + JSON.stringify(b) + ': ' + ratio.toFixed(2));
  }
  return {Checked: checked, Bad: bad};
})()`

// Check loads url at each width (and in light and dark mode), saves
// full-page screenshots as dir/name-WIDTH-SCHEME.png, and fails on
// horizontal overflow or text below 4.5:1 contrast.
func Check(t testing.TB, ctx context.Context, url, dir, name string, widths []int64) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	for _, scheme := range []string{"light", "dark"} {
		media := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		})
		for _, w := range widths {
			opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
			if w < 600 {
				opts = append(opts, chromedp.EmulateMobile)
			}
			if err := chromedp.Do(ctx, media, chromedp.EmulateViewport(w, 800, opts...)); err != nil {
				t.Fatal(err)
			}
			lay, err := chromedp.Run(ctx, chromedp.Evaluate[layout](overflowJS))
			if err != nil {
				t.Fatal(err)
			}
			if lay.InnerWidth != int(w) || lay.ScrollWidth > lay.InnerWidth {
				// A phone widens its layout viewport when content is too wide.
				t.Errorf("%s at %dpx (%s): overflows horizontally: scrollWidth %d, innerWidth %d; widest: %v", name, w, scheme, lay.ScrollWidth, lay.InnerWidth, lay.Offenders)
			}
			con, err := chromedp.Run(ctx, chromedp.Evaluate[contrast](contrastJS))
			if err != nil {
				t.Fatal(err)
			}
			if con.Checked < 10 || len(con.Bad) > 0 {
				t.Errorf("%s at %dpx (%s): %d texts checked, below 4.5:1: %v", name, w, scheme, con.Checked, con.Bad)
			}
			if w == 320 {
				continue // checked, not worth a picture
			}
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, fmt.Sprintf("%s-%d-%s.png", name, w, scheme))
			if err := os.WriteFile(file, shot, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Photo is a generated 1200×800 picture served in place of the feeds'
// images, so that the browser never leaves loopback.
var Photo = sync.OnceValue(func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 600, 400))
	for y := 0; y < 400; y++ {
		for x := 0; x < 600; x++ {
			sea := uint8(90 + y/4)
			img.Set(x, y, color.RGBA{uint8(20 + x/8), uint8(70 + y/6), sea, 255})
			if y > 260+(x%97)/8 { // a shore
				img.Set(x, y, color.RGBA{uint8(160 + x/12), uint8(130 + y/20), 90, 255})
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
})
