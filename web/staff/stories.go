package staff

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/feeds"
)

// Stories on the curation page: each story's versions and sources, the
// pairings the rules suggest (merge, or keep apart), confirming or
// splitting a version, the coverage of each edition (the readers of one
// language) and a side-by-side editor for a missing translation.

// editionLangs are the languages readers get the digest in.
var editionLangs = []string{"vi", "en"}

// coverageView is one edition's line of the coverage meter.
type coverageView struct {
	digest.Coverage
	Line    string // "English edition: 7 of 9 stories in English"
	Rest    string // what the others get, under the digest's mode ("" when none is missing)
	Percent int
	Low     int // below this the meter shows the edition poorly served
}

// pairingView is a pairing the rules suggest, as staff see it.
type pairingView struct {
	digest.Suggestion
	Into, From     itemView
	A, B           feeds.Item // the two items compared
	ConfidencePerc int
}

// First is the compared item of the story to keep (Into), Second the
// other story's.
func (s pairingView) First() feeds.Item {
	if s.inInto(s.Suggestion.A) {
		return s.A
	}
	return s.B
}

// Second is the compared item of the other story (From).
func (s pairingView) Second() feeds.Item {
	if s.inInto(s.Suggestion.A) {
		return s.B
	}
	return s.A
}

func (s pairingView) inInto(id int64) bool {
	if id == s.Into.ItemID {
		return true
	}
	for _, v := range s.Into.Versions {
		if v.ItemID == id {
			return true
		}
	}
	return false
}

// langNameIn names a language for staff ("Tiếng Anh", "English") with
// the messages of lk.
func (h *Handler) langNameIn(lk *look, lang, of string) string {
	switch of {
	case "vi":
		return h.trIn(lk, lang, "lang.vi")
	case "en":
		return h.trIn(lk, lang, "lang.en")
	}
	return of
}

// coverage builds the coverage meter of an issue, an edition a line.
func (h *Handler) coverage(lang string, d digest.Digest, iss *digest.Issue) []coverageView {
	var out []coverageView
	for _, ed := range editionLangs {
		c := digest.CoverageOf(iss, ed, d.OtherLanguage)
		v := coverageView{Coverage: c}
		if c.Stories > 0 {
			v.Percent = int(math.Round(100 * float64(c.InLanguage()) / float64(c.Stories)))
			v.Low = (c.Stories + 1) / 2
		}
		if ed == "vi" {
			v.Line = h.tr(lang, "cov.edition_vi", "n", c.InLanguage(), "total", c.Stories)
		} else {
			v.Line = h.tr(lang, "cov.edition_en", "n", c.InLanguage(), "total", c.Stories)
		}
		if c.Translated > 0 {
			v.Line += " " + h.tr(lang, "cov.translated", "n", c.Translated)
		}
		if c.Missing > 0 {
			switch c.Mode {
			case digest.OtherLanguageTranslated:
				v.Rest = h.tr(lang, "cov.missing_translated_only", "n", c.Missing)
			case digest.OtherLanguageOmit:
				v.Rest = h.tr(lang, "cov.missing_omit", "n", c.Missing)
			default:
				v.Rest = h.tr(lang, "cov.missing_badge", "n", c.Missing)
			}
		}
		out = append(out, v)
	}
	return out
}

// coverageWarning is what approving an issue warns about: each edition
// with stories that are not in its language, and what its readers get of
// them (none when every story is in both languages).
func (h *Handler) coverageWarning(lang string, d digest.Digest, iss *digest.Issue) []string {
	var out []string
	for _, c := range h.coverage(lang, d, iss) {
		if c.Missing == 0 {
			continue
		}
		w := h.tr(lang, "warn.coverage_en", "n", c.Missing)
		if c.Lang == "vi" {
			w = h.tr(lang, "warn.coverage_vi", "n", c.Missing)
		}
		switch c.Mode {
		case digest.OtherLanguageTranslated:
			w += " " + h.tr(lang, "warn.then_translated_only")
		case digest.OtherLanguageOmit:
			w += " " + h.tr(lang, "warn.then_omit")
		default:
			w += " " + h.tr(lang, "warn.then_badge")
		}
		out = append(out, w)
	}
	return out
}

// pairings lists the pairings the rules suggest for an issue.
func (h *Handler) pairings(ctx context.Context, v *issueView) ([]pairingView, error) {
	sugg, err := h.a.Digests.Suggestions(ctx, v.Issue)
	if err != nil || len(sugg) == 0 {
		return nil, err
	}
	items := map[int64]itemView{}
	known := map[int64]feeds.Item{}
	for _, sec := range v.Sections {
		for _, it := range sec.Items {
			items[it.ItemID] = it
			known[it.ItemID] = it.Item
			for _, ver := range it.Versions {
				known[ver.ItemID] = ver.Item
			}
		}
	}
	var out []pairingView
	for _, s := range sugg {
		into, ok1 := items[s.Into]
		from, ok2 := items[s.From]
		if !ok1 || !ok2 {
			continue
		}
		out = append(out, pairingView{Suggestion: s, Into: into, From: from, A: known[s.A], B: known[s.B],
			ConfidencePerc: int(math.Round(100 * s.Confidence()))})
	}
	return out, nil
}

// MissingLanguages are the edition languages a story has no portal
// version in: the ones staff may translate it into.
func (it itemView) MissingLanguages() []string {
	var out []string
	for _, l := range editionLangs {
		if !it.HasVersionIn(l) {
			out = append(out, l)
		}
	}
	return out
}

// translationValues are a translation form's fields.
type translationValues struct{ Title, Summary string }

// TranslationOf is what a story's translation form into lang shows: what
// the editor typed if a save just failed, else the stored translation.
func (v *issueView) TranslationOf(it itemView, lang string) translationValues {
	k := v.EditValues(it)
	if lang == "en" {
		return translationValues{k.TitleEN, k.SummaryEN}
	}
	return translationValues{k.TitleVI, k.SummaryVI}
}

// Sources lists the feeds that published the story, lead first.
func (it itemView) Sources() string {
	names := []string{it.Item.FeedName}
	for _, v := range it.Versions {
		if v.Item.FeedName != "" && !contains(names, v.Item.FeedName) {
			names = append(names, v.Item.FeedName)
		}
	}
	return strings.Join(names, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ---- actions ----

func (h *Handler) confirmVersion(w http.ResponseWriter, r *http.Request, s *session) {
	id, version, itemID, err := h.editArgs(r)
	if err == nil {
		err = h.a.Digests.ConfirmVersion(r.Context(), id, version, itemID, s.Email)
	}
	if err == nil {
		h.audit(r.Context(), s.Email, "confirm story", id, h.itemLabel(r.Context(), itemID))
	}
	h.editResult(w, r, s, id, err, h.tr(h.lang(r), "done.confirmed"), itemAnchor(itemID), nil)
}

func (h *Handler) splitVersion(w http.ResponseWriter, r *http.Request, s *session) {
	id, version, itemID, err := h.editArgs(r)
	section := ""
	if err == nil {
		section, err = h.sectionOf(r.Context(), id, itemID)
	}
	if err == nil {
		err = h.a.Digests.SplitVersion(r.Context(), id, version, itemID, section, s.Email)
	}
	if err == nil {
		h.audit(r.Context(), s.Email, "split story", id, h.itemLabel(r.Context(), itemID))
	}
	h.editResult(w, r, s, id, err, h.tr(h.lang(r), "done.split"), itemAnchor(itemID), nil)
}

// sectionOf is the section an item split out of its story goes to: the
// one its themes give in the issue's digest.
func (h *Handler) sectionOf(ctx context.Context, issueID, itemID int64) (string, error) {
	iss, err := h.a.Digests.Issue(ctx, issueID)
	if err != nil {
		return "", err
	}
	items, err := h.a.Feeds.ItemsByID(ctx, []int64{itemID})
	if err != nil {
		return "", err
	}
	it, ok := items[itemID]
	if !ok {
		return "", digest.ErrNotFound
	}
	c, _ := h.classification(ctx, it)
	d, _ := h.a.Cfg().Digest(iss.Digest)
	return digest.SectionFor(c, d.Themes), nil
}

// pairArgs reads the two items of an action on a pair (merge, keep apart).
func (h *Handler) pairArgs(r *http.Request) (id int64, version int, a, b int64, err error) {
	id, version, _, err = h.editArgs(r)
	if err != nil {
		return id, version, 0, 0, err
	}
	a, errA := strconv.ParseInt(r.FormValue("a"), 10, 64)
	b, errB := strconv.ParseInt(r.FormValue("b"), 10, 64)
	if errA != nil || errB != nil || a == b {
		return id, version, 0, 0, badInput(h.tr(h.lang(r), "err.bad", "value", r.FormValue("a")+" / "+r.FormValue("b")))
	}
	return id, version, a, b, nil
}

func (h *Handler) mergeStories(w http.ResponseWriter, r *http.Request, s *session) {
	id, version, into, from, err := h.pairArgs(r)
	if err == nil {
		err = h.a.Digests.MergeStories(r.Context(), id, version, into, from, s.Email)
	}
	if err == nil {
		h.audit(r.Context(), s.Email, "merge stories", id, h.itemLabel(r.Context(), into)+" + "+h.itemLabel(r.Context(), from))
	}
	h.editResult(w, r, s, id, err, h.tr(h.lang(r), "done.merged"), itemAnchor(into), nil)
}

func (h *Handler) keepApart(w http.ResponseWriter, r *http.Request, s *session) {
	id, version, a, b, err := h.pairArgs(r)
	if err == nil {
		err = h.a.Digests.KeepApart(r.Context(), id, version, a, b, s.Email)
	}
	if err == nil {
		h.audit(r.Context(), s.Email, "keep apart", id, h.itemLabel(r.Context(), a)+" ≠ "+h.itemLabel(r.Context(), b))
	}
	h.editResult(w, r, s, id, err, h.tr(h.lang(r), "done.kept_apart"), "pairings", nil)
}

// translate saves the staff's title and summary of a story in one
// language, leaving the other's as they are.
func (h *Handler) translate(w http.ResponseWriter, r *http.Request, s *session) {
	id, version, itemID, err := h.editArgs(r)
	lang := r.FormValue("lang")
	title, summary := clip(r.FormValue("title"), 300), clip(r.FormValue("summary"), 2000)
	if err == nil && lang != "vi" && lang != "en" {
		err = badInput(h.tr(h.lang(r), "err.bad", "value", lang))
	}
	if err == nil {
		err = h.checkItem(r.Context(), id, itemID)
	}
	if err == nil {
		err = h.a.Digests.SetTranslation(r.Context(), id, version, itemID, lang, title, summary)
	}
	if err == nil {
		h.audit(r.Context(), s.Email, "translate", id, fmt.Sprintf("%s → %s: %s", h.itemLabel(r.Context(), itemID), lang, oneLine(title, 200)))
	}
	h.editResult(w, r, s, id, err, h.tr(h.lang(r), "done.translated"), itemAnchor(itemID), func(v *issueView) {
		var k keptEdit
		for _, sec := range v.Sections {
			for _, it := range sec.Items {
				if it.ItemID == itemID {
					k = v.EditValues(it)
				}
			}
		}
		if lang == "en" {
			k.TitleEN, k.SummaryEN = title, summary
		} else {
			k.TitleVI, k.SummaryVI = title, summary
		}
		v.Kept[itemID] = k
	})
}
