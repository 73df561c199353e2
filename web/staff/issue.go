package staff

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/feeds"
)

// missingDigest is the key of an issue's digest that is no longer in the
// config: the issue can be looked at, not approved, rescheduled or sent.
type missingDigest string

func (m missingDigest) Error() string {
	return fmt.Sprintf("digest %q is not in the config", string(m))
}

// liveDigest returns the configured digest of an issue, or a
// missingDigest error.
func (h *Handler) liveDigest(iss *digest.Issue) (digest.Digest, error) {
	d, ok := h.a.Cfg().Digest(iss.Digest)
	if !ok {
		return d, missingDigest(iss.Digest)
	}
	return d, nil
}

// shownDigest is the digest an issue is shown with: the configured one,
// else defaults (a digest removed from the config).
func (h *Handler) shownDigest(key string) digest.Digest {
	cfg := h.a.Cfg()
	d, ok := cfg.Digest(key)
	if !ok {
		d = digest.Digest{Key: key, Timezone: cfg.Timezone}
		d.Defaults(cfg.Timezone, cfg.ThemeKeys())
	}
	return d
}

func (h *Handler) themeName(lang, key string) string { return h.themeNameIn(h.current(), lang, key) }

// themeNameIn names a theme for staff, with the messages of lk for items
// without a theme.
func (h *Handler) themeNameIn(lk *look, lang, key string) string {
	for _, t := range h.a.Cfg().Themes {
		if t.Key == key {
			if lang == "en" && t.NameEN != "" {
				return t.NameEN
			}
			if t.NameVI != "" {
				return t.NameVI
			}
			return t.Key
		}
	}
	if key == theme.Other {
		return h.trIn(lk, lang, "theme.other")
	}
	return key
}

// nextRun is the next time a cron spec fires in tz after t (zero if the
// spec does not parse; the config validated it).
func nextRun(spec, tz string, after time.Time) time.Time {
	if spec == "" {
		return time.Time{}
	}
	sched, err := cron.ParseStandard("CRON_TZ=" + tz + " " + spec)
	if err != nil {
		return time.Time{}
	}
	return sched.Next(after)
}

// sendTime is when the issue goes out: the staff's own time, else the
// digest's next scheduled send.
func (h *Handler) sendTime(d digest.Digest, iss *digest.Issue) time.Time {
	if !iss.ScheduledAt.IsZero() {
		return iss.ScheduledAt
	}
	return nextRun(d.Schedule, d.Timezone, h.now())
}

// missedSend is the send time that passed while the issue waited for
// approval (zero if none): the staff's own time if it is past, else the
// first scheduled send after the draft was made, if it is past.
func (h *Handler) missedSend(d digest.Digest, iss *digest.Issue) time.Time {
	now := h.now()
	if !iss.ScheduledAt.IsZero() {
		if iss.ScheduledAt.After(now) {
			return time.Time{}
		}
		return iss.ScheduledAt
	}
	t := nextRun(d.Schedule, d.Timezone, iss.CreatedAt)
	if t.IsZero() || t.After(now) {
		return time.Time{}
	}
	return t
}

// itemView is one item as the curation page shows it.
type itemView struct {
	digest.IssueItem
	First, Last bool
	Edited      bool
	Date        time.Time
}

type sectionView struct {
	Theme           string
	Items           []itemView
	Included, Total int
}

// issueView is the curation page.
type issueView struct {
	Digest        digest.Digest
	Issue         *digest.Issue
	Loc           *time.Location
	Sections      []sectionView
	Themes        []string // sections an item may be moved to
	SendAt        time.Time
	Rescheduled   bool
	NeedsApproval bool      // requires approval and is not approved: the send will not go out
	Missed        time.Time // a send time already passed without the issue going out (not approved)
	AutoSend      bool      // a draft that goes out without approval
	Included      int
	Editable      bool
	ScheduleValue string // the reschedule input's value
	Audit         []auditEntry
	// What the editor typed when a save failed (kept, not lost).
	NoteVI, NoteEN string
	Kept           map[int64]keptEdit
	AddURL         string
	// Delivery counts of an issue being sent or sent.
	Delivery *deliver.Summary
	// Coverage is each edition's share of stories in its language;
	// CoverageWarning says, before approval, which editions lack some.
	Coverage        []coverageView
	CoverageWarning []string
	// Pairings are the pairings of stories the rules suggest (drafts,
	// on the curation page).
	Pairings []pairingView
}

type keptEdit struct{ TitleVI, TitleEN, SummaryVI, SummaryEN string }

func (h *Handler) loadIssue(w http.ResponseWriter, r *http.Request, s *session) (*digest.Issue, digest.Digest, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.fail(w, r, s, http.StatusNotFound, h.tr(h.lang(r), "err.notfound"))
		return nil, digest.Digest{}, false
	}
	iss, err := h.a.Digests.Issue(r.Context(), id)
	if errors.Is(err, digest.ErrNotFound) {
		h.fail(w, r, s, http.StatusNotFound, h.tr(h.lang(r), "err.notfound"))
		return nil, digest.Digest{}, false
	}
	if err != nil {
		h.internal(w, r, s, err)
		return nil, digest.Digest{}, false
	}
	return iss, h.shownDigest(iss.Digest), true
}

func (h *Handler) buildIssueView(ctx context.Context, lang string, d digest.Digest, iss *digest.Issue) (*issueView, error) {
	v := &issueView{Digest: d, Issue: iss, Loc: d.Location(), Editable: iss.Editable(), Kept: map[int64]keptEdit{}}
	v.NoteVI, v.NoteEN = iss.NoteVI, iss.NoteEN
	v.Themes = append(append([]string(nil), d.Themes...), theme.Other)
	for _, sec := range iss.Sections(d.Themes) {
		sv := sectionView{Theme: sec.Theme, Total: len(sec.Items)}
		for i, it := range sec.Items {
			if it.Included {
				sv.Included++
			}
			sv.Items = append(sv.Items, itemView{IssueItem: it, First: i == 0, Last: i == len(sec.Items)-1,
				Edited: it.TitleVI != "" || it.TitleEN != "" || it.SummaryVI != "" || it.SummaryEN != "",
				Date:   it.Item.PublishedAt})
		}
		v.Included += sv.Included
		v.Sections = append(v.Sections, sv)
	}
	if iss.Status == digest.StatusDraft || iss.Status == digest.StatusApproved {
		v.SendAt = h.sendTime(d, iss)
		v.Rescheduled = !iss.ScheduledAt.IsZero()
		v.NeedsApproval = d.RequireApproval && iss.Status == digest.StatusDraft
		v.AutoSend = !d.RequireApproval && iss.Status == digest.StatusDraft
		if v.NeedsApproval {
			v.Missed = h.missedSend(d, iss)
		}
		if v.Rescheduled {
			v.ScheduleValue = iss.ScheduledAt.In(v.Loc).Format("2006-01-02T15:04")
		}
	}
	if iss.Status == digest.StatusSending || iss.Status == digest.StatusSent {
		sum, err := h.a.Engine.Status(ctx, iss.ID)
		if err != nil {
			return nil, err
		}
		v.Delivery = &sum
	}
	v.Coverage = h.coverage(lang, d, iss)
	if iss.Status == digest.StatusDraft {
		v.CoverageWarning = h.coverageWarning(lang, d, iss)
	}
	var err error
	v.Audit, err = h.auditLog(ctx, iss.ID, 30)
	return v, err
}

func (h *Handler) issuePage(w http.ResponseWriter, r *http.Request, s *session) {
	iss, d, ok := h.loadIssue(w, r, s)
	if !ok {
		return
	}
	h.showIssue(w, r, s, http.StatusOK, d, iss, "", nil)
}

// showIssue renders the curation page; keep (if not nil) puts back what the
// editor typed into the forms after a failed save.
func (h *Handler) showIssue(w http.ResponseWriter, r *http.Request, s *session, status int, d digest.Digest, iss *digest.Issue, errMsg string, keep func(*issueView)) {
	v, err := h.buildIssueView(r.Context(), h.lang(r), d, iss)
	if err == nil && iss.Editable() {
		v.Pairings, err = h.pairings(r.Context(), v)
	}
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	if keep != nil {
		keep(v)
	}
	lang := h.lang(r)
	title := h.tr(lang, "issue.title", "number", iss.Number) + " — " + d.TitleVI
	if lang == "en" {
		title = h.tr(lang, "issue.title", "number", iss.Number) + " — " + d.TitleEN
	}
	h.render(w, r, s, status, "issue", page{Title: title, Nav: "dashboard", Error: errMsg, Data: v})
}

// editResult turns the outcome of an edit into a response: success →
// redirect back to the item; conflict/frozen → the fresh page, with what the
// editor typed kept, and a 409.
func (h *Handler) editResult(w http.ResponseWriter, r *http.Request, s *session, id int64, err error, okMsg, anchor string, keep func(*issueView)) {
	lang := h.lang(r)
	back := fmt.Sprintf("%s/issues/%d", h.prefix, id)
	if anchor != "" {
		back += "#" + anchor
	}
	var missing missingDigest
	switch {
	case err == nil:
		h.done(w, r, s, back, okMsg)
		return
	case errors.As(err, &missing):
		iss, lerr := h.a.Digests.Issue(r.Context(), id)
		if lerr != nil {
			h.internal(w, r, s, lerr)
			return
		}
		h.showIssue(w, r, s, http.StatusConflict, h.shownDigest(iss.Digest), iss, h.tr(lang, "err.no_digest", "key", string(missing)), keep)
		return
	case errors.Is(err, digest.ErrNotFound):
		h.fail(w, r, s, http.StatusNotFound, h.tr(lang, "err.notfound"))
		return
	case errors.Is(err, digest.ErrConflict), errors.Is(err, digest.ErrFrozen):
		msg := h.tr(lang, "err.conflict")
		if errors.Is(err, digest.ErrFrozen) {
			msg = h.tr(lang, "err.frozen")
		}
		iss, lerr := h.a.Digests.Issue(r.Context(), id)
		if lerr != nil {
			h.internal(w, r, s, lerr)
			return
		}
		h.showIssue(w, r, s, http.StatusConflict, h.shownDigest(iss.Digest), iss, msg, keep)
		return
	}
	var be badInput
	if errors.As(err, &be) {
		iss, lerr := h.a.Digests.Issue(r.Context(), id)
		if lerr != nil {
			h.internal(w, r, s, lerr)
			return
		}
		h.showIssue(w, r, s, http.StatusBadRequest, h.shownDigest(iss.Digest), iss, string(be), keep)
		return
	}
	h.internal(w, r, s, err)
}

// badInput is an error shown to the editor as is.
type badInput string

func (e badInput) Error() string { return string(e) }

// editArgs reads the issue id, the version the editor saw and (if the
// route has one) the item id.
func (h *Handler) editArgs(r *http.Request) (id int64, version int, itemID int64, err error) {
	lang := h.lang(r)
	if id, err = strconv.ParseInt(r.PathValue("id"), 10, 64); err != nil {
		return 0, 0, 0, digest.ErrNotFound
	}
	if version, err = strconv.Atoi(r.FormValue("version")); err != nil {
		return id, 0, 0, badInput(h.tr(lang, "err.bad", "value", "version"))
	}
	if raw := r.PathValue("item"); raw != "" {
		if itemID, err = strconv.ParseInt(raw, 10, 64); err != nil {
			return id, 0, 0, digest.ErrNotFound
		}
	}
	return id, version, itemID, nil
}

func itemAnchor(id int64) string { return fmt.Sprintf("item-%d", id) }

// clip bounds a text field (a form can send anything).
func clip(s string, max int) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if len([]rune(s)) > max {
		return string([]rune(s)[:max])
	}
	return s
}

func (h *Handler) setNote(w http.ResponseWriter, r *http.Request, s *session) {
	id, version, _, err := h.editArgs(r)
	vi, en := clip(r.FormValue("note_vi"), 4000), clip(r.FormValue("note_en"), 4000)
	if err == nil {
		err = h.a.Digests.SetNote(r.Context(), id, version, vi, en)
	}
	if err == nil {
		h.audit(r.Context(), s.Email, "note", id, oneLine(pair(vi, en), 200))
	}
	h.editResult(w, r, s, id, err, h.tr(h.lang(r), "done.note"), "note", func(v *issueView) { v.NoteVI, v.NoteEN = vi, en })
}

func (h *Handler) setIncluded(w http.ResponseWriter, r *http.Request, s *session) {
	id, version, itemID, err := h.editArgs(r)
	include := r.FormValue("included") == "1"
	if err == nil {
		err = h.checkItem(r.Context(), id, itemID)
	}
	if err == nil {
		err = h.a.Digests.SetIncluded(r.Context(), id, version, itemID, include)
	}
	msg, action := h.tr(h.lang(r), "done.excluded"), "exclude"
	if include {
		msg, action = h.tr(h.lang(r), "done.included"), "include"
	}
	if err == nil {
		h.audit(r.Context(), s.Email, action, id, h.itemLabel(r.Context(), itemID))
	}
	h.editResult(w, r, s, id, err, msg, itemAnchor(itemID), nil)
}

// checkItem makes an edit of an item that is not in the issue a 404 rather
// than a silent no-op.
func (h *Handler) checkItem(ctx context.Context, issueID, itemID int64) error {
	ok, err := h.a.Digests.HasItem(ctx, issueID, itemID)
	if err == nil && !ok {
		err = digest.ErrNotFound
	}
	return err
}

func (h *Handler) itemLabel(ctx context.Context, itemID int64) string {
	items, err := h.a.Feeds.ItemsByID(ctx, []int64{itemID})
	if err != nil || items[itemID].Title == "" {
		return fmt.Sprintf("#%d", itemID)
	}
	return fmt.Sprintf("#%d %s", itemID, oneLine(items[itemID].Title, 120))
}

func (h *Handler) moveItem(w http.ResponseWriter, r *http.Request, s *session) {
	id, version, itemID, err := h.editArgs(r)
	to := r.FormValue("theme")
	if err == nil {
		err = h.checkItem(r.Context(), id, itemID)
	}
	if err == nil && !h.validSection(id, to, r.Context()) {
		err = badInput(h.tr(h.lang(r), "err.bad", "value", to))
	}
	if err == nil {
		err = h.a.Digests.MoveItem(r.Context(), id, version, itemID, to)
	}
	if err == nil {
		h.audit(r.Context(), s.Email, "move", id, h.itemLabel(r.Context(), itemID)+" → "+to)
	}
	h.editResult(w, r, s, id, err, h.tr(h.lang(r), "done.moved"), itemAnchor(itemID), nil)
}

// validSection reports whether an item may be put in section key.
func (h *Handler) validSection(issueID int64, key string, ctx context.Context) bool {
	iss, err := h.a.Digests.Issue(ctx, issueID)
	if err != nil {
		return false
	}
	d, _ := h.a.Cfg().Digest(iss.Digest)
	if key == theme.Other {
		return true
	}
	for _, t := range d.Themes {
		if t == key {
			return true
		}
	}
	return false
}

func (h *Handler) reorder(w http.ResponseWriter, r *http.Request, s *session) {
	id, version, itemID, err := h.editArgs(r)
	dir := r.FormValue("dir")
	var iss *digest.Issue
	if err == nil {
		iss, err = h.a.Digests.Issue(r.Context(), id)
	}
	if err == nil && iss.Version != version {
		err = digest.ErrConflict // the order below must be the one the editor saw
	}
	var section string
	var order []int64
	if err == nil {
		d, _ := h.a.Cfg().Digest(iss.Digest)
		found := false
		for _, sec := range iss.Sections(d.Themes) {
			for i, it := range sec.Items {
				if it.ItemID != itemID {
					continue
				}
				found, section = true, sec.Theme
				for _, x := range sec.Items {
					order = append(order, x.ItemID)
				}
				j := i - 1
				if dir == "down" {
					j = i + 1
				} else if dir != "up" {
					err = badInput(h.tr(h.lang(r), "err.bad", "value", dir))
				}
				if j >= 0 && j < len(order) {
					order[i], order[j] = order[j], order[i]
				}
			}
		}
		if !found && err == nil {
			err = digest.ErrNotFound
		}
	}
	if err == nil {
		err = h.a.Digests.Reorder(r.Context(), id, version, section, order)
	}
	if err == nil {
		h.audit(r.Context(), s.Email, "move "+dir, id, h.itemLabel(r.Context(), itemID))
	}
	h.editResult(w, r, s, id, err, h.tr(h.lang(r), "done.reordered"), itemAnchor(itemID), nil)
}

func (h *Handler) editItem(w http.ResponseWriter, r *http.Request, s *session) {
	id, version, itemID, err := h.editArgs(r)
	k := keptEdit{
		TitleVI: clip(r.FormValue("title_vi"), 300), TitleEN: clip(r.FormValue("title_en"), 300),
		SummaryVI: clip(r.FormValue("summary_vi"), 2000), SummaryEN: clip(r.FormValue("summary_en"), 2000),
	}
	if err == nil {
		err = h.checkItem(r.Context(), id, itemID)
	}
	if err == nil {
		err = h.a.Digests.EditItem(r.Context(), id, version, itemID, k.TitleVI, k.TitleEN, k.SummaryVI, k.SummaryEN)
	}
	if err == nil {
		h.audit(r.Context(), s.Email, "edit", id, h.itemLabel(r.Context(), itemID)+": "+oneLine(pair(k.TitleVI, k.TitleEN), 200))
	}
	h.editResult(w, r, s, id, err, h.tr(h.lang(r), "done.edited"), itemAnchor(itemID), func(v *issueView) { v.Kept[itemID] = k })
}

func (h *Handler) addItem(w http.ResponseWriter, r *http.Request, s *session) {
	lang := h.lang(r)
	id, version, _, err := h.editArgs(r)
	raw := strings.TrimSpace(r.FormValue("url"))
	section := r.FormValue("theme")
	var it feeds.Item
	if err == nil {
		norm := feeds.NormalizeURL(raw, nil)
		if norm == "" {
			err = badInput(h.tr(lang, "err.url_bad", "url", raw))
		} else if it, err = h.findItem(r.Context(), norm); err == nil && it.ID == 0 {
			err = badInput(h.tr(lang, "err.url_unknown", "url", raw))
		}
	}
	if err == nil && section != "" && section != "auto" && !h.validSection(id, section, r.Context()) {
		err = badInput(h.tr(lang, "err.bad", "value", section))
	}
	if err == nil {
		c, ok := h.classification(r.Context(), it)
		if !ok {
			err = h.a.Digests.SaveClassification(r.Context(), it.ID, c)
		}
		if section == "" || section == "auto" {
			iss, ierr := h.a.Digests.Issue(r.Context(), id)
			if ierr != nil {
				err = ierr
			} else {
				d, _ := h.a.Cfg().Digest(iss.Digest)
				section = digest.SectionFor(c, d.Themes)
			}
		}
	}
	if err == nil {
		err = h.a.Digests.AddItem(r.Context(), id, version, it.ID, section)
	}
	if err == nil {
		h.audit(r.Context(), s.Email, "add", id, h.itemLabel(r.Context(), it.ID)+" → "+section)
	}
	h.editResult(w, r, s, id, err, h.tr(lang, "done.added"), itemAnchor(it.ID), func(v *issueView) { v.AddURL = raw })
}

// classification returns an item's stored themes, or classifies it now
// (ok=false: not stored yet).
func (h *Handler) classification(ctx context.Context, it feeds.Item) (digest.Classification, bool) {
	cs, err := h.a.Digests.Classifications(ctx, []int64{it.ID})
	if err == nil {
		if c, ok := cs[it.ID]; ok {
			return c, true
		}
	}
	return digest.Classify(h.a.Classifier, it), false
}

// findItem looks a normalised URL up among the stored items (zero Item if
// none), through the feeds store's story index.
func (h *Handler) findItem(ctx context.Context, norm string) (feeds.Item, error) {
	it, _, err := h.a.Feeds.ItemByURL(ctx, norm)
	return it, err
}

// pair joins the Vietnamese and English values of a field for the log.
func pair(vi, en string) string {
	switch {
	case vi == "":
		return en
	case en == "":
		return vi
	}
	return vi + " | " + en
}

func oneLine(s string, max int) string {
	return clip(strings.Join(strings.Fields(s), " "), max)
}

// ---- life cycle ----

func (h *Handler) approve(w http.ResponseWriter, r *http.Request, s *session) {
	id, version, _, err := h.editArgs(r)
	var iss *digest.Issue
	var d digest.Digest
	if err == nil {
		if iss, err = h.a.Digests.Issue(r.Context(), id); err == nil {
			d, err = h.liveDigest(iss)
		}
	}
	if err == nil {
		err = h.a.Digests.Approve(r.Context(), id, version, s.Email)
	}
	msg := ""
	if err == nil {
		h.audit(r.Context(), s.Email, "approve", id, "")
		if iss, ierr := h.a.Digests.Issue(r.Context(), id); ierr == nil {
			msg = h.tr(h.lang(r), "done.approved", "time", h.fmtTime(h.lang(r), h.sendTime(d, iss), d.Location()))
			// Approval warns, and does not block, when an edition lacks
			// stories in its language.
			if w := h.coverageWarning(h.lang(r), d, iss); len(w) > 0 {
				msg += " " + strings.Join(w, " ")
			}
		}
	}
	h.editResult(w, r, s, id, err, msg, "", nil)
}

func (h *Handler) unapprove(w http.ResponseWriter, r *http.Request, s *session) {
	id, version, _, err := h.editArgs(r)
	if err == nil {
		err = h.a.Digests.Unapprove(r.Context(), id, version)
	}
	if err == nil {
		h.audit(r.Context(), s.Email, "unapprove", id, "")
	}
	h.editResult(w, r, s, id, err, h.tr(h.lang(r), "done.unapproved"), "", nil)
}

func (h *Handler) reschedule(w http.ResponseWriter, r *http.Request, s *session) {
	lang := h.lang(r)
	id, version, _, err := h.editArgs(r)
	raw := strings.TrimSpace(r.FormValue("at"))
	var at time.Time
	var d digest.Digest
	if err == nil {
		var iss *digest.Issue
		if iss, err = h.a.Digests.Issue(r.Context(), id); err == nil {
			d, err = h.liveDigest(iss)
		}
	}
	if err == nil && raw != "" {
		at, err = time.ParseInLocation("2006-01-02T15:04", raw, d.Location())
		if err != nil {
			err = badInput(h.tr(lang, "err.bad", "value", raw))
		} else if !at.After(h.now()) {
			err = badInput(h.tr(lang, "err.past"))
		}
	}
	if err == nil {
		err = h.a.Digests.Reschedule(r.Context(), id, version, at)
	}
	msg := ""
	if err == nil {
		h.audit(r.Context(), s.Email, "reschedule", id, raw)
		when := at
		if when.IsZero() {
			when = nextRun(d.Schedule, d.Timezone, h.now())
		}
		msg = h.tr(lang, "done.rescheduled", "time", h.fmtTime(lang, when, d.Location()))
	}
	h.editResult(w, r, s, id, err, msg, "", nil)
}

// sendNow starts the send of an issue in the background; the History page
// shows its progress. A draft is approved first (checking the version the
// editor saw), so what goes out is what they looked at.
func (h *Handler) sendNow(w http.ResponseWriter, r *http.Request, s *session) {
	lang := h.lang(r)
	id, version, _, err := h.editArgs(r)
	var iss *digest.Issue
	var d digest.Digest
	if err == nil {
		if iss, err = h.a.Digests.Issue(r.Context(), id); err == nil {
			d, err = h.liveDigest(iss)
		}
	}
	if err == nil {
		switch {
		case iss.Status == digest.StatusDraft && d.RequireApproval:
			err = badInput(h.tr(lang, "err.need_approval"))
		case iss.Status != digest.StatusDraft && iss.Status != digest.StatusApproved:
			err = digest.ErrFrozen
		case len(iss.Included()) == 0:
			err = badInput(h.tr(lang, "warn.empty"))
		case iss.Status == digest.StatusDraft:
			err = h.a.Digests.Approve(r.Context(), id, version, s.Email)
		case iss.Version != version:
			err = digest.ErrConflict
		}
	}
	if err == nil {
		err = h.a.Digests.MarkSending(r.Context(), id)
	}
	if err != nil {
		h.editResult(w, r, s, id, err, "", "", nil)
		return
	}
	h.audit(r.Context(), s.Email, "send", id, "")
	h.sends.Add(1)
	go func() {
		defer h.sends.Done()
		ctx := h.base
		fresh, err := h.a.Digests.Issue(ctx, id)
		if err != nil {
			h.log.Error("staff: send", "issue", id, "err", err)
			return
		}
		res, err := h.a.SendIssue(ctx, d, fresh)
		if err != nil && ctx.Err() != nil {
			h.log.Info("staff: send interrupted by shutdown; the rest is sent when the daemon starts again", "issue", id)
			return
		}
		if err != nil {
			h.log.Error("staff: send", "issue", id, "err", err)
			h.audit(context.WithoutCancel(ctx), s.Email, "send failed", id, err.Error())
			return
		}
		h.audit(ctx, s.Email, "send finished", id, res.Summary.String())
	}()
	h.done(w, r, s, h.prefix+"/history", h.tr(lang, "done.sending"))
}

// ---- dashboard ----

type digestCard struct {
	Digest      digest.Digest
	Loc         *time.Location
	Issue       *digest.Issue
	View        *issueView
	NextDraft   time.Time
	NoOpenIssue bool
}

type dashboardData struct {
	Digests      []digestCard
	FeedsFailing int
	Counts       map[string]int
	Charts       []chartView
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	var data dashboardData
	for _, d := range h.a.Cfg().Digests {
		c := digestCard{Digest: d, Loc: d.Location(), NextDraft: nextRun(d.DraftSchedule, d.Timezone, h.now())}
		iss, err := h.a.Digests.OpenIssue(ctx, d.Key)
		switch {
		case errors.Is(err, digest.ErrNotFound):
			c.NoOpenIssue = true
		case err != nil:
			h.internal(w, r, s, err)
			return
		default:
			c.Issue = iss
			if c.View, err = h.buildIssueView(ctx, h.lang(r), d, iss); err != nil {
				h.internal(w, r, s, err)
				return
			}
		}
		data.Digests = append(data.Digests, c)
	}
	health, err := h.a.Feeds.Health(ctx)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	for _, f := range health {
		if !f.Enabled || f.ErrorCount > 0 {
			data.FeedsFailing++
		}
	}
	if data.Counts, err = h.a.Subscribers.Counts(ctx); err != nil {
		h.internal(w, r, s, err)
		return
	}
	if !h.noCharts {
		if data.Charts, err = h.overviewCharts(ctx, h.lang(r)); err != nil {
			h.internal(w, r, s, err)
			return
		}
	}
	h.render(w, r, s, http.StatusOK, "dashboard", page{Title: h.tr(h.lang(r), "dash.title"), Nav: "dashboard", Data: data})
}

func (h *Handler) currentIssue(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := h.a.Cfg().Digest(r.PathValue("key"))
	if !ok {
		h.fail(w, r, s, http.StatusNotFound, h.tr(h.lang(r), "err.notfound"))
		return
	}
	iss, err := h.a.Digests.OpenIssue(r.Context(), d.Key)
	if errors.Is(err, digest.ErrNotFound) {
		http.Redirect(w, r, h.prefix+"/", http.StatusSeeOther)
		return
	}
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/issues/%d", h.prefix, iss.ID), http.StatusSeeOther)
}

func (h *Handler) assemble(w http.ResponseWriter, r *http.Request, s *session) {
	d, ok := h.a.Cfg().Digest(r.PathValue("key"))
	if !ok {
		h.fail(w, r, s, http.StatusNotFound, h.tr(h.lang(r), "err.notfound"))
		return
	}
	iss, added, err := h.a.Assemble(r.Context(), d)
	if err != nil {
		h.internal(w, r, s, err)
		return
	}
	h.audit(r.Context(), s.Email, "assemble", iss.ID, fmt.Sprintf("%d new items", added))
	h.done(w, r, s, fmt.Sprintf("%s/issues/%d", h.prefix, iss.ID), h.tr(h.lang(r), "dash.assembled", "count", added))
}

// EditValues is what an item's edit form shows: what the editor typed if a
// save just failed, else the stored overrides.
func (v *issueView) EditValues(it itemView) keptEdit {
	if k, ok := v.Kept[it.ItemID]; ok {
		return k
	}
	return keptEdit{TitleVI: it.TitleVI, TitleEN: it.TitleEN, SummaryVI: it.SummaryVI, SummaryEN: it.SummaryEN}
}

// DisplayTitle is the title readers of lang see.
func (it itemView) DisplayTitle(lang string) string {
	if lang == "en" && it.TitleEN != "" {
		return it.TitleEN
	}
	if it.TitleVI != "" && lang != "en" {
		return it.TitleVI
	}
	return it.Item.Title
}

// DisplaySummary is the summary readers of lang see.
func (it itemView) DisplaySummary(lang string) string {
	if lang == "en" && it.SummaryEN != "" {
		return it.SummaryEN
	}
	if it.SummaryVI != "" && lang != "en" {
		return it.SummaryVI
	}
	return it.Item.SummaryText
}

// HasKept reports whether the item's edit form holds unsaved input.
func (v *issueView) HasKept(id int64) bool { _, ok := v.Kept[id]; return ok }
