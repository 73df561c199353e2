package staff

import (
	"fmt"
	"io"
	"time"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/subscribers"
	"github.com/haiphong/hpdigest/web/staff/chart"
)

// selfTest runs every page template once per language on sample data, so
// that an override that names an unknown field or calls a function wrongly
// stops the daemon at start-up, naming its file and line, instead of
// failing on an editor's first request.
func (h *Handler) selfTest(lk *look) error {
	for lang, pages := range lk.pages {
		for name, t := range pages {
			for _, p := range h.samplePages(name) {
				p.Lang, p.OtherLang, p.Path = lang, "en", h.prefix+"/"
				if err := t.ExecuteTemplate(io.Discard, "layout", p); err != nil {
					return fmt.Errorf("staff: template web/staff/%s.page.tmpl (%s, sample data): %w", name, lang, err)
				}
			}
		}
	}
	return nil
}

// samplePages are the pages a template is tried with: every optional part
// shown, and the bare page (the login and error pages also without an
// account).
func (h *Handler) samplePages(name string) []page {
	acct := &account{ID: 1, Email: "editor@example.org", Name: "Biên tập viên"}
	full := page{Title: "T", Nav: name, Account: acct, CSRF: "csrf", Flash: "flash", Error: "error"}
	bare := page{Title: "T", Account: acct} // pages behind the login always have an account
	d := h.sampleDigest()
	iss := sampleIssue(d)
	view := h.sampleIssueView(d, iss)
	c := sampleChart()
	switch name {
	case "dashboard":
		full.Data = dashboardData{Digests: []digestCard{{Digest: d, Loc: d.Location(), Issue: iss, View: view, NextDraft: iss.CreatedAt},
			{Digest: d, Loc: d.Location(), NoOpenIssue: true}}, FeedsFailing: 1,
			Counts: map[string]int{subscribers.Confirmed: 3, subscribers.Pending: 1}, Charts: []chartView{c}}
		bare.Data = dashboardData{}
	case "issue":
		full.Data = view
		bare.Data = &issueView{Digest: d, Issue: &digest.Issue{Digest: d.Key, Status: digest.StatusSent}, Loc: d.Location()}
	case "history":
		full.Data = historyData{Rows: []historyRow{{Issue: iss, Digest: d, Loc: d.Location(), Totals: deliver.Totals{Total: 3, Sent: 2, Failed: 1, Rejected: 1},
			Bounced: 1, Unsubscribed: 1, WebURL: "/issues/1"}}, Charts: []chartView{c},
			Skipped: []skippedRow{{SkippedSend: digest.SkippedSend{Digest: d.Key, TickAt: iss.CreatedAt, Issue: 1, Reason: digest.SkipRunning}, Loc: d.Location()}}}
		bare.Data = historyData{}
	case "subscribers":
		sub := sampleSubscriber()
		rep := &subscribers.ImportReport{Added: 1, Rejected: 2, Problems: []subscribers.LineError{{Line: 3, Err: fmt.Errorf("bad address")}},
			SkippedLines: []subscribers.LineError{{Line: 4, Err: fmt.Errorf("repeated")}}, Lines: 4}
		full.Data = subscribersData{Query: "q", Status: subscribers.Confirmed, Statuses: []string{subscribers.Confirmed, subscribers.Pending},
			Counts: map[string]int{subscribers.Confirmed: 1}, Rows: []subscribers.Subscriber{sub}, Matched: 1, First: 1, Last: 1, Prev: "/staff/subscribers?page=1", Report: rep, ImportError: "error",
			Importing: []importView{{File: "a.csv", Who: "Lan", ImportProgress: subscribers.ImportProgress{Lines: 10, Added: 9}}}}
		bare.Data = subscribersData{}
	case "subscriber":
		full.Data = subscriberData{Sub: sampleSubscriber(), Events: []subscribers.Event{{Kind: subscribers.EventBounce, Detail: "550", At: iss.CreatedAt}}}
		bare.Data = subscriberData{}
	case "feeds":
		at := iss.CreatedAt
		full.Data = []feeds.FeedHealth{{ID: 1, Name: "Cổng TTĐT", URL: "https://example.org/rss", Enabled: true, LastFetchAt: at, LastSuccessAt: at, NextFetchAt: at, ItemCount: 3},
			{ID: 2, Name: "Báo", URL: "https://example.org/b", ErrorCount: 3, LastError: "HTTP 500", DisabledReason: "errors"}}
		bare.Data = []feeds.FeedHealth(nil)
	case "preview":
		full.Data = previewData{Digest: d, Issue: iss, Choice: previewChoice{Lang: "vi", Themes: d.Themes, All: true}, Subject: "S", Items: 1, Text: "text", Size: 1000}
		bare.Data = previewData{Digest: d, Issue: iss, Choice: previewChoice{Lang: "en"}}
	case "themes":
		full.Data = themesData{Rows: []themeRow{{Key: d.Themes[0], Name: "N", Phrases: 2,
			Added: []theme.AddedPhrase{{Theme: d.Themes[0], Text: "kiều bào", Weight: 1, AddedBy: "Lan", AddedAt: iss.CreatedAt}},
			Stats: theme.Stats{Key: d.Themes[0], TP: 3, FP: 1, FN: 1, Precision: 0.75, Recall: 0.75, F1: 0.75}, Labelled: 5}},
			Labelled: 5, Suggestions: []suggestionView{{Suggestion: theme.Suggestion{Theme: d.Themes[0], Phrase: theme.Phrase{Text: "việt kiều", Weight: 1},
				Items: 3, Missed: 1, Before: 0.5, After: 0.7, MacroBefore: 0.5, MacroAfter: 0.6}, Name: "N"}}, RulesFile: "rules.toml"}
		bare.Data = themesData{}
	case "login", "error":
		full.Account, bare.Account, bare.CSRF = nil, nil, "csrf"
		full.Data = loginData{Email: "a@example.org", Next: h.prefix + "/"}
		bare.Data = loginData{}
	}
	return []page{full, bare}
}

// sampleDigest is the first configured digest, or one with defaults.
func (h *Handler) sampleDigest() digest.Digest {
	if d, ok := h.a.Cfg().Digest(""); ok {
		return d
	}
	return h.shownDigest("weekly")
}

func sampleIssue(d digest.Digest) *digest.Issue {
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	section := theme.Other
	if len(d.Themes) > 0 {
		section = d.Themes[0]
	}
	item := func(id int64, included bool, by string) digest.IssueItem {
		return digest.IssueItem{ItemID: id, Theme: section, Position: int(id), Included: included, ExcludedBy: by, TitleVI: "Tiêu đề",
			CarriedFrom: 1, UpdateOf: 1, UpdateIn: 1,
			Item: feeds.Item{ID: id, FeedName: "Cổng TTĐT", URL: "https://example.org/a", Title: "Title", SummaryText: "Summary",
				ImageURL: "https://example.org/a.jpg", Language: "vi", PublishedAt: at, FirstSeenAt: at},
			Class: digest.Classification{Themes: []string{section}}}
	}
	return &digest.Issue{ID: 1, Digest: d.Key, Number: 1, Status: digest.StatusDraft, PeriodStart: at, PeriodEnd: at, CreatedAt: at, UpdatedAt: at,
		ApprovedAt: at, ApprovedBy: "Lan", ScheduledAt: at, SendingAt: at, SentAt: at, NoteVI: "Ghi chú", NoteEN: "Note", Version: 1, IncludedCount: 1,
		Items: []digest.IssueItem{item(1, true, ""), item(2, false, digest.ExcludedByStaff)}}
}

func (h *Handler) sampleIssueView(d digest.Digest, iss *digest.Issue) *issueView {
	v := &issueView{Digest: d, Issue: iss, Loc: d.Location(), Themes: append(append([]string(nil), d.Themes...), theme.Other),
		SendAt: iss.CreatedAt, Rescheduled: true, NeedsApproval: true, Missed: iss.CreatedAt, AutoSend: true, Editable: true,
		ScheduleValue: "2026-11-20T08:00", NoteVI: iss.NoteVI, NoteEN: iss.NoteEN, AddURL: "https://example.org/a",
		Audit:    []auditEntry{{At: iss.CreatedAt, Email: "a@example.org", Action: "approve", IssueID: 1, Detail: "d"}},
		Delivery: &deliver.Summary{IssueID: 1, Total: 3, Sent: 1, Pending: 1, Retry: 1},
		Kept:     map[int64]keptEdit{1: {TitleVI: "t"}}}
	for _, sec := range iss.Sections(d.Themes) {
		sv := sectionView{Theme: sec.Theme, Total: len(sec.Items)}
		for i, it := range sec.Items {
			sv.Items = append(sv.Items, itemView{IssueItem: it, First: i == 0, Last: i == len(sec.Items)-1, Edited: true, Date: it.Item.PublishedAt})
		}
		v.Sections = append(v.Sections, sv)
	}
	return v
}

func sampleSubscriber() subscribers.Subscriber {
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	return subscribers.Subscriber{ID: 1, Email: "reader@example.org", Name: "Reader", Language: "vi", Themes: []string{"fdi"},
		Status: subscribers.Confirmed, Timezone: "Asia/Tokyo", Paused: true, BounceCount: 1, CreatedAt: at, UpdatedAt: at, ConfirmedAt: at, StatusAt: at}
}

func sampleChart() chartView {
	return view(&chart.Chart{ID: "sample", Title: "T", Description: "D", Kind: chart.Lines, Labels: []string{"a", "b"},
		Series: []chart.Series{{Name: "x", Values: []float64{1, 2}}, {Name: "y", Values: []float64{2, 1}}}}, "label")
}
