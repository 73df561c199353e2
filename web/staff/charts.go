package staff

import (
	"context"
	"fmt"
	"html/template"
	"sort"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/web/staff/chart"
)

// Spans of the charts.
const (
	readerWeeks = 26 // readers over time
	feedDays    = 30 // feed health
	issuesShown = 12 // per-issue charts
	themeWeeks  = 12 // items per theme
	zonesShown  = 7  // time zones named; the rest are summed
	// afterIssue is how long after a send bounces, complaints and
	// unsubscribes are counted for it.
	afterIssue = 7 * 24 * time.Hour
)

// chartView is a chart as a page shows it: two pictures (wide for laptops,
// narrow for phones; CSS shows one), the legend and the numbers.
type chartView struct {
	*chart.Chart
	Wide, Narrow template.HTML
	Head         []string
	Rows         [][]string
}

// view draws c for the page; labelHeading heads the table's first column.
func view(c *chart.Chart, labelHeading string) chartView {
	v := chartView{Chart: c, Wide: c.SVG(900, 280, 13), Narrow: c.SVG(360, 240, 5)}
	if c.Kind == chart.HBars {
		v.Wide, v.Narrow = c.SVG(900, 8+26*len(c.Labels), 0), c.SVG(360, 8+28*len(c.Labels), 0)
	}
	v.Head, v.Rows = c.Table(labelHeading)
	return v
}

// numbers formats counts and rates the way readers of lang write them
// (1.234.567 and 0,25 in Vietnamese).
func numbers(lang string) *message.Printer {
	if lang == "en" {
		return message.NewPrinter(language.English)
	}
	return message.NewPrinter(language.Vietnamese)
}

func (h *Handler) count(lang string) func(float64) string {
	p := numbers(lang)
	return func(v float64) string { return p.Sprintf("%d", int64(v)) }
}

// shortDate labels an axis: 02/01 or 2 Jan.
func shortDate(lang string, t time.Time) string {
	if lang == "en" {
		return t.Format("2 Jan")
	}
	return t.Format("02/01")
}

// ---- overview ----

// overviewCharts: readers over time by language, unsubscribes and
// bounces, readers by time zone, feed health.
func (h *Handler) overviewCharts(ctx context.Context, lang string) ([]chartView, error) {
	now := h.now()
	count := h.count(lang)
	var out []chartView

	weeks, err := h.a.Subscribers.ReadersByWeek(ctx, now, readerWeeks)
	if err != nil {
		return nil, err
	}
	readers := &chart.Chart{ID: "chart-readers", Kind: chart.Lines, Format: count, Title: h.tr(lang, "chart.readers.title")}
	leaving := &chart.Chart{ID: "chart-leaving", Kind: chart.Bars, Format: count, Title: h.tr(lang, "chart.leaving.title"), Colours: []int{3, 1}}
	vi := chart.Series{Name: h.tr(lang, "chart.readers.vi")}
	en := chart.Series{Name: h.tr(lang, "chart.readers.en")}
	unsub := chart.Series{Name: h.tr(lang, "chart.unsubscribed")}
	bounced := chart.Series{Name: h.tr(lang, "chart.bounced")}
	var totalUnsub, totalBounced int
	for _, w := range weeks {
		label := shortDate(lang, w.End)
		readers.Labels = append(readers.Labels, label)
		leaving.Labels = append(leaving.Labels, label)
		vi.Values = append(vi.Values, float64(w.Confirmed["vi"]))
		en.Values = append(en.Values, float64(w.Confirmed["en"]))
		unsub.Values = append(unsub.Values, float64(w.Unsubscribed))
		bounced.Values = append(bounced.Values, float64(w.Bounced))
		totalUnsub += w.Unsubscribed
		totalBounced += w.Bounced
	}
	readers.Series = []chart.Series{vi, en}
	leaving.Series = []chart.Series{unsub, bounced}
	if n := len(weeks); n > 0 {
		last, first := weeks[n-1], weeks[0]
		readers.Description = h.tr(lang, "chart.readers.desc",
			"total", count(float64(last.Confirmed["vi"]+last.Confirmed["en"])),
			"vi", count(float64(last.Confirmed["vi"])), "en", count(float64(last.Confirmed["en"])),
			"weeks", n, "before", count(float64(first.Confirmed["vi"]+first.Confirmed["en"])))
		leaving.Description = h.tr(lang, "chart.leaving.desc", "weeks", n, "unsub", count(float64(totalUnsub)), "bounced", count(float64(totalBounced)))
	}
	week := h.tr(lang, "chart.week")
	out = append(out, view(readers, week), view(leaving, week))

	zones, err := h.a.Subscribers.ReadersByTimezone(ctx)
	if err != nil {
		return nil, err
	}
	byZone := &chart.Chart{ID: "chart-zones", Kind: chart.HBars, Format: count, Title: h.tr(lang, "chart.zones.title"), Colours: []int{0}}
	zs := chart.Series{Name: h.tr(lang, "chart.readers.count")}
	total, others := 0, 0
	for i, z := range zones {
		total += z.Readers
		if i >= zonesShown {
			others += z.Readers
			continue
		}
		name := z.Timezone
		if name == "" {
			name = h.tr(lang, "chart.zones.none", "zone", h.a.Cfg().Subscribers.DefaultTimezone)
		}
		byZone.Labels = append(byZone.Labels, name)
		zs.Values = append(zs.Values, float64(z.Readers))
	}
	if others > 0 {
		byZone.Labels = append(byZone.Labels, h.tr(lang, "chart.zones.others"))
		zs.Values = append(zs.Values, float64(others))
	}
	byZone.Series = []chart.Series{zs}
	if len(zones) > 0 {
		byZone.Description = h.tr(lang, "chart.zones.desc", "top", byZone.Labels[0], "n", count(zs.Values[0]), "total", count(float64(total)))
	}
	out = append(out, view(byZone, h.tr(lang, "chart.zone")))

	days, err := h.a.Feeds.FetchHistory(ctx, now, feedDays)
	if err != nil {
		return nil, err
	}
	health := &chart.Chart{ID: "chart-feeds", Kind: chart.Stacked, Format: count, Title: h.tr(lang, "chart.feeds.title"), Colours: []int{2, 1}}
	ok := chart.Series{Name: h.tr(lang, "chart.feeds.ok")}
	failed := chart.Series{Name: h.tr(lang, "chart.feeds.failed")}
	var okN, failedN, badDays int
	for _, d := range days {
		health.Labels = append(health.Labels, shortDate(lang, d.Day))
		ok.Values = append(ok.Values, float64(d.OK))
		failed.Values = append(failed.Values, float64(d.Failed))
		okN += d.OK
		failedN += d.Failed
		if d.Failed > 0 {
			badDays++
		}
	}
	health.Series = []chart.Series{ok, failed}
	health.Description = h.tr(lang, "chart.feeds.desc", "ok", count(float64(okN)), "failed", count(float64(failedN)), "days", badDays)
	out = append(out, view(health, h.tr(lang, "chart.day")))
	return out, nil
}

// ---- history ----

// issueOutcome is what happened to one sent issue.
type issueOutcome struct {
	Issue                            *digest.Issue
	Sent, Failed                     int
	Bounced, Complained, Unsubscribe int // in the week after the send
}

// historyCharts: sent and failed per issue, bounces, complaints and
// unsubscribes in the week after each, and items per theme per week.
// issues are the sent issues, newest first, and totals their outbox
// counts.
func (h *Handler) historyCharts(ctx context.Context, lang string, issues []*digest.Issue, totals map[int64]deliver.Totals) ([]chartView, error) {
	count := h.count(lang)
	if len(issues) > issuesShown {
		issues = issues[:issuesShown]
	}
	var outcomes []issueOutcome
	for i := len(issues) - 1; i >= 0; i-- { // oldest first
		iss := issues[i]
		t := totals[iss.ID]
		after, err := h.a.Subscribers.AftermathBetween(ctx, iss.SendingAt, iss.SendingAt.Add(afterIssue))
		if err != nil {
			return nil, err
		}
		outcomes = append(outcomes, issueOutcome{Issue: iss, Sent: t.Sent, Failed: t.Failed,
			Bounced: after.Bounced, Complained: after.Complained, Unsubscribe: after.Unsubscribed})
	}
	sends := &chart.Chart{ID: "chart-sends", Kind: chart.Stacked, Format: count, Title: h.tr(lang, "chart.sends.title"), Colours: []int{0, 1}}
	after := &chart.Chart{ID: "chart-after", Kind: chart.Bars, Format: count, Title: h.tr(lang, "chart.after.title"), Colours: []int{1, 4, 3}}
	series := make([]chart.Series, 5)
	for i, k := range []string{"chart.sent", "chart.failed", "chart.bounced", "chart.complained", "chart.unsubscribed"} {
		series[i].Name = h.tr(lang, k)
	}
	for _, o := range outcomes {
		label := "#" + fmt.Sprint(o.Issue.Number)
		sends.Labels = append(sends.Labels, label)
		after.Labels = append(after.Labels, label)
		for i, v := range []int{o.Sent, o.Failed, o.Bounced, o.Complained, o.Unsubscribe} {
			series[i].Values = append(series[i].Values, float64(v))
		}
	}
	sends.Series, after.Series = series[:2], series[2:]
	if n := len(outcomes); n > 0 {
		last := outcomes[n-1]
		sends.Description = h.tr(lang, "chart.sends.desc", "issues", n, "number", last.Issue.Number, "sent", count(float64(last.Sent)), "failed", count(float64(last.Failed)))
		rate := 0.0
		if last.Sent > 0 {
			rate = 100 * float64(last.Complained) / float64(last.Sent)
		}
		after.Description = h.tr(lang, "chart.after.desc", "number", last.Issue.Number, "bounced", count(float64(last.Bounced)),
			"complained", count(float64(last.Complained)), "unsub", count(float64(last.Unsubscribe)), "rate", numbers(lang).Sprintf("%.2f", rate))
	}
	issue := h.tr(lang, "chart.issue")
	out := []chartView{view(sends, issue), view(after, issue)}

	d, ok := h.a.Cfg().Digest("")
	if !ok {
		return out, nil
	}
	weeks, err := h.a.Digests.ThemeWeeks(ctx, d.Key, h.now(), themeWeeks)
	if err != nil {
		return nil, err
	}
	perTheme := &chart.Chart{ID: "chart-themes", Kind: chart.Stacked, Format: count, Title: h.tr(lang, "chart.themes.title")}
	sections := append(append([]string(nil), d.Themes...), theme.Other)
	sums := map[string]int{}
	for _, key := range sections {
		s := chart.Series{Name: h.themeName(lang, key)}
		for _, w := range weeks {
			s.Values = append(s.Values, float64(w.Included[key]))
			sums[key] += w.Included[key]
		}
		perTheme.Series = append(perTheme.Series, s)
	}
	for _, w := range weeks {
		perTheme.Labels = append(perTheme.Labels, shortDate(lang, w.End))
	}
	order := append([]string(nil), sections...)
	sort.SliceStable(order, func(a, b int) bool { return sums[order[a]] > sums[order[b]] })
	total := 0
	for _, n := range sums {
		total += n
	}
	perTheme.Description = h.tr(lang, "chart.themes.desc", "weeks", len(weeks), "total", count(float64(total)),
		"theme", h.themeName(lang, order[0]), "n", count(float64(sums[order[0]])))
	out = append(out, view(perTheme, h.tr(lang, "chart.week")))
	return out, nil
}
