// Package public serves the reader-facing pages: subscribe, confirm (double
// opt-in), preferences and unsubscribe (with RFC 8058 one-click), in
// Vietnamese and English. GET requests only show pages; every change is a
// POST. Links carry signed tokens from subscribers.Tokens; there is no login.
//
// Routes, under the path of Deps.BaseURL:
//
//	GET/POST /subscribe
//	GET/POST /confirm/{token}
//	GET/POST /preferences/{token}
//	GET/POST /unsubscribe/{token}   (POST body List-Unsubscribe=One-Click → 200 at once)
package public

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/render"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/subscribers"
	"github.com/haiphong/hpdigest/templates"
	"github.com/haiphong/hpdigest/web/clientlimit"
)

// Mailer sends one message at once; deliver.Engine.SendOne fits.
type Mailer interface {
	SendOne(ctx context.Context, m *deliver.Message) error
}

// Theme is one choice on the forms.
type Theme struct {
	Key            string
	NameVI, NameEN string
}

// Sender is who the confirmation mail comes from.
type Sender struct {
	Name, Address   string
	ReplyTo         string
	MessageIDDomain string // default: the domain of Address
}

// Deps is everything the pages need.
type Deps struct {
	Store     *subscribers.Store
	Tokens    *subscribers.Tokens
	Mailer    Mailer
	Templates fs.FS // templates.FS(...): files under web/public/
	// BaseURL is the public address the pages live under, as readers see
	// it ("https://tin.haiphong.gov.vn" or ".../digest"); its path is the
	// route prefix and it is the start of every link in the mails.
	BaseURL string
	Themes  []Theme
	// DigestName is the digest's name per language, from the config
	// (digest.DefaultTitle when empty).
	DigestName render.Localized
	From       Sender
	Log        *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ClientKey identifies the client for rate limiting (default: peer
	// address, IPv6 by /64). Behind a reverse proxy, return the address the
	// proxy saw.
	ClientKey func(*http.Request) string
	// Limits on POST /subscribe. Zero values take the defaults: 10 per
	// client with one more every 6 minutes; 3 per target address with one
	// more every 20 minutes (on top of at most one confirmation mail per
	// address per confirm_resend_interval, enforced in the database).
	ClientBurst  int
	ClientEvery  time.Duration
	AddressBurst int
	AddressEvery time.Duration
	// Limits, when set, are the tables of a handler this one replaces (a
	// reload of the configuration): what clients used up carries over.
	Limits *Limits
}

// Limits are a handler's rate-limit tables (see Deps.Limits).
type Limits struct{ byClient, byAddr *clientlimit.Table }

// Handler serves the public pages.
type Handler struct {
	d        Deps
	prefix   string
	cat      *templates.Catalog
	pages    map[string]*htmltemplate.Template
	mailText *texttemplate.Template
	mailHTML *htmltemplate.Template
	csrf     *http.CrossOriginProtection
	byClient *clientlimit.Table
	byAddr   *clientlimit.Table
	mux      *http.ServeMux
}

// maxBody bounds every form POST.
const maxBody = 16 << 10

// New parses the templates (failing at start-up, not on the first request)
// and returns the handler.
func New(d Deps) (*Handler, error) {
	if d.Store == nil || d.Tokens == nil || d.Mailer == nil || d.Templates == nil {
		return nil, errors.New("public: Store, Tokens, Mailer and Templates are required")
	}
	u, err := url.Parse(d.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("public: BaseURL must be an absolute http(s) URL, got " + strconv.Quote(d.BaseURL))
	}
	if d.From.Address == "" {
		return nil, errors.New("public: From.Address is required for confirmation mails")
	}
	if d.From.MessageIDDomain == "" {
		d.From.MessageIDDomain = d.From.Address[strings.LastIndexByte(d.From.Address, '@')+1:]
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ClientKey == nil {
		d.ClientKey = clientlimit.RemoteNetwork
	}
	if d.ClientBurst == 0 {
		d.ClientBurst = 10
	}
	if d.ClientEvery == 0 {
		d.ClientEvery = 6 * time.Minute
	}
	if d.AddressBurst == 0 {
		d.AddressBurst = 3
	}
	if d.AddressEvery == 0 {
		d.AddressEvery = 20 * time.Minute
	}
	d.BaseURL = strings.TrimRight(d.BaseURL, "/")
	h := &Handler{d: d, prefix: strings.TrimRight(u.Path, "/"), pages: map[string]*htmltemplate.Template{}}
	if d.Limits != nil {
		h.byClient, h.byAddr = d.Limits.byClient, d.Limits.byAddr
	} else {
		h.byClient, h.byAddr = clientlimit.New(d.ClientEvery, d.ClientBurst), clientlimit.New(d.AddressEvery, d.AddressBurst)
	}
	if h.cat, err = templates.LoadCatalog(d.Templates, catalogFile); err != nil {
		return nil, fmt.Errorf("public: %w", err)
	}
	funcs := htmltemplate.FuncMap{"t": h.t}
	for _, name := range []string{"subscribe", "message", "button", "preferences"} {
		t, err := htmltemplate.New(name).Funcs(funcs).ParseFS(d.Templates, "web/public/layout.tmpl", "web/public/"+name+".tmpl")
		if err != nil {
			return nil, err
		}
		for _, tt := range t.Templates() {
			if err := h.cat.CheckTree(tt.Tree, templateLookups); err != nil {
				return nil, fmt.Errorf("public: %w", err)
			}
		}
		h.pages[name] = t
	}
	if h.mailText, err = texttemplate.ParseFS(d.Templates, "web/public/mail_confirm.txt.tmpl"); err != nil {
		return nil, err
	}
	if h.mailHTML, err = htmltemplate.ParseFS(d.Templates, "web/public/mail_confirm.html.tmpl"); err != nil {
		return nil, err
	}
	h.csrf = http.NewCrossOriginProtection()
	if err := h.csrf.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
		return nil, err
	}
	h.mux = http.NewServeMux()
	h.Register(h.mux)
	return h, nil
}

// Register adds the routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	p := h.prefix
	mux.HandleFunc("GET "+p+"/subscribe", h.subscribeForm)
	mux.HandleFunc("POST "+p+"/subscribe", h.subscribe)
	mux.HandleFunc("GET "+p+"/confirm/{token}", h.confirmPage)
	mux.HandleFunc("POST "+p+"/confirm/{token}", h.confirm)
	mux.HandleFunc("GET "+p+"/preferences/{token}", h.prefsPage)
	mux.HandleFunc("POST "+p+"/preferences/{token}", h.prefs)
	mux.HandleFunc("GET "+p+"/unsubscribe/{token}", h.unsubscribePage)
	mux.HandleFunc("POST "+p+"/unsubscribe/{token}", h.unsubscribe)
}

// templateLookups are the template functions that look a message up, with
// the position of the key: {{t .Lang "key"}}.
var templateLookups = map[string]int{"t": 2}

// ServeHTTP serves the routes on their own mux (tests, or mounting alone).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Limits returns the handler's rate-limit tables, for Deps.Limits of the
// handler that replaces it.
func (h *Handler) Limits() *Limits { return &Limits{byClient: h.byClient, byAddr: h.byAddr} }

// URL returns the public address of a path under the base ("/subscribe").
func (h *Handler) URL(path string) string { return h.d.BaseURL + path }

type link struct{ URL, Label string }

type themeView struct {
	Key, Name string
	Checked   bool
}

type formData struct {
	Email, Name, Language string
	Paused                bool
}

type zoneView struct {
	Value, Label string
	Selected     bool
}

// zones offered on the preferences page, for delivery at local time:
// where most of Hai Phong's people abroad live. A reader's zone outside
// the list is shown too.
var zones = []string{"Asia/Ho_Chi_Minh", "Asia/Tokyo", "Asia/Seoul", "Asia/Taipei", "Asia/Shanghai", "Asia/Singapore",
	"Asia/Bangkok", "Australia/Perth", "Australia/Sydney", "Pacific/Auckland", "Europe/Moscow", "Europe/Warsaw", "Europe/Prague",
	"Europe/Berlin", "Europe/Paris", "Europe/London", "America/New_York", "America/Toronto", "America/Chicago",
	"America/Denver", "America/Los_Angeles", "America/Vancouver"}

func (h *Handler) zoneChoices(lang, current string) []zoneView {
	def := h.d.Store.Config().DefaultTimezone
	out := []zoneView{{Value: "", Label: h.t(lang, "tz.default", "zone", def), Selected: current == ""}}
	list := zones
	if current != "" && !slices.Contains(zones, current) {
		list = append([]string{current}, zones...)
	}
	now := h.d.Now()
	for _, z := range list {
		label := z
		if loc, err := time.LoadLocation(z); err == nil {
			label += " (UTC" + now.In(loc).Format("-07:00") + ")"
		}
		out = append(out, zoneView{Value: z, Label: label, Selected: z == current})
	}
	return out
}

type page struct {
	Lang, Other string
	Digest      string // the digest's name in Lang
	Title       string // message key
	Self        string // path of this page, for the language switch
	Error, Note string
	Action      string
	Form        formData
	Themes      []themeView
	Zones       []zoneView
	Email       string
	Body        []string
	Button      string
	Danger      bool
	Links       []link
}

func (h *Handler) newPage(r *http.Request, lang, title string) *page {
	other := templates.OtherLanguage(lang)
	return &page{Lang: lang, Other: other, Digest: h.digestName(lang), Title: title, Self: r.URL.Path}
}

func (h *Handler) themes(lang string, chosen []string) []themeView {
	var out []themeView
	for _, t := range h.d.Themes {
		name := t.NameVI
		if lang == "en" && t.NameEN != "" {
			name = t.NameEN
		}
		if name == "" {
			name = t.Key
		}
		checked := false
		for _, c := range chosen {
			if c == t.Key {
				checked = true
			}
		}
		out = append(out, themeView{Key: t.Key, Name: name, Checked: checked})
	}
	return out
}

func (h *Handler) render(w http.ResponseWriter, status int, tmpl string, p *page) {
	var buf bytes.Buffer
	if err := h.pages[tmpl].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.d.Log.Error("public: render", "template", tmpl, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	// Token URLs must not leak to other sites or caches.
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, lang, title string, body []string, links ...link) {
	p := h.newPage(r, lang, title)
	p.Body = body
	p.Links = links
	h.render(w, status, "message", p)
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, lang string, err error) {
	h.d.Log.Error("public: request failed", "path", r.URL.Path, "err", err)
	h.message(w, r, http.StatusInternalServerError, lang, "error.title", []string{h.t(lang, "error.body")})
}

// parseForm reads a POST body of at most maxBody bytes (urlencoded or
// multipart, as RFC 8058 allows both).
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(maxBody)
	}
	return r.ParseForm()
}

// formStatus is the answer to a body parseForm refused: 413 when it was too
// large, 400 when it was malformed.
func formStatus(err error) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func (h *Handler) defaultLang() string { return h.d.Store.Config().DefaultLanguage }

// ---- subscribe ----

func (h *Handler) subscribeForm(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(w, r, "", h.defaultLang())
	p := h.newPage(r, lang, "subscribe.title")
	p.Action = r.URL.Path
	p.Form.Language = lang
	p.Themes = h.themes(lang, nil)
	h.render(w, http.StatusOK, "subscribe", p)
}

func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		lang := pageLang(w, r, "", h.defaultLang())
		h.message(w, r, formStatus(err), lang, "error.title", []string{h.t(lang, "error.body")})
		return
	}
	lang := pageLang(w, r, "", h.defaultLang())
	if err := h.csrf.Check(r); err != nil {
		h.message(w, r, http.StatusForbidden, lang, "error.title", []string{h.t(lang, "forbidden.body")})
		return
	}
	now := h.d.Now()
	if !h.byClient.Allow(h.d.ClientKey(r), now) {
		w.Header().Set("Retry-After", strconv.Itoa(int(h.d.ClientEvery.Seconds())))
		h.message(w, r, http.StatusTooManyRequests, lang, "slow.title", []string{h.t(lang, "slow.body")})
		return
	}
	done := func() {
		h.message(w, r, http.StatusOK, lang, "check.title", []string{h.t(lang, "check.body")})
	}
	// Bots fill every field; people never see this one.
	if r.PostFormValue("website") != "" {
		h.d.Log.Info("public: honeypot filled; ignoring subscribe", "client", h.d.ClientKey(r))
		done()
		return
	}
	// No free text is taken (a name would go out in the confirmation mail
	// to whatever address was typed); readers name themselves on their
	// preferences page.
	req := subscribers.SubscribeRequest{
		Email:    r.PostFormValue("email"),
		Language: r.PostFormValue("language"),
		Themes:   r.PostForm["themes"],
	}
	if len(req.Themes) > 2*len(h.d.Themes)+2 {
		req.Themes = req.Themes[:2*len(h.d.Themes)+2]
	}
	clean, err := h.d.Store.ValidateRequest(req)
	if err != nil {
		p := h.newPage(r, lang, "subscribe.title")
		p.Action = r.URL.Path
		p.Error = h.fieldError(lang, err)
		p.Form = formData{Email: truncate(req.Email, subscribers.MaxEmailLen), Language: validLang(req.Language)}
		if p.Form.Language == "" {
			p.Form.Language = lang
		}
		p.Themes = h.themes(lang, req.Themes)
		h.render(w, http.StatusBadRequest, "subscribe", p)
		return
	}
	// Per target mailbox (plus-addresses are one mailbox): silently drop,
	// with the same page, so that the limit reveals nothing about the
	// address.
	if !h.byAddr.Allow(subscribers.Mailbox(clean.Email), now) {
		done()
		return
	}
	res, err := h.d.Store.Subscribe(r.Context(), clean)
	if err != nil {
		h.serverError(w, r, lang, err)
		return
	}
	if res.SendConfirmation {
		err := h.sendConfirmation(r.Context(), res.Subscriber, clean.Language)
		if rerr := h.d.Store.ConfirmationSent(r.Context(), res.Subscriber.ID, err); rerr != nil {
			h.d.Log.Error("public: record confirmation", "err", rerr)
		}
		if err != nil {
			h.d.Log.Error("public: send confirmation", "subscriber", res.Subscriber.ID, "err", err)
			h.message(w, r, http.StatusServiceUnavailable, lang, "error.title", []string{h.t(lang, "error.body")})
			return
		}
	}
	done()
}

// fieldError tells the reader which field of the form is wrong.
func (h *Handler) fieldError(lang string, err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, subscribers.ErrInvalidEmail):
		return h.t(lang, "err.email")
	case strings.Contains(msg, "time zone"):
		return h.t(lang, "err.timezone")
	case strings.Contains(msg, "name"):
		return h.t(lang, "err.name")
	case strings.Contains(msg, "language"):
		return h.t(lang, "err.language")
	}
	return h.t(lang, "err.themes")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// sendConfirmation mails the double opt-in link (or, to an address that is
// already confirmed, its preferences link) in lang. The mail holds nothing
// a visitor typed: its words come from the catalogue, its link is signed,
// and it greets nobody by name (the form could name anyone anything).
func (h *Handler) sendConfirmation(ctx context.Context, sub subscribers.Subscriber, lang string) error {
	links := subscribers.LinksFor(h.d.BaseURL, h.d.Tokens, sub.ID)
	data := struct {
		Lang, Site, Subject, Greeting, Intro, URL, Button, Ignore string
	}{Lang: lang, Site: h.digestName(lang), Subject: h.t(lang, "mail.confirm.subject"), Intro: h.t(lang, "mail.confirm.body"),
		URL: links.Confirm, Button: h.t(lang, "confirm.button"), Ignore: h.t(lang, "mail.confirm.ignore"), Greeting: h.t(lang, "mail.hello_anon")}
	if sub.Status == subscribers.Confirmed {
		lang = sub.Language
		data.Lang, data.Site, data.Ignore, data.Greeting = lang, h.digestName(lang), h.t(lang, "mail.confirm.ignore"), h.t(lang, "mail.hello_anon")
		data.Subject, data.Intro, data.URL, data.Button = h.t(lang, "mail.already.subject"), h.t(lang, "mail.already.body"), links.Preferences, h.t(lang, "prefs.link")
	}
	var text, html bytes.Buffer
	if err := h.mailText.Execute(&text, data); err != nil {
		return err
	}
	if err := h.mailHTML.Execute(&html, data); err != nil {
		return err
	}
	return h.d.Mailer.SendOne(ctx, &deliver.Message{
		FromName: h.d.From.Name, FromAddress: h.d.From.Address, ReplyTo: h.d.From.ReplyTo,
		To: sub.Email, Subject: data.Subject, Text: text.String(), HTML: html.String(),
		Headers:         map[string]string{"Auto-Submitted": "auto-generated"},
		MessageIDDomain: h.d.From.MessageIDDomain,
	})
}

// ---- tokens ----

// subscriberFor verifies the {token} of the request for purpose and loads
// its subscriber; on failure it writes the error page and returns ok=false.
func (h *Handler) subscriberFor(w http.ResponseWriter, r *http.Request, purpose string) (subscribers.Subscriber, subscribers.Claims, string, bool) {
	c, err := h.d.Tokens.CheckAt(r.PathValue("token"), purpose, h.d.Now())
	var sub subscribers.Subscriber
	if err == nil {
		sub, err = h.d.Store.Get(r.Context(), c.SubscriberID)
	}
	if err != nil {
		lang := pageLang(w, r, "", h.defaultLang())
		subscribe := link{URL: h.URL("/subscribe"), Label: h.t(lang, "resubscribe")}
		switch {
		case errors.Is(err, subscribers.ErrTokenExpired):
			h.message(w, r, http.StatusGone, lang, "expired.title", []string{h.t(lang, "expired.body")}, subscribe)
		case errors.Is(err, subscribers.ErrInvalidToken), errors.Is(err, subscribers.ErrNotFound):
			h.message(w, r, http.StatusNotFound, lang, "bad.title", []string{h.t(lang, "bad.body")}, subscribe)
		default:
			h.serverError(w, r, lang, err)
		}
		return sub, c, "", false
	}
	return sub, c, pageLang(w, r, sub.Language, h.defaultLang()), true
}

// ---- confirm ----

func (h *Handler) confirmPage(w http.ResponseWriter, r *http.Request) {
	sub, _, lang, ok := h.subscriberFor(w, r, subscribers.PurposeConfirm)
	if !ok {
		return
	}
	if sub.Status == subscribers.Confirmed {
		h.message(w, r, http.StatusOK, lang, "confirm.title", []string{h.t(lang, "confirm.already")}, h.prefsLink(sub, lang))
		return
	}
	p := h.newPage(r, lang, "confirm.title")
	p.Body = []string{h.t(lang, "confirm.body")}
	p.Email = sub.Email
	p.Action = r.URL.Path
	p.Button = h.t(lang, "confirm.button")
	h.render(w, http.StatusOK, "button", p)
}

func (h *Handler) confirm(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		http.Error(w, http.StatusText(formStatus(err)), formStatus(err))
		return
	}
	_, c, lang, ok := h.subscriberFor(w, r, subscribers.PurposeConfirm)
	if !ok {
		return
	}
	if err := h.csrf.Check(r); err != nil {
		h.message(w, r, http.StatusForbidden, lang, "error.title", []string{h.t(lang, "forbidden.body")})
		return
	}
	sub, err := h.d.Store.Confirm(r.Context(), c)
	if errors.Is(err, subscribers.ErrStaleToken) {
		h.message(w, r, http.StatusGone, lang, "expired.title", []string{h.t(lang, "stale.body")}, link{URL: h.URL("/subscribe"), Label: h.t(lang, "resubscribe")})
		return
	}
	if err != nil {
		h.serverError(w, r, lang, err)
		return
	}
	h.message(w, r, http.StatusOK, lang, "confirmed.title", []string{h.t(lang, "confirmed.body")}, h.prefsLink(sub, lang))
}

func (h *Handler) prefsLink(sub subscribers.Subscriber, lang string) link {
	return link{URL: h.URL("/preferences/" + h.d.Tokens.Sign(subscribers.PurposePreferences, sub.ID)), Label: h.t(lang, "prefs.link")}
}

// ---- preferences ----

func (h *Handler) prefsPage(w http.ResponseWriter, r *http.Request) {
	sub, _, lang, ok := h.subscriberFor(w, r, subscribers.PurposePreferences)
	if !ok {
		return
	}
	h.showPrefs(w, r, http.StatusOK, sub, lang, "")
}

func (h *Handler) showPrefs(w http.ResponseWriter, r *http.Request, status int, sub subscribers.Subscriber, lang, note string) {
	switch sub.Status {
	case subscribers.Pending:
		h.message(w, r, status, lang, "prefs.title", []string{h.t(lang, "prefs.pending")})
		return
	case subscribers.Unsubscribed, subscribers.Bounced:
		h.message(w, r, status, lang, "prefs.title", append(nonEmpty(note), h.t(lang, "prefs.inactive")), link{URL: h.URL("/subscribe?lang=" + lang), Label: h.t(lang, "resubscribe")})
		return
	}
	p := h.newPage(r, lang, "prefs.title")
	p.Note = note
	p.Email = sub.Email
	p.Action = r.URL.Path
	p.Form = formData{Name: sub.Name, Language: sub.Language, Paused: sub.Paused}
	p.Themes = h.themes(lang, sub.Themes)
	p.Zones = h.zoneChoices(lang, sub.Timezone)
	h.render(w, status, "preferences", p)
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func (h *Handler) prefs(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		http.Error(w, http.StatusText(formStatus(err)), formStatus(err))
		return
	}
	sub, _, lang, ok := h.subscriberFor(w, r, subscribers.PurposePreferences)
	if !ok {
		return
	}
	if err := h.csrf.Check(r); err != nil {
		h.message(w, r, http.StatusForbidden, lang, "error.title", []string{h.t(lang, "forbidden.body")})
		return
	}
	if r.PostFormValue("action") == "unsubscribe" {
		if err := h.d.Store.Unsubscribe(r.Context(), sub.ID, "preferences page"); err != nil {
			h.serverError(w, r, lang, err)
			return
		}
		h.unsubscribed(w, r, lang)
		return
	}
	if sub.Status != subscribers.Confirmed {
		h.showPrefs(w, r, http.StatusConflict, sub, lang, "")
		return
	}
	themes := r.PostForm["themes"]
	if len(themes) > 2*len(h.d.Themes)+2 {
		themes = themes[:2*len(h.d.Themes)+2]
	}
	newLang := r.PostFormValue("language")
	if validLang(newLang) == "" {
		newLang = sub.Language
	}
	prefs := subscribers.Prefs{Language: newLang, Themes: themes, Paused: r.PostFormValue("paused") != ""}
	if name, ok := r.PostForm["name"]; ok && len(name) == 1 {
		prefs.Name = &name[0]
	}
	if tz, ok := r.PostForm["timezone"]; ok && len(tz) == 1 && len(tz[0]) <= 64 {
		prefs.Timezone = &tz[0]
	}
	updated, err := h.d.Store.UpdatePreferences(r.Context(), sub.ID, prefs)
	if err != nil {
		p := h.newPage(r, lang, "prefs.title")
		p.Error = h.fieldError(lang, err)
		p.Email, p.Action = sub.Email, r.URL.Path
		p.Form = formData{Name: sub.Name, Language: sub.Language, Paused: sub.Paused}
		p.Themes = h.themes(lang, sub.Themes)
		p.Zones = h.zoneChoices(lang, sub.Timezone)
		h.render(w, http.StatusBadRequest, "preferences", p)
		return
	}
	h.showPrefs(w, r, http.StatusOK, updated, lang, h.t(lang, "prefs.saved"))
}

// ---- unsubscribe ----

func (h *Handler) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	sub, _, lang, ok := h.subscriberFor(w, r, subscribers.PurposeUnsubscribe)
	if !ok {
		return
	}
	if sub.Status == subscribers.Unsubscribed || sub.Status == subscribers.Bounced {
		h.message(w, r, http.StatusOK, lang, "unsub.title", []string{h.t(lang, "unsub.already")}, link{URL: h.URL("/subscribe?lang=" + lang), Label: h.t(lang, "resubscribe")})
		return
	}
	p := h.newPage(r, lang, "unsub.title")
	p.Body = []string{h.t(lang, "unsub.body")}
	p.Email = sub.Email
	p.Action = r.URL.Path
	p.Button = h.t(lang, "unsub.button")
	p.Danger = true
	p.Links = []link{h.prefsLink(sub, lang)}
	h.render(w, http.StatusOK, "button", p)
}

// unsubscribe acts on any POST with a valid token. No cross-origin check
// here: RFC 8058 one-click POSTs come from mail providers' servers, and the
// token itself is the proof.
func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	formErr := parseForm(w, r)
	oneClick := formErr == nil && r.PostFormValue("List-Unsubscribe") == "One-Click"
	c, err := h.d.Tokens.CheckAt(r.PathValue("token"), subscribers.PurposeUnsubscribe, h.d.Now())
	if oneClick {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err == nil {
			err = h.d.Store.Unsubscribe(r.Context(), c.SubscriberID, "one-click (RFC 8058)")
		}
		switch {
		case err == nil:
			w.Write([]byte("unsubscribed\n"))
		case errors.Is(err, subscribers.ErrInvalidToken), errors.Is(err, subscribers.ErrNotFound):
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte("invalid or expired link\n"))
		default:
			h.d.Log.Error("public: one-click unsubscribe", "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("error, please retry\n"))
		}
		return
	}
	sub, _, lang, ok := h.subscriberFor(w, r, subscribers.PurposeUnsubscribe)
	if !ok {
		return
	}
	if err := h.d.Store.Unsubscribe(r.Context(), sub.ID, "unsubscribe page"); err != nil {
		h.serverError(w, r, lang, err)
		return
	}
	h.unsubscribed(w, r, lang)
}

func (h *Handler) unsubscribed(w http.ResponseWriter, r *http.Request, lang string) {
	h.message(w, r, http.StatusOK, lang, "unsub.done.title", []string{h.t(lang, "unsub.done.body")}, link{URL: h.URL("/subscribe?lang=" + lang), Label: h.t(lang, "resubscribe")})
}

// ThemesFrom turns the configured themes into form choices.
func ThemesFrom(ts []theme.Theme) []Theme {
	out := make([]Theme, 0, len(ts))
	for _, t := range ts {
		out = append(out, Theme{Key: t.Key, NameVI: t.NameVI, NameEN: t.NameEN})
	}
	return out
}
