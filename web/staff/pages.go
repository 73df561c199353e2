package staff

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/subscribers"
)

func (h *Handler) testTimeout() time.Duration {
	if t := h.a.Cfg().SMTP.Timeout; t > 0 {
		return 2 * t
	}
	return time.Minute
}

// ---- history ----

type historyRow struct {
	Issue                 *digest.Issue
	Digest                digest.Digest
	Loc                   *time.Location
	Totals                deliver.Totals
	Bounced, Unsubscribed int
	WebURL                string
	Deliverability
}

type historyData struct {
	Rows     []historyRow
	Warnings []historyRow // issues whose complaint or hard bounce rate is past its limit
	Charts   []chartView
	Skipped  []skippedRow // scheduled sends that made no new issue, newest first
}

// Mailbox providers' limits for bulk senders: a complaint rate above 0.1%
// (Gmail's recommended ceiling; 0.3% is where it starts refusing) and hard
// bounces above 2% put a list on the way to the spam folder.
const (
	complaintRateLimit  = 0.001
	hardBounceRateLimit = 0.02
)

// Deliverability is what came back about one issue: hard bounces (5xx at
// RCPT, and later DSNs), soft bounces and spam complaints, each delivery
// counted once, and their rates.
type Deliverability struct {
	Hard, Soft, Complaints            int
	HardRate, SoftRate, ComplaintRate float64 // of the messages the relays took or refused
	HardWarn, ComplaintWarn           bool
}

func deliverability(t deliver.Totals, o deliver.OutcomeCounts) Deliverability {
	d := Deliverability{Hard: t.Rejected + o.HardBounces, Soft: o.SoftBounces, Complaints: o.Complaints}
	if attempted := t.Sent + t.Rejected; attempted > 0 {
		d.HardRate = float64(d.Hard) / float64(attempted)
		d.SoftRate = float64(d.Soft) / float64(attempted)
	}
	if t.Sent > 0 {
		d.ComplaintRate = float64(d.Complaints) / float64(t.Sent)
	}
	d.HardWarn = d.HardRate > hardBounceRateLimit
	d.ComplaintWarn = d.ComplaintRate > complaintRateLimit
	return d
}

type skippedRow struct {
	digest.SkippedSend
	Loc *time.Location
}

func (h *Handler) history(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	all, err := h.a.Digests.Issues(ctx, "", "")
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	var sent []*digest.Issue
	var ids []int64
	for _, iss := range all {
		if iss.Status == digest.StatusSent || iss.Status == digest.StatusSending {
			sent = append(sent, iss)
			ids = append(ids, iss.ID)
		}
	}
	totals, err := h.a.Engine.IssueTotals(ctx, ids)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	outcomes, err := h.a.Engine.IssueOutcomes(ctx, ids)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	var data historyData
	// Issues come newest first; "unsubscribed after" an issue counts by
	// day, from the day it went out to the day before the next issue of the
	// same digest (the newest: up to today).
	nextStart := map[string]time.Time{}
	for _, iss := range sent {
		d, ok := h.a.Cfg().Digest(iss.Digest)
		if !ok {
			d = digest.Digest{Key: iss.Digest, Timezone: h.a.Cfg().Timezone}
		}
		row := historyRow{Issue: iss, Digest: d, Loc: d.Location(), WebURL: fmt.Sprintf("%s/issues/%d", strings.TrimSuffix(h.prefix, "/staff"), iss.ID), Totals: totals[iss.ID]}
		row.Deliverability = deliverability(row.Totals, outcomes[iss.ID])
		row.Bounced = row.Hard
		end, ok := nextStart[iss.Digest]
		if !ok {
			end = h.now().Add(24 * time.Hour)
		}
		after, err := h.a.Subscribers.AftermathBetween(ctx, iss.SendingAt, end)
		if err != nil {
			h.internal(w, r, s, err)
			return
		}
		row.Unsubscribed = after.Unsubscribed + after.Complained
		nextStart[iss.Digest] = iss.SendingAt
		data.Rows = append(data.Rows, row)
		if row.HardWarn || row.ComplaintWarn {
			data.Warnings = append(data.Warnings, row)
		}
	}
	if !h.noCharts {
		if data.Charts, err = h.historyCharts(ctx, h.lang(r), sent, totals); err != nil {
			h.internal(w, r, s, err)
			return
		}
	}
	skipped, err := h.a.Digests.SkippedSends(ctx, "", 50)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	for _, sk := range skipped {
		d, ok := h.a.Cfg().Digest(sk.Digest)
		if !ok {
			d = digest.Digest{Key: sk.Digest, Timezone: h.a.Cfg().Timezone}
		}
		data.Skipped = append(data.Skipped, skippedRow{SkippedSend: sk, Loc: d.Location()})
	}
	h.render(w, r, s, http.StatusOK, "history", page{Title: h.tr(h.lang(r), "hist.title"), Nav: "history", Data: data})
}

// ---- subscribers ----

// listedPerPage is the number of subscribers a page of the table shows.
const listedPerPage = 200

type subscribersData struct {
	Query, Status string
	Statuses      []string
	Counts        map[string]int
	Rows          []subscribers.Subscriber
	Matched       int
	First, Last   int    // the rows shown, counted from 1
	Prev, Next    string // links to the neighbouring pages ("" at either end)
	Report        *subscribers.ImportReport
	ImportError   string
	Importing     []importView // imports running now (this editor's or another's)
}

func (h *Handler) subscribersPage(w http.ResponseWriter, r *http.Request, s *session) {
	h.showSubscribers(w, r, s, http.StatusOK, nil, "")
}

func (h *Handler) showSubscribers(w http.ResponseWriter, r *http.Request, s *session, status int, rep *subscribers.ImportReport, errMsg string) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	st := r.URL.Query().Get("status")
	data := subscribersData{Query: q, Status: st, Report: rep, ImportError: errMsg, Importing: h.imports.running(),
		Statuses: []string{subscribers.Confirmed, subscribers.Pending, subscribers.Unsubscribed, subscribers.Bounced}}
	valid := st == ""
	for _, x := range data.Statuses {
		valid = valid || x == st
	}
	if !valid {
		st, data.Status = "", ""
	}
	var err error
	if data.Counts, err = h.a.Subscribers.Counts(ctx); err != nil {
		h.internal(w, r, s, err)
		return
	}
	pageNo, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || pageNo < 1 {
		pageNo = 1
	}
	found, err := h.a.Subscribers.Search(ctx, subscribers.Search{Text: q, Status: st, Offset: (pageNo - 1) * listedPerPage, Limit: listedPerPage})
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	data.Rows, data.Matched = found.Rows, found.Matched
	if len(data.Rows) > 0 {
		data.First = (pageNo-1)*listedPerPage + 1
		data.Last = data.First + len(data.Rows) - 1
	}
	link := func(n int) string {
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		if st != "" {
			v.Set("status", st)
		}
		v.Set("page", strconv.Itoa(n))
		return "/staff/subscribers?" + v.Encode()
	}
	if pageNo > 1 {
		data.Prev = link(min(pageNo-1, max(1, (data.Matched+listedPerPage-1)/listedPerPage)))
	}
	if pageNo*listedPerPage < data.Matched {
		data.Next = link(pageNo + 1)
	}
	h.render(w, r, s, status, "subscribers", page{Title: h.tr(h.lang(r), "sub.title"), Nav: "subscribers", Data: data})
}

type subscriberData struct {
	Sub    subscribers.Subscriber
	Events []subscribers.Event
}

// subscriberPage shows one reader and what happened to them (bounces,
// unsubscribes, changes).
func (h *Handler) subscriberPage(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var sub subscribers.Subscriber
	if err == nil {
		sub, err = h.a.Subscribers.Get(r.Context(), id)
	}
	if err != nil {
		if errors.Is(err, subscribers.ErrNotFound) || errors.Is(err, strconv.ErrSyntax) {
			h.fail(w, r, s, http.StatusNotFound, h.tr(h.lang(r), "err.notfound"))
			return
		}
		h.internal(w, r, s, err)
		return
	}
	events, err := h.a.Subscribers.Events(r.Context(), id)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "subscriber", page{Title: sub.Email, Nav: "subscribers", Data: subscriberData{Sub: sub, Events: events}})
}

func (h *Handler) exportSubscribers(w http.ResponseWriter, r *http.Request, s *session) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="subscribers-%s.csv"`, h.now().Format("2006-01-02")))
	if err := h.a.Subscribers.ExportCSV(r.Context(), w); err != nil {
		h.log.Error("staff: export", "err", err)
		return // the header is gone; the truncated file is the best we can do
	}
	h.audit(r.Context(), s.Email, "export subscribers", 0, "")
}

// importSubscribers applies an uploaded CSV file in batches (see
// subscribers.ImportCSVWith): readers' own changes are never held up by
// it, and the subscribers page shows its progress to every editor while it
// runs. It runs under the daemon's context, not the request's: closing the
// tab does not stop it half way; a shutdown does, between two batches, and
// the report says up to which line the file is in.
func (h *Handler) importSubscribers(w http.ResponseWriter, r *http.Request, s *session) {
	lang := h.lang(r)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		h.showSubscribers(w, r, s, http.StatusBadRequest, nil, h.tr(lang, "sub.import_nofile"))
		return
	}
	defer f.Close()
	run := h.imports.start(hdr.Filename, s.Display())
	defer h.imports.finish(run)
	rep, err := h.a.Subscribers.ImportCSVWith(h.base, f, subscribers.ImportOptions{Progress: run.update})
	if rep.Lines > 0 || err == nil {
		h.audit(r.Context(), s.Email, "import subscribers", 0, fmt.Sprintf("%s: %d added, %d updated, %d skipped, %d rejected, %d lines",
			hdr.Filename, rep.Added, rep.Updated, rep.Skipped, rep.Rejected, rep.Lines))
	}
	if err != nil {
		h.log.Error("staff: import", "file", hdr.Filename, "line", rep.Lines, "err", err)
		if rep.Lines == 0 {
			h.showSubscribers(w, r, s, http.StatusInternalServerError, nil, h.tr(lang, "err.internal"))
			return
		}
		h.showSubscribers(w, r, s, http.StatusInternalServerError, &rep, h.tr(lang, "sub.import_stopped", "line", rep.Lines))
		return
	}
	status := http.StatusOK
	if rep.Rejected > 0 {
		status = http.StatusUnprocessableEntity
	}
	h.showSubscribers(w, r, s, status, &rep, "")
}

// importRun is one import from the staff area, as the subscribers page
// shows it while it runs.
type importRun struct {
	File, Who string
	mu        sync.Mutex
	progress  subscribers.ImportProgress
}

func (r *importRun) update(p subscribers.ImportProgress) {
	r.mu.Lock()
	r.progress = p
	r.mu.Unlock()
}

// importView is a running import on the page.
type importView struct {
	File, Who string
	subscribers.ImportProgress
}

// imports are the imports running now.
type imports struct {
	mu  sync.Mutex
	all map[*importRun]bool
}

func (im *imports) start(file, who string) *importRun {
	r := &importRun{File: file, Who: who}
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.all == nil {
		im.all = map[*importRun]bool{}
	}
	im.all[r] = true
	return r
}

func (im *imports) finish(r *importRun) {
	im.mu.Lock()
	delete(im.all, r)
	im.mu.Unlock()
}

func (im *imports) running() []importView {
	im.mu.Lock()
	defer im.mu.Unlock()
	var out []importView
	for r := range im.all {
		r.mu.Lock()
		out = append(out, importView{File: r.File, Who: r.Who, ImportProgress: r.progress})
		r.mu.Unlock()
	}
	return out
}

func (h *Handler) removeSubscriber(w http.ResponseWriter, r *http.Request, s *session) {
	lang := h.lang(r)
	email := strings.TrimSpace(r.FormValue("email"))
	err := h.a.Subscribers.Remove(r.Context(), email)
	if errors.Is(err, subscribers.ErrNotFound) || errors.Is(err, subscribers.ErrInvalidEmail) {
		h.showSubscribers(w, r, s, http.StatusNotFound, nil, h.tr(lang, "err.notfound")+" "+email)
		return
	}
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	// The audit log keeps no address of someone who asked to be forgotten.
	h.audit(r.Context(), s.Email, "remove subscriber", 0, "")
	h.done(w, r, s, h.prefix+"/subscribers", h.tr(lang, "sub.removed", "email", email))
}

// ---- feeds ----

func (h *Handler) feedsPage(w http.ResponseWriter, r *http.Request, s *session) {
	health, err := h.a.Feeds.Health(r.Context())
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "feeds", page{Title: h.tr(h.lang(r), "feeds.title"), Nav: "feeds", Data: health})
}

func (h *Handler) reenableFeed(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.FormValue("name")
	err := h.a.Feeds.Reenable(r.Context(), name)
	if errors.Is(err, feeds.ErrUnknownFeed) {
		h.fail(w, r, s, http.StatusNotFound, h.tr(h.lang(r), "err.notfound")+" "+name)
		return
	}
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	h.audit(r.Context(), s.Email, "reenable feed", 0, name)
	h.done(w, r, s, h.prefix+"/feeds", h.tr(h.lang(r), "feeds.reenabled", "feed", name))
}
