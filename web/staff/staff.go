// Package staff is the staff area of the daemon's web server: log in,
// curate the weekly issue (include, exclude, reorder, move, edit, add by
// URL, editor's note; stories' versions, pairings and translations, and
// each edition's coverage), preview it as readers get it, send a test copy,
// approve, reschedule or send it, look at history, subscribers and feed
// health, and see how the theme rules score on their own decisions, with
// the phrases those decisions support. Pages are server-rendered from
// templates/web/staff; every form carries a CSRF token and the version of
// the issue the editor saw, so two editors working on one draft never
// overwrite each other silently.
package staff

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/store"
	"github.com/haiphong/hpdigest/templates"
	"github.com/haiphong/hpdigest/web/clientlimit"
)

const (
	sessionCookie = "hpd_staff"
	loginCookie   = "hpd_staff_login" // CSRF of the login form (double submit)
	langCookie    = "hpd_staff_lang"
)

// Handler serves the staff area. Register adds its routes to a mux.
type Handler struct {
	a      *app.App
	prefix string // the area's path: /staff under the base URL's path
	db     *sql.DB
	log    *slog.Logger
	secure bool // cookies only over https
	look   atomic.Pointer[look]
	now    func() time.Time
	// noCharts leaves the charts out of the overview and history pages
	// (benchmarks measure what the charts cost).
	noCharts bool

	// clientKey names the network a request comes from (the peer's
	// address, IPv6 by /64); loginThrottle limits failed logins per
	// network; maxFailureRows bounds the table of failed logins.
	clientKey      func(*http.Request) string
	loginThrottle  *clientlimit.Table
	maxFailureRows int

	base    context.Context // the daemon's: sends and imports started from the web stop (resumably) with it
	sends   sync.WaitGroup  // sends started from the web
	imports imports         // CSV imports running now
}

// look is the part of the area a configuration reload replaces whole: the
// [staff] settings, the messages, the page templates and the static files.
type look struct {
	cfg    Config
	cat    *templates.Catalog
	pages  map[string]map[string]*template.Template // lang → page → template
	static fs.FS
}

// current is the look in use.
func (h *Handler) current() *look { return h.look.Load() }

// New builds the staff area: it applies the staff migrations and makes the
// accounts of cfg match the database. ctx should be the daemon's context: a
// send started from the web runs under it, so a shutdown interrupts it like
// a scheduled one (the outbox resumes it at the next start).
func New(ctx context.Context, a *app.App, cfg Config) (*Handler, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("staff: %w", err)
	}
	if err := store.Migrate(ctx, a.DB, Migrations()); err != nil {
		return nil, err
	}
	if err := syncAccounts(ctx, a.DB, cfg.Accounts); err != nil {
		return nil, fmt.Errorf("staff: %w", err)
	}
	base, err := url.Parse(a.Cfg().HTTP.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("staff: http.base_url: %w", err)
	}
	h := &Handler{
		a:      a,
		prefix: strings.TrimRight(base.Path, "/") + "/staff",
		db:     a.DB,
		log:    a.Log,
		secure: strings.HasPrefix(strings.ToLower(a.Cfg().HTTP.BaseURL), "https://"),
		now:    time.Now,
		base:   ctx,
		// Ten failed logins per network, then one more every six seconds:
		// guessing stays slow and cheap (no bcrypt once throttled).
		clientKey:      clientlimit.RemoteNetwork,
		loginThrottle:  clientlimit.New(6*time.Second, 10),
		maxFailureRows: DefaultMaxFailureRows,
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	lk, err := h.newLook(a.Cfg(), cfg)
	if err != nil {
		return nil, err
	}
	h.look.Store(lk)
	return h, nil
}

// newLook reads the messages, templates and static files of cfg's
// templates_dir (over the embedded ones) and runs every page on sample
// data, so that a broken override stops the start, or a reload, naming
// its file and line.
func (h *Handler) newLook(cfg *config.Config, staffCfg Config) (*look, error) {
	tfs, err := templates.FS(cfg.TemplatesDir)
	if err != nil {
		return nil, fmt.Errorf("staff: templates_dir: %w", err)
	}
	lk := &look{cfg: staffCfg}
	if lk.cat, err = templates.LoadCatalog(tfs, catalogFile); err != nil {
		return nil, fmt.Errorf("staff: %w", err)
	}
	err = h.parseTemplates(tfs, lk)
	if err == nil {
		err = h.selfTest(lk)
	}
	if err != nil && cfg.TemplatesDir != "" {
		return nil, cfg.Explain("templates_dir", err) // an override is at fault
	}
	if err != nil {
		return nil, err
	}
	if lk.static, err = fs.Sub(tfs, "web/staff/static"); err != nil {
		return nil, err
	}
	return lk, nil
}

// PrepareReload checks the [staff] section and the templates of next
// (app.Reloader); commit makes the accounts listed there match the
// database (a removed account is disabled and its sessions end; so do the
// sessions of an account whose password changed) and uses the new
// settings and templates from the next request on. Sessions and the
// login throttle carry over.
func (h *Handler) PrepareReload(ctx context.Context, next *config.Config) (func() error, error) {
	cfg := next.Staff
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("staff: %w", err)
	}
	lk, err := h.newLook(next, cfg)
	if err != nil {
		return nil, err
	}
	return func() error {
		h.look.Store(lk)
		if err := syncAccounts(context.WithoutCancel(ctx), h.db, cfg.Accounts); err != nil {
			return fmt.Errorf("staff: accounts: %w", err)
		}
		return nil
	}, nil
}

// Wait blocks until the sends started from the web have finished (for
// shutdown and tests).
func (h *Handler) Wait() { h.sends.Wait() }

// Register adds the staff routes under /staff/ below the path of the
// public base URL (https://example.org/tin gives /tin/staff/). Patterns
// are written from /staff; route puts them in place.
func (h *Handler) Register(mux *http.ServeMux) {
	static := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { staticFiles(h.current().static).ServeHTTP(w, r) })
	mux.Handle(h.route("GET /staff/static/"), h.secureHeaders(http.StripPrefix(h.prefix+"/static/", static), false))
	mux.Handle(h.route("GET /staff"), http.RedirectHandler(h.prefix+"/", http.StatusMovedPermanently))
	mux.Handle(h.route("GET /staff/login"), h.secureHeaders(http.HandlerFunc(h.loginPage), false))
	mux.Handle(h.route("POST /staff/login"), h.secureHeaders(http.HandlerFunc(h.login), false))
	mux.Handle(h.route("GET /staff/lang"), h.secureHeaders(http.HandlerFunc(h.switchLang), false))

	h.handle(mux, "POST /staff/logout", h.logout)
	h.handle(mux, "GET /staff/{$}", h.dashboard)
	h.handle(mux, "POST /staff/digests/{key}/assemble", h.assemble)
	h.handle(mux, "GET /staff/digests/{key}", h.currentIssue)
	h.handle(mux, "GET /staff/issues/{id}", h.issuePage)
	h.handle(mux, "POST /staff/issues/{id}/note", h.setNote)
	h.handle(mux, "POST /staff/issues/{id}/items/{item}/include", h.setIncluded)
	h.handle(mux, "POST /staff/issues/{id}/items/{item}/move", h.moveItem)
	h.handle(mux, "POST /staff/issues/{id}/items/{item}/order", h.reorder)
	h.handle(mux, "POST /staff/issues/{id}/items/{item}/edit", h.editItem)
	h.handle(mux, "POST /staff/issues/{id}/add", h.addItem)
	h.handle(mux, "POST /staff/issues/{id}/items/{item}/confirm", h.confirmVersion)
	h.handle(mux, "POST /staff/issues/{id}/items/{item}/split", h.splitVersion)
	h.handle(mux, "POST /staff/issues/{id}/items/{item}/translate", h.translate)
	h.handle(mux, "POST /staff/issues/{id}/merge", h.mergeStories)
	h.handle(mux, "POST /staff/issues/{id}/keep-apart", h.keepApart)
	h.handle(mux, "POST /staff/issues/{id}/approve", h.approve)
	h.handle(mux, "POST /staff/issues/{id}/unapprove", h.unapprove)
	h.handle(mux, "POST /staff/issues/{id}/reschedule", h.reschedule)
	h.handle(mux, "POST /staff/issues/{id}/send", h.sendNow)
	h.handle(mux, "POST /staff/issues/{id}/test", h.sendTest)
	h.handle(mux, "GET /staff/issues/{id}/preview", h.previewPage)
	h.handle(mux, "GET /staff/issues/{id}/preview/html", h.previewHTML)
	h.handle(mux, "GET /staff/issues/{id}/preview/text", h.previewText)
	h.handle(mux, "GET /staff/issues/{id}/preview/eml", h.previewEML)
	h.handle(mux, "GET /staff/history", h.history)
	h.handle(mux, "GET /staff/subscribers", h.subscribersPage)
	h.handle(mux, "GET /staff/subscribers/export", h.exportSubscribers)
	h.handle(mux, "GET /staff/subscribers/{id}", h.subscriberPage)
	h.handle(mux, "POST /staff/subscribers/import", h.importSubscribers)
	h.handle(mux, "POST /staff/subscribers/remove", h.removeSubscriber)
	h.handle(mux, "GET /staff/themes", h.themesPage)
	h.handle(mux, "POST /staff/themes/phrases", h.addPhrase)
	h.handle(mux, "GET /staff/feeds", h.feedsPage)
	h.handle(mux, "POST /staff/feeds/reenable", h.reenableFeed)
	// Anything else under /staff/ is a 404 — but only after the login check,
	// so the shape of the area is not revealed to strangers either.
	h.handle(mux, "/staff/", func(w http.ResponseWriter, r *http.Request, s *session) {
		h.fail(w, r, s, http.StatusNotFound, h.tr(h.lang(r), "err.notfound"))
	})
}

// route puts a pattern written from /staff under the area's prefix.
func (h *Handler) route(pattern string) string {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	path = h.prefix + strings.TrimPrefix(path, "/staff")
	if method == "" {
		return path
	}
	return method + " " + path
}

// staticFiles serves the files of dir, never a listing of a directory.
func staticFiles(dir fs.FS) http.Handler {
	files := http.FileServerFS(dir)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if st, err := fs.Stat(dir, name); name == "" || err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// request is one authenticated request's context.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session)

// handle wraps a page: no session → redirect to the login page (nothing
// else is written); POST without the session's CSRF token → 403.
func (h *Handler) handle(mux *http.ServeMux, pattern string, fn handlerFunc) {
	mux.Handle(h.route(pattern), h.secureHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var tok string
		if c, err := r.Cookie(sessionCookie); err == nil {
			tok = c.Value
		}
		s, err := h.sessionFor(r.Context(), tok)
		if err != nil {
			h.log.Error("staff: session", "err", err)
			http.Error(w, h.tr(h.lang(r), "err.internal"), http.StatusInternalServerError)
			return
		}
		if s == nil {
			next := r.URL.Path
			if r.Method == http.MethodGet && r.URL.RawQuery != "" {
				next += "?" + r.URL.RawQuery
			}
			if r.Method != http.MethodGet {
				next = h.prefix + "/"
			}
			http.Redirect(w, r, h.prefix+"/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			limit := int64(1 << 20)
			if strings.HasSuffix(r.URL.Path, "/import") {
				limit = 20 << 20
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			var err error
			if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
				err = r.ParseMultipartForm(8 << 20)
			} else {
				err = r.ParseForm()
			}
			var tooBig *http.MaxBytesError
			switch {
			case errors.As(err, &tooBig):
				h.fail(w, r, s, http.StatusRequestEntityTooLarge, h.tr(h.lang(r), "err.too_big", "mb", tooBig.Limit>>20))
				return
			case err != nil:
				h.fail(w, r, s, http.StatusBadRequest, h.tr(h.lang(r), "err.bad", "value", r.Header.Get("Content-Type")))
				return
			}
			// The token counts only in the body: a URL carries it into
			// logs, histories and Referer headers.
			if !equalTokens(r.PostFormValue("csrf"), s.CSRF) {
				h.fail(w, r, s, http.StatusForbidden, h.tr(h.lang(r), "csrf.bad"))
				return
			}
		}
		fn(w, r, s)
	}), strings.Contains(pattern, "/preview/html")))
}

// secureHeaders sets the headers of every staff response. framed allows
// the page in a same-origin frame (the email preview), sandboxed.
func (h *Handler) secureHeaders(next http.Handler, framed bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		if framed {
			// The email's own HTML: no scripts, images from anywhere, shown
			// only inside the preview page.
			hd.Set("X-Frame-Options", "SAMEORIGIN")
			hd.Set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'; frame-ancestors 'self'")
		} else {
			hd.Set("X-Frame-Options", "DENY")
			hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		}
		next.ServeHTTP(w, r)
	})
}

// lang is the UI language: the cookie, else the configured default.
func (h *Handler) lang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil {
		for _, l := range uiLanguages {
			if c.Value == l {
				return l
			}
		}
	}
	return h.current().cfg.Language
}

func (h *Handler) switchLang(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	if to != "vi" && to != "en" {
		to = h.current().cfg.Language
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: to, Path: h.prefix, MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, h.localPath(r.URL.Query().Get("back")), http.StatusSeeOther)
}

// localPath keeps a redirect target inside the staff area.
func (h *Handler) localPath(p string) string {
	if !strings.HasPrefix(p, h.prefix+"/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return h.prefix + "/"
	}
	return p
}

// page is what every template gets.
type page struct {
	Lang, OtherLang string
	Title           string
	Nav             string
	Account         *account
	CSRF            string
	Flash, Error    string
	Path            string // for the language switch
	Data            any
}

func (h *Handler) parseTemplates(tfs fs.FS, lk *look) error {
	names, err := fs.Glob(tfs, "web/staff/*.page.tmpl")
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return fmt.Errorf("staff: no templates web/staff/*.page.tmpl")
	}
	layout, err := fs.ReadFile(tfs, "web/staff/layout.tmpl")
	if err != nil {
		return fmt.Errorf("staff: template: %w", err)
	}
	lk.pages = map[string]map[string]*template.Template{}
	for _, lang := range uiLanguages {
		lk.pages[lang] = map[string]*template.Template{}
		base, err := template.New("layout").Funcs(h.funcs(lang, lk)).Parse(string(layout))
		if err != nil {
			return fmt.Errorf("staff: template web/staff/layout.tmpl: %w", err)
		}
		for _, n := range names {
			src, err := fs.ReadFile(tfs, n)
			if err != nil {
				return err
			}
			t, err := template.Must(base.Clone()).New(n).Parse(string(src)) // errors name the page's file
			if err != nil {
				return fmt.Errorf("staff: template %s: %w", n, err)
			}
			for _, tt := range t.Templates() {
				if err := lk.cat.CheckTree(tt.Tree, templateLookups); err != nil {
					return fmt.Errorf("staff: %w", err)
				}
			}
			key := strings.TrimSuffix(strings.TrimPrefix(n, "web/staff/"), ".page.tmpl")
			lk.pages[lang][key] = t
		}
	}
	return nil
}

// funcs are the template functions of the pages of lk in lang.
func (h *Handler) funcs(lang string, lk *look) template.FuncMap {
	tr := func(key string, args ...any) string { return h.trIn(lk, lang, key, args...) }
	return template.FuncMap{
		"T": tr,
		"time": func(t time.Time, loc *time.Location) string {
			if loc == nil {
				loc = h.location()
			}
			return h.fmtTimeIn(lk, lang, t, loc)
		},
		"date":      func(t time.Time) string { return h.fmtDate(lk, lang, t, h.location()) },
		"themeName": func(key string) string { return h.themeNameIn(lk, lang, key) },
		// word "audit" .Action: a recorded action or event in words, or as
		// recorded when the catalogue has no words for it.
		"word": func(group, key string) string {
			k := group + "." + strings.ReplaceAll(key, " ", "_")
			if !lk.cat.Has(k) {
				return key
			}
			return tr(k)
		},
		"join": strings.Join,
		// pct writes a rate as a percentage with two decimals, in the
		// language's decimal mark.
		"pct": func(rate float64) string {
			s := strconv.FormatFloat(rate*100, 'f', 2, 64) + "%"
			if lang == "vi" {
				s = strings.Replace(s, ".", ",", 1)
			}
			return s
		},
		"add": func(a, b int) int { return a + b },
		// langName "en": a language's name in the page's language.
		"langName": func(of string) string { return h.langNameIn(lk, lang, of) },
	}
}

func (h *Handler) location() *time.Location {
	loc, err := time.LoadLocation(h.a.Cfg().Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// render writes a page with status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *session, status int, name string, p page) {
	lang := h.lang(r)
	p.Lang = lang
	p.OtherLang = templates.OtherLanguage(lang)
	p.Path = r.URL.Path
	if s != nil {
		p.Account = &s.account
		p.CSRF = s.CSRF
		if p.Flash == "" && r.Method == http.MethodGet {
			p.Flash = h.takeFlash(r.Context(), s)
		}
	}
	t, ok := h.current().pages[lang][name]
	if !ok {
		h.log.Error("staff: no template", "page", name)
		http.Error(w, "missing template", http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		h.log.Error("staff: render", "page", name, "err", err)
		http.Error(w, h.tr(lang, "err.internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(h.rebase(b.Bytes()))
}

// rebase moves the links of a rendered page under the area's prefix.
// Templates write them from /staff (href="/staff/issues/1"); only the
// href, action and src attributes are moved (an editor's text in a value
// attribute is left alone), so templates, and operators' overrides, stay
// the same whatever the base URL's path.
func (h *Handler) rebase(page []byte) []byte {
	if h.prefix == "/staff" {
		return page
	}
	var pairs []string
	for _, attr := range []string{` href="`, ` action="`, ` src="`} {
		pairs = append(pairs, attr+"/staff", attr+h.prefix)
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(page)))
}

// fail shows an error page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	h.render(w, r, s, status, "error", page{Title: msg, Error: msg})
}

// internal logs err and shows a generic error.
func (h *Handler) internal(w http.ResponseWriter, r *http.Request, s *session, err error) {
	h.log.Error("staff", "path", r.URL.Path, "err", err)
	h.fail(w, r, s, http.StatusInternalServerError, h.tr(h.lang(r), "err.internal"))
}

// done stores a flash message and redirects (POST → redirect → GET).
func (h *Handler) done(w http.ResponseWriter, r *http.Request, s *session, to, msg string) {
	if msg != "" {
		h.setFlash(r.Context(), s, msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// ---- login ----

type loginData struct {
	Email, Next string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	h.showLogin(w, r, http.StatusOK, "", r.URL.Query().Get("next"), "")
}

func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request, status int, email, next, errMsg string) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: h.prefix + "/login", MaxAge: 3600,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode})
	flash := ""
	if r.URL.Query().Get("bye") == "1" {
		flash = h.tr(h.lang(r), "logout.done")
	}
	h.render(w, r, nil, status, "login", page{Title: h.tr(h.lang(r), "login.title"), CSRF: tok, Error: errMsg, Flash: flash,
		Data: loginData{Email: email, Next: h.localPath(next)}})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	lang := h.lang(r)
	if err := r.ParseForm(); err != nil {
		h.showLogin(w, r, formStatus(err), "", "", h.tr(lang, "login.expired"))
		return
	}
	// Every field from the body only: never a password or a token in a URL.
	email, next := r.PostFormValue("email"), r.PostFormValue("next")
	c, err := r.Cookie(loginCookie)
	if err != nil || !equalTokens(r.PostFormValue("csrf"), c.Value) {
		h.showLogin(w, r, http.StatusForbidden, email, next, h.tr(lang, "login.expired"))
		return
	}
	client, now := h.clientKey(r), h.now()
	if h.loginThrottle.Exhausted(client, now) {
		h.log.Warn("staff: logins throttled", "client", client)
		w.Header().Set("Retry-After", strconv.Itoa(int(h.loginThrottle.Wait(client, now).Seconds())+1))
		h.showLogin(w, r, http.StatusTooManyRequests, email, next, h.tr(lang, "login.slow"))
		return
	}
	a, until, err := h.authenticate(r.Context(), email, r.PostFormValue("password"), client)
	if errors.Is(err, errBadLogin) || errors.Is(err, errLockedNow) {
		h.loginThrottle.Take(client, now) // a password was checked, and was wrong
	}
	switch {
	case errors.Is(err, errLocked):
		h.log.Warn("staff: login locked", "email", email, "client", client, "until", until)
		h.showLogin(w, r, http.StatusTooManyRequests, email, next, h.tr(lang, "login.locked", "time", h.fmtTime(lang, until, h.location())))
		return
	case errors.Is(err, errBadLogin):
		h.log.Warn("staff: login failed", "email", email, "client", client)
		h.showLogin(w, r, http.StatusUnauthorized, email, next, h.tr(lang, "login.bad"))
		return
	case err != nil:
		h.log.Error("staff: login", "err", err)
		h.showLogin(w, r, http.StatusInternalServerError, email, next, h.tr(lang, "err.internal"))
		return
	}
	tok, err := h.newSession(r.Context(), a)
	if err != nil {
		h.log.Error("staff: session", "err", err)
		h.showLogin(w, r, http.StatusInternalServerError, email, next, h.tr(lang, "err.internal"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: h.prefix, MaxAge: int(h.current().cfg.SessionLifetime / time.Second),
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: h.prefix + "/login", MaxAge: -1})
	h.audit(r.Context(), a.Email, "login", 0, "")
	http.Redirect(w, r, h.localPath(next), http.StatusSeeOther)
}

// formStatus is the answer to a body that did not parse: 413 when it was
// too large, 400 when it was malformed.
func formStatus(err error) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := h.endSession(r.Context(), s); err != nil {
		h.internal(w, r, s, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: h.prefix, MaxAge: -1, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, h.prefix+"/login?bye=1", http.StatusSeeOther)
}

// withTimeout bounds work done for one request that talks to the outside
// (SMTP for the test copy).
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
