package staff

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/haiphong/hpdigest/digest/render/browsercheck"
)

var tableRow = regexp.MustCompile(`<tr><th scope="row">([^<]*)</th>((?:<td class="num">[^<]*</td>)+)</tr>`)
var cell = regexp.MustCompile(`<td class="num">([^<]*)</td>`)

// figure returns the HTML of one chart's figure in a page.
func figure(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `<figure class="card chart" id="`+id+`">`)
	if i < 0 {
		t.Fatalf("no chart %s in the page", id)
	}
	j := strings.Index(page[i:], "</figure>")
	return page[i : i+j]
}

// tableOf reads a chart's table: label → values.
func tableOf(t *testing.T, fig string) (labels []string, values [][]int) {
	t.Helper()
	for _, m := range tableRow.FindAllStringSubmatch(fig, -1) {
		labels = append(labels, m[1])
		var row []int
		for _, c := range cell.FindAllStringSubmatch(m[2], -1) {
			n, err := strconv.Atoi(strings.NewReplacer(".", "", ",", "").Replace(c[1]))
			if err != nil {
				t.Fatalf("cell %q", c[1])
			}
			row = append(row, n)
		}
		values = append(values, row)
	}
	return labels, values
}

// The overview and history charts say what the owning packages count: the
// readers now, the zones adding up to them, the newest issue's outbox. Each
// has a title, a description and a table, and its picture names them.
func TestChartsShowWhatIsCounted(t *testing.T) {
	e := newEnv(t, envOpts{})
	fillHistory(t, e.a.DB, 3000, 30, time.Now())
	ctx := context.Background()
	counts, err := e.a.Subscribers.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := e.a.DB.QueryRow(`SELECT COUNT(*) FROM subscribers WHERE status = 'confirmed'`).Scan(&rows); err != nil || rows != counts["confirmed"] {
		t.Fatalf("tallies say %d confirmed, the rows %d (%v)", counts["confirmed"], rows, err)
	}
	c := e.client()
	c.login(aliceEmail, password)
	c.get("/staff/lang?to=en&back=/staff/")
	page := c.get("/staff/").body
	for _, id := range []string{"chart-readers", "chart-leaving", "chart-zones", "chart-feeds"} {
		fig := figure(t, page, id)
		for _, want := range []string{`id="` + id + `-title"`, `id="` + id + `-desc"`, `role="img" aria-labelledby="` + id + `-title ` + id + `-desc"`, "<table", "<caption"} {
			if !strings.Contains(fig, want) {
				t.Errorf("%s lacks %s", id, want)
			}
		}
	}
	readers := figure(t, page, "chart-readers")
	if want := fmt.Sprintf("Now %s (", numbers("en").Sprintf("%d", counts["confirmed"])); !strings.Contains(readers, want) {
		t.Errorf("readers chart does not say %q:\n%s", want, readers)
	}
	labels, values := tableOf(t, readers)
	if len(labels) != readerWeeks || values[len(values)-1][0]+values[len(values)-1][1] != counts["confirmed"] {
		t.Errorf("readers table: %d weeks, last %v; %d confirmed", len(labels), values[len(values)-1], counts["confirmed"])
	}
	if values[0][0]+values[0][1] >= counts["confirmed"] {
		t.Errorf("the list did not grow: %v then %v", values[0], values[len(values)-1])
	}
	_, zones := tableOf(t, figure(t, page, "chart-zones"))
	sum := 0
	for _, z := range zones {
		sum += z[0]
	}
	if sum != counts["confirmed"] || len(zones) != zonesShown+1 {
		t.Errorf("zones add up to %d in %d rows, want %d in %d", sum, len(zones), counts["confirmed"], zonesShown+1)
	}

	hist := c.get("/staff/history").body
	labels, values = tableOf(t, figure(t, hist, "chart-sends"))
	var sent, failed int
	e.a.DB.QueryRow(`SELECT SUM(state = 'sent'), SUM(state = 'failed') FROM deliveries WHERE issue_id = (SELECT MAX(issue_id) FROM deliveries)`).Scan(&sent, &failed)
	if len(labels) != issuesShown || values[len(values)-1][0] != sent || values[len(values)-1][1] != failed {
		t.Errorf("sends: %d issues, last %v; outbox has %d sent, %d failed", len(labels), values[len(values)-1], sent, failed)
	}
	if _, v := tableOf(t, figure(t, hist, "chart-after")); len(v) != issuesShown || len(v[0]) != 3 {
		t.Errorf("aftermath table %v", v)
	}
	if l, v := tableOf(t, figure(t, hist, "chart-themes")); len(l) != themeWeeks || len(v[0]) != 4 {
		t.Errorf("themes table %v %v", l, v)
	}
}

// The overview and history pages with their charts, on a phone and a
// laptop, in light and dark mode: no overflow, readable contrast; the
// screenshots are kept in $HPDIGEST_SCREENSHOTS.
func TestBrowserCharts(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	bctx := browsercheck.Start(t)
	dir := browsercheck.ScreenshotDir(t)
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()
	feed, _ := investorsFeed(t)
	e := newEnv(t, envOpts{extraConfig: fmt.Sprintf("\n[[feeds]]\nname = \"Báo Hải Phòng\"\nurl = %q\nlanguage = \"vi\"\nallow_private = true\n", feed.URL)})
	fillHistory(t, e.a.DB, 3000, 30, time.Now())
	// Decisions for the Themes page to learn from.
	for _, title := range []string{"LG Display mở rộng", "LG Display tuyển", "dây chuyền OLED"} {
		iss := e.issue()
		if err := e.a.Digests.MoveItem(ctx, iss.ID, iss.Version, findItem(t, iss, title).ItemID, "fdi"); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.srv.URL+"/staff/login")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.SendKeys(chromedp.CSS(`input[name=email]`), aliceEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`))); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"vi", "en"} {
		if _, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.srv.URL+"/staff/lang?to="+lang+"&back=/staff/")); err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct{ path, name string }{{"/staff/", "overview"}, {"/staff/history", "history"}} {
			browsercheck.Check(t, ctx, e.srv.URL+p.path, dir, "charts-"+p.name+"-"+lang, []int64{375, 1024})
			// One picture per chart is shown at each width, with its name.
			n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("figure.chart svg[role=img]")].filter(s => s.getBoundingClientRect().height > 50).length`))
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int{"overview": 4, "history": 3}[p.name]; n != want {
				t.Errorf("%s (%s): %d charts visible, want %d", p.name, lang, n, want)
			}
		}
	}
	// The numbers behind a chart, opened, are readable too.
	if _, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.srv.URL+"/staff/history")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details.numbers").forEach(d => d.open = true)`)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "charts-history-tables.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	browsercheck.Check(t, ctx, e.srv.URL+"/staff/themes", dir, "themes", []int64{375, 1024})
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("li.suggestion button").length`)); n == 0 {
		t.Error("the Themes page shows no suggestion to add")
	}
}
