package public

import (
	"net/http"
	"strings"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/templates"
)

// catalogFile holds every word of the public pages and the confirmation
// mail. Templates call {{t .Lang "key"}}; every message may use {digest},
// the digest's name from the config.
const catalogFile = "web/public/messages.toml"

// t returns message key in lang, with {digest} and the name, value pairs
// of args filled in.
func (h *Handler) t(lang, key string, args ...any) string {
	return h.cat.T(lang, key, append([]any{"digest", h.digestName(lang)}, args...)...)
}

// digestName is the configured name of the digest in lang.
func (h *Handler) digestName(lang string) string {
	if n := h.d.DigestName.In(lang); n != "" {
		return n
	}
	return digest.DefaultTitle(lang)
}

// fromAcceptLanguage picks vi or en from the header; def when it says
// neither.
func fromAcceptLanguage(h, def string) string {
	if l, ok := templates.MatchLanguage(h); ok {
		return l
	}
	return def
}

func validLang(s string) string {
	switch strings.ToLower(s) {
	case "vi":
		return "vi"
	case "en":
		return "en"
	}
	return ""
}

const langCookie = "hp_lang"

// pageLang chooses the language of a page: ?lang= or a form field "lang"
// (remembered in a cookie), then the cookie, then fallback (the
// subscriber's own language on token pages, if known), then
// Accept-Language, then def.
func pageLang(w http.ResponseWriter, r *http.Request, fallback, def string) string {
	if l := validLang(r.URL.Query().Get("lang")); l != "" {
		setLangCookie(w, r, l)
		return l
	}
	if r.Method == http.MethodPost {
		if l := validLang(r.PostFormValue("lang")); l != "" {
			setLangCookie(w, r, l)
			return l
		}
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l := validLang(c.Value); l != "" {
			return l
		}
	}
	if fallback != "" {
		return fallback
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"), def)
}

func setLangCookie(w http.ResponseWriter, r *http.Request, l string) {
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}
