// Package archive serves the web versions of sent issues ("view in
// browser"), the archive page of past issues and an Atom feed of issues,
// under the path of the public base URL:
//
//	GET /issues              archive page (?lang=vi|en, default from Accept-Language)
//	GET /issues/{id}         one sent issue, all sections (?lang=vi|en)
//	GET /issues/feed.atom    Atom feed of the latest issues (?lang=vi|en, default vi)
//
// Only issues the Source lists as sent are ever shown; a draft's id is a 404.
package archive

import (
	"context"
	"database/sql"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/render"
	"github.com/haiphong/hpdigest/templates"
)

// IssueSummary is one sent issue as the archive lists it.
type IssueSummary struct {
	ID     int64
	Number int
	Date   time.Time // the issue's date
	SentAt time.Time // when sending finished (or started); the feed's "updated"
	Items  int       // number of items in the full issue; 0 if unknown (not shown)
}

// Source is what the archive needs from the digest store (cmd/hpdigest
// implements it over the app).
type Source interface {
	// SentIssues lists the issues that have been sent, newest first.
	// Drafts, approved-but-unsent and cancelled issues must not be listed.
	SentIssues(ctx context.Context) ([]IssueSummary, error)
	// RenderIssue returns a sent issue with every section and item, as
	// readers got it, with WebURL set to IssueURL(baseURL, id). An unknown
	// id is an error wrapping ErrNotFound (sql.ErrNoRows is accepted too).
	RenderIssue(ctx context.Context, id int64) (*render.Issue, error)
}

// ErrNotFound is returned by a Source for an issue it does not have.
var ErrNotFound = errors.New("archive: no such issue")

// IssueURL is the absolute URL of an issue's web page, without language;
// render.Issue.WebURL is set to it so "view in browser" links here.
func IssueURL(baseURL string, id int64) string {
	return strings.TrimRight(baseURL, "/") + "/issues/" + strconv.FormatInt(id, 10)
}

// Handler serves the archive.
type Handler struct {
	src    Source
	r      *render.Renderer
	base   string
	prefix string // the base URL's path: the routes live under it

	// Optional settings; set them before Register.
	DigestName   render.Localized // the archive's and feed's title; "" uses the message catalogue
	Location     *time.Location   // the digest's time zone for dates (default: as given)
	SubscribeURL string           // the public subscribe page; "" hides the link
	FeedLimit    int              // entries in the feed (default 20)
	Log          *slog.Logger     // default slog.Default()
}

// New returns the archive for the public base URL of the daemon
// ("https://digest.example.org"), which it uses for absolute links.
func New(src Source, r *render.Renderer, baseURL string) (*Handler, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("archive: base URL %q must be an absolute http(s) URL", baseURL)
	}
	if src == nil || r == nil {
		return nil, errors.New("archive: source and renderer are required")
	}
	return &Handler{src: src, r: r, base: strings.TrimRight(baseURL, "/"), prefix: strings.TrimRight(u.Path, "/"), FeedLimit: 20}, nil
}

// Register adds the archive's routes to mux, under the path of the base
// URL (https://example.org/tin gives /tin/issues), where the links in the
// mails ("view in browser", List-Archive) point.
func (h *Handler) Register(mux *http.ServeMux) {
	p := h.prefix
	mux.HandleFunc("GET "+p+"/issues", h.list)
	mux.HandleFunc("GET "+p+"/issues/{$}", h.list)
	mux.HandleFunc("GET "+p+"/issues/feed.atom", h.feed)
	mux.HandleFunc("GET "+p+"/issues/{id}", h.issue)
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// lang picks the page's language: ?lang= if valid, else the best match of
// Accept-Language, else Vietnamese. explicit tells whether the URL chose it.
func lang(req *http.Request) (l string, explicit bool) {
	switch q := req.URL.Query().Get("lang"); q {
	case "vi", "en":
		return q, true
	}
	if l, ok := templates.MatchLanguage(req.Header.Get("Accept-Language")); ok {
		return l, false
	}
	return "vi", false
}

func withLang(u, l string) string { return u + "?lang=" + l }

// headers common to the HTML pages. Images come from the portals, styles
// are inline; nothing else may load.
func pageHeaders(w http.ResponseWriter, l string, explicit bool) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Language", l)
	if !explicit {
		hd.Set("Vary", "Accept-Language")
	}
	hd.Set("Cache-Control", "public, max-age=300")
	hd.Set("Content-Security-Policy", "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
}

func (h *Handler) fail(w http.ResponseWriter, req *http.Request, err error) {
	h.log().Error("archive", "path", req.URL.Path, "err", err)
	http.Error(w, "The archive is unavailable right now; please try again later.", http.StatusInternalServerError)
}

func (h *Handler) list(w http.ResponseWriter, req *http.Request) {
	l, explicit := lang(req)
	sent, err := h.src.SentIssues(req.Context())
	if err != nil {
		h.fail(w, req, err)
		return
	}
	var items []render.ArchiveIssue
	for _, s := range sent {
		items = append(items, render.ArchiveIssue{Number: s.Number, Date: s.Date, Items: s.Items, URL: withLang(IssueURL(h.base, s.ID), l)})
	}
	b, err := h.r.ArchivePage(l, items, render.ArchiveOptions{
		DigestName:   h.DigestName,
		Location:     h.Location,
		FeedURL:      withLang(h.base+"/issues/feed.atom", l),
		OtherLangURL: withLang(h.base+"/issues", render.OtherLanguage(l)),
		SubscribeURL: h.SubscribeURL,
	})
	if err != nil {
		h.fail(w, req, err)
		return
	}
	pageHeaders(w, l, explicit)
	w.Write(b)
}

// sentIssue loads issue id if it has been sent; ok=false means 404.
func (h *Handler) sentIssue(ctx context.Context, id int64) (iss *render.Issue, ok bool, err error) {
	sent, err := h.src.SentIssues(ctx)
	if err != nil {
		return nil, false, err
	}
	found := false
	for _, s := range sent {
		if s.ID == id {
			found = true
			break
		}
	}
	if !found {
		return nil, false, nil
	}
	iss, err = h.src.RenderIssue(ctx, id)
	if errors.Is(err, ErrNotFound) || errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return iss, true, nil
}

func (h *Handler) issue(w http.ResponseWriter, req *http.Request) {
	id, err := strconv.ParseInt(req.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		http.NotFound(w, req)
		return
	}
	l, explicit := lang(req)
	iss, ok, err := h.sentIssue(req.Context(), id)
	if err != nil {
		h.fail(w, req, err)
		return
	}
	if !ok {
		http.NotFound(w, req)
		return
	}
	if h.Location != nil && iss.Location == nil {
		iss.Location = h.Location
	}
	self := IssueURL(h.base, id)
	if iss.WebURL == "" {
		iss.WebURL = self
	}
	b, err := h.r.WebPage(iss, l, render.WebOptions{
		ArchiveURL:   withLang(h.base+"/issues", l),
		OtherLangURL: withLang(self, render.OtherLanguage(l)),
		SubscribeURL: h.SubscribeURL,
	})
	if err != nil {
		h.fail(w, req, err)
		return
	}
	pageHeaders(w, l, explicit)
	w.Write(b)
}

// Atom (RFC 4287) documents.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel      string `xml:"rel,attr"`
	Type     string `xml:"type,attr,omitempty"`
	Href     string `xml:"href,attr"`
	HrefLang string `xml:"hreflang,attr,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	Title     string     `xml:"title"`
	ID        string     `xml:"id"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published"`
	Links     []atomLink `xml:"link"`
	Content   *atomText  `xml:"content,omitempty"`
}

func (h *Handler) feed(w http.ResponseWriter, req *http.Request) {
	// Feed readers rarely send a meaningful Accept-Language: Vietnamese
	// unless the URL asks for English.
	l := "vi"
	if req.URL.Query().Get("lang") == "en" {
		l = "en"
	}
	sent, err := h.src.SentIssues(req.Context())
	if err != nil {
		h.fail(w, req, err)
		return
	}
	if h.FeedLimit > 0 && len(sent) > h.FeedLimit {
		sent = sent[:h.FeedLimit]
	}
	name := h.DigestName.In(l)
	if name == "" {
		name = digest.DefaultTitle(l)
	}
	self := withLang(h.base+"/issues/feed.atom", l)
	f := atomFeed{
		Lang:  l,
		Title: h.r.T(l, "feed_title", "digest", name),
		ID:    self,
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: self},
			{Rel: "alternate", Type: "text/html", Href: withLang(h.base+"/issues", l)},
		},
		Author: atomAuthor{Name: name, URI: h.base + "/issues"},
	}
	var newest time.Time
	for _, s := range sent {
		when := s.SentAt
		if when.IsZero() {
			when = s.Date
		}
		if when.After(newest) {
			newest = when
		}
		href := withLang(IssueURL(h.base, s.ID), l)
		e := atomEntry{
			Title:     h.r.IssueLabel(l, s.Number, s.Date, h.Location),
			ID:        href,
			Updated:   when.UTC().Format(time.RFC3339),
			Published: when.UTC().Format(time.RFC3339),
			Links:     []atomLink{{Rel: "alternate", Type: "text/html", Href: href, HrefLang: l}},
		}
		if iss, err := h.src.RenderIssue(req.Context(), s.ID); err == nil {
			e.Content = &atomText{Type: "html", Body: h.entryHTML(iss, l, s.Items)}
		} else {
			h.log().Warn("archive feed: issue without content", "issue", s.ID, "err", err)
		}
		f.Entries = append(f.Entries, e)
	}
	if newest.IsZero() {
		newest = time.Unix(0, 0)
	}
	f.Updated = newest.UTC().Format(time.RFC3339)
	out, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		h.fail(w, req, err)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write([]byte(xml.Header))
	w.Write(out)
}

// entryHTML lists an issue's sections and linked titles for a feed entry.
func (h *Handler) entryHTML(iss *render.Issue, l string, items int) string {
	var b strings.Builder
	if items == 0 {
		for _, sec := range iss.Sections {
			items += len(sec.Items)
		}
	}
	count := h.r.T(l, "stories_other", "count", items)
	if items == 1 {
		count = h.r.T(l, "stories_one", "count", items)
	}
	b.WriteString("<p>" + html.EscapeString(h.r.T(l, "feed_entry_count", "count", count)) + "</p>")
	// Each story as a reader of l gets it: their language's version.
	for _, sec := range h.r.Outline(iss, l) {
		b.WriteString("<h2>" + html.EscapeString(sec.Name) + "</h2><ul>")
		for _, it := range sec.Items {
			title := html.EscapeString(it.Title)
			if it.Lang != "" {
				title = `<span lang="` + html.EscapeString(it.Lang) + `">` + title + "</span>"
			}
			if u, err := url.Parse(it.URL); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
				b.WriteString(`<li><a href="` + html.EscapeString(it.URL) + `">` + title + "</a></li>")
			} else {
				b.WriteString("<li>" + title + "</li>")
			}
		}
		b.WriteString("</ul>")
	}
	return b.String()
}
