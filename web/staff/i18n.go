package staff

import (
	"time"

	"github.com/haiphong/hpdigest/templates"
)

// catalogFile holds every word of the staff area; templates call
// {{T "key" "name" value ...}}, the code h.tr. Every message may use
// {digest}, the name of the first configured digest.
const catalogFile = "web/staff/messages.toml"

// uiLanguages are the languages of the staff pages.
var uiLanguages = templates.Languages

// templateLookups are the template functions that look a message up, with
// the position of the key: {{T "key"}}.
var templateLookups = map[string]int{"T": 1}

// tr returns message key in lang with {digest} and the name, value pairs of
// args filled in.
func (h *Handler) tr(lang, key string, args ...any) string {
	return h.trIn(h.current(), lang, key, args...)
}

// trIn is tr with the messages of lk.
func (h *Handler) trIn(lk *look, lang, key string, args ...any) string {
	return lk.cat.T(lang, key, append([]any{"digest", h.digestTitle(lang)}, args...)...)
}

// digestTitle is the name of the first configured digest in lang.
func (h *Handler) digestTitle(lang string) string {
	if d, ok := h.a.Cfg().Digest(""); ok {
		return d.Title(lang)
	}
	return ""
}

// fmtTime shows a time as staff read it: weekday, day/month/year and hour
// in the digest's zone.
func (h *Handler) fmtTime(lang string, t time.Time, loc *time.Location) string {
	return h.fmtTimeIn(h.current(), lang, t, loc)
}

// fmtTimeIn is fmtTime with the messages of lk.
func (h *Handler) fmtTimeIn(lk *look, lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return h.trIn(lk, lang, "never")
	}
	t = t.In(loc)
	wd := ""
	if names := lk.cat.List(lang, "weekdays"); len(names) == 7 {
		wd = names[t.Weekday()] + " "
	}
	if lang == "en" {
		return wd + t.Format("2 Jan 2006, 15:04 MST")
	}
	return wd + t.Format("02/01/2006 15:04 MST")
}

func (h *Handler) fmtDate(lk *look, lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return h.trIn(lk, lang, "never")
	}
	if lang == "en" {
		return t.In(loc).Format("2 Jan 2006")
	}
	return t.In(loc).Format("02/01/2006")
}
