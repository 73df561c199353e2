// Package render turns an issue into the email readers get (HTML and plain
// text) and its web version, from the templates in templates/ (embedded,
// overridable from a directory). Templates are parsed once at start-up so a
// broken one fails then, naming its file and line, never at send time.
//
// Rendering is done once per variant (language × theme selection); the
// per-recipient parts (name, unsubscribe and preferences URLs) are filled in
// by Personalise without running the templates again.
//
// Files read from the templates FS:
//
//	email/issue.html.tmpl     the HTML email (also the web version of an issue)
//	email/issue.txt.tmpl      the plain-text part
//	email/styles.css          class rules, inlined into style attributes; @media rules go to <style>
//	email/messages.toml       every fixed string, in [vi] and [en]
//	web/archive/index.html.tmpl  the archive page of past issues
//
// An operator overrides a file by putting one of the same name under the
// config's templates directory; a template or the stylesheet is replaced
// whole, while the catalogue's messages are merged over the built-in ones
// (see templates.LoadCatalog).
//
// What the issue templates see (one language per run):
//
//	.Lang .OtherLang .Subject .DigestName .Number .DateLong .Preheader
//	.Note          []string paragraphs of the editor's note
//	.Sections      each .Key .Name .Items; an item (the story as the
//	               reader of .Lang gets it) has .Title .TitleLang .Summary
//	               .SummaryLang .URL .Source .Date, .Image (.URL .Alt
//	               .Width .Height) or nil, .Badge .BadgeTitle (a story
//	               not in .Lang), .Translated (a staff translation) and
//	               .Also (.URL .Label .Lang: the other language's version)
//	.Count .WebURL .Sender (.Name .PostalAddress .WebsiteURL)
//	.P             per-reader placeholders: .Greeting .Email .Unsubscribe
//	               .Preferences (email only; Personalise fills them)
//	.Web .ArchiveURL .OtherLangURL .SubscribeURL   (web version only)
//
// Functions: t "key" "param" value... (catalogue message), plural "key" n,
// s "class"... (class and inlined style attributes from styles.css), css
// (the @media rules, one per <style>), mso "open"|"close" (Outlook ghost
// table), preheaderPad, wrap width indent text, rule n "=", upper, add,
// lines, thumbWidth, thumbHeight, badge.
package render

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
	"unicode"

	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/templates"
	"golang.org/x/text/unicode/norm"
)

// Localized is a text with optional per-language overrides written by staff.
type Localized struct {
	Default string // as the source published it
	VI, EN  string // staff overrides; "" means use Default
}

// In returns the text for lang.
func (l Localized) In(lang string) string {
	switch {
	case lang == "vi" && l.VI != "":
		return l.VI
	case lang == "en" && l.EN != "":
		return l.EN
	}
	return l.Default
}

// overridden reports whether staff wrote a text for lang.
func (l Localized) overridden(lang string) bool {
	return (lang == "vi" && l.VI != "") || (lang == "en" && l.EN != "")
}

// Item is one story as shown in the digest: its lead as published (the
// Default texts, URL, Source, Language), the staff's titles and summaries
// per language, and the story's other versions.
type Item struct {
	Title       Localized
	Summary     Localized // plain text
	SummaryHTML string    // sanitised HTML from the feed (may be ""); used when Summary is empty
	URL         string
	Source      string
	Language    string // language of the story itself
	Published   time.Time
	ImageURL    string
	// Optional image details; "Photo: <source>" is the alt text when ImageAlt is "",
	// and a 16:9 box is assumed when the size is unknown.
	ImageAlt                string
	ImageWidth, ImageHeight int
	// Versions are the same story as published in another language or by
	// another source. A reader gets the version in their language (see
	// Issue.OtherLanguage), with a link to the other language's.
	Versions []Version
}

// Version is a story as one portal published it.
type Version struct {
	Language    string
	Title       string
	Summary     string // plain text
	SummaryHTML string // used when Summary is empty
	URL         string
	Source      string
	Published   time.Time
	ImageURL    string
}

// Section is one theme's items, in display order.
type Section struct {
	Theme theme.Theme
	Items []Item
}

// Issue is everything the templates need of one issue.
type Issue struct {
	ID        int64
	Number    int            // 1, 2, ... per digest
	DigestKey string         // "weekly"
	Title     Localized      // the digest's name ("Bản tin Hải Phòng"); "" uses the catalogue's
	Date      time.Time      // the issue's date
	Location  *time.Location // the digest's time zone, for formatting dates
	Note      Localized      // editor's note (plain text paragraphs)
	Sections  []Section      // in theme order; empty sections are skipped
	WebURL    string         // absolute URL of the web version, without language
	Sender    Sender
	// OtherLanguage is what a reader gets of a story that has no version
	// in their language: "badge" (the default, also for ""): the story in
	// its language, marked; "translated_only": only once staff translated
	// it; "omit": not at all, translated or not.
	OtherLanguage string
}

// Sender identifies who sends the digest (the footer's postal address).
type Sender struct {
	Name          string
	PostalAddress string
	WebsiteURL    string
}

// Recipient holds the per-recipient values filled in by Personalise.
type Recipient struct {
	Name           string
	Email          string
	UnsubscribeURL string
	PreferencesURL string
}

// Languages are the languages the templates are rendered in.
var Languages = templates.Languages

// Files the renderer needs; a missing one is an error at New.
const (
	fileHTML     = "email/issue.html.tmpl"
	fileText     = "email/issue.txt.tmpl"
	fileCSS      = "email/styles.css"
	fileMessages = "email/messages.toml"
	fileArchive  = "web/archive/index.html.tmpl"
)

// Renderer holds the parsed templates. It is safe for concurrent use.
type Renderer struct {
	cat    catalog
	styles *styles
	tok    tokens
	html   map[string]*htmltemplate.Template // per language
	text   map[string]*template.Template
	arch   map[string]*htmltemplate.Template
}

// tokens are the per-renderer placeholders Personalise replaces. They are
// random so that no feed text can contain (or forge) one.
type tokens struct{ prefix, Greeting, Email, Unsubscribe, Preferences string }

// Suffixes of the placeholders after the random prefix.
const (
	sufGreeting = "greeting"
	sufEmail    = "email"
	sufUnsub    = "unsub"
	sufPrefs    = "prefs"
)

func newTokens() tokens {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	p := "hpd" + hex.EncodeToString(b)
	return tokens{p, p + sufGreeting, p + sufEmail, p + sufUnsub, p + sufPrefs}
}

// slotsPerPart is the number of per-recipient values of a part (see
// Variant.Values): greeting, address, unsubscribe and preferences links.
const slotsPerPart = 4

// Part is a variant's text or HTML as literal text with the per-recipient
// values between: Slots[i], an index into Variant.Values, goes between
// Literals[i] and Literals[i+1].
type Part struct {
	Literals []string
	Slots    []int
}

// split cuts s at its placeholders; the values of a part come from slot
// first onwards. All placeholders share the random prefix, so one scan
// for it finds them all.
func (tk tokens) split(s string, first int) Part {
	sufs := [slotsPerPart]string{sufGreeting, sufEmail, sufUnsub, sufPrefs}
	var p Part
	lit := 0 // start of the current literal
	for from := 0; ; {
		i := strings.Index(s[from:], tk.prefix)
		if i < 0 {
			p.Literals = append(p.Literals, s[lit:])
			return p
		}
		at := from + i
		from = at + len(tk.prefix)
		for k, suf := range sufs {
			if strings.HasPrefix(s[from:], suf) { // else not ours (cannot happen with our templates): kept as text
				p.Literals = append(p.Literals, s[lit:at])
				p.Slots = append(p.Slots, first+k)
				from += len(suf)
				lit = from
				break
			}
		}
	}
}

// join fills the part's slots with vals.
func (p Part) join(vals []string) string {
	n := 0
	for _, l := range p.Literals {
		n += len(l)
	}
	for _, k := range p.Slots {
		n += len(vals[k])
	}
	var b strings.Builder
	b.Grow(n)
	for i, l := range p.Literals {
		b.WriteString(l)
		if i < len(p.Slots) {
			b.WriteString(vals[p.Slots[i]])
		}
	}
	return b.String()
}

// New parses the email and web templates from fsys (see templates.FS). A
// missing or broken file is an error naming it (and the line, where the
// parser knows it); the templates are also executed once on a sample issue
// in every language so that a bad field or message key fails here too.
func New(fsys fs.FS) (*Renderer, error) {
	read := func(name string) (string, error) {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return "", fmt.Errorf("render: template %s: %w", name, err)
		}
		return string(b), nil
	}
	var src = map[string]string{}
	for _, name := range []string{fileHTML, fileText, fileCSS, fileArchive} {
		s, err := read(name)
		if err != nil {
			return nil, err
		}
		src[name] = s
	}
	r := &Renderer{
		tok:  newTokens(),
		html: map[string]*htmltemplate.Template{},
		text: map[string]*template.Template{},
		arch: map[string]*htmltemplate.Template{},
	}
	var err error
	if r.cat, err = loadCatalog(fsys); err != nil {
		return nil, err
	}
	if r.styles, err = parseStyles(fileCSS, src[fileCSS]); err != nil {
		return nil, err
	}
	for _, lang := range Languages {
		funcs := r.funcs(lang)
		h, err := htmltemplate.New(fileHTML).Funcs(funcs).Parse(src[fileHTML])
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		t, err := template.New(fileText).Funcs(funcs).Parse(src[fileText])
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		a, err := htmltemplate.New(fileArchive).Funcs(funcs).Parse(src[fileArchive])
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		var trees []*parse.Tree
		for _, x := range append(h.Templates(), a.Templates()...) {
			trees = append(trees, x.Tree)
		}
		for _, x := range t.Templates() {
			trees = append(trees, x.Tree)
		}
		for _, tree := range trees {
			if err := r.cat.c.CheckTree(tree, templateLookups); err != nil {
				return nil, fmt.Errorf("render: %w", err)
			}
		}
		r.html[lang], r.text[lang], r.arch[lang] = h, t, a
	}
	if err := r.selfTest(); err != nil {
		return nil, err
	}
	return r, nil
}

// templateLookups are the template functions that look a message up, with
// the position of the key: {{t "key" ...}}.
var templateLookups = map[string]int{"t": 1}

// Variant is an issue rendered for one language and theme selection, with
// placeholders for the per-recipient values.
type Variant struct {
	Lang    string
	Subject string
	Items   int    // number of items in it; 0 means there is nothing to send
	html    string // with the placeholders
	text    string
	parts   [2]Part   // text, HTML: cut at the placeholders
	greet   [2]string // with {name}, and without a name
	digest  string
}

// Variant renders iss for lang, keeping only the sections of themes (all
// sections when themes is empty).
func (r *Renderer) Variant(iss *Issue, lang string, themes []string) (*Variant, error) {
	if _, ok := r.html[lang]; !ok {
		return nil, fmt.Errorf("render: unsupported language %q", lang)
	}
	p := r.page(iss, lang, themes, false)
	p.P = r.tok
	var hb, tb bytes.Buffer
	if err := r.html[lang].Execute(&hb, p); err != nil {
		return nil, fmt.Errorf("render: issue %d (%s): %w", iss.ID, lang, err)
	}
	if err := r.text[lang].Execute(&tb, p); err != nil {
		return nil, fmt.Errorf("render: issue %d (%s): %w", iss.ID, lang, err)
	}
	v := &Variant{
		Lang:    lang,
		Subject: p.Subject,
		Items:   p.Count,
		html:    hb.String(),
		text:    tidyText(tb.String()),
		greet:   [2]string{r.cat.msg(lang, "greeting"), r.cat.msg(lang, "greeting_anonymous")},
		digest:  p.DigestName,
	}
	v.parts = [2]Part{r.tok.split(v.text, 0), r.tok.split(v.html, slotsPerPart)}
	return v, nil
}

// Parts returns the text and the HTML as literal text and slots, for a
// sender that encodes the literal text once: joined with Values they are
// what Personalise returns. The parts are shared: do not change them.
func (v *Variant) Parts() (text, html Part) { return v.parts[0], v.parts[1] }

// Values returns the per-recipient values of the slots: greeting,
// address, unsubscribe and preferences links for the text part, then the
// same HTML-escaped for the HTML part. URLs that are not http(s) or mailto
// are dropped (the link then points nowhere rather than somewhere
// unexpected).
func (v *Variant) Values(rc Recipient) []string {
	name := cleanLine(rc.Name, 80)
	greeting := v.greet[1]
	if name != "" {
		greeting = strings.ReplaceAll(v.greet[0], "{name}", name)
	}
	email := cleanLine(rc.Email, 254)
	unsub, prefs := safeURL(rc.UnsubscribeURL), safeURL(rc.PreferencesURL)
	esc := html.EscapeString
	return []string{greeting, email, unsub, prefs, esc(greeting), esc(email), esc(unsub), esc(prefs)}
}

// Personalise returns the HTML and text bodies for one recipient (see
// Values).
func (v *Variant) Personalise(rc Recipient) (htmlBody, text string) {
	vals := v.Values(rc)
	return v.parts[1].join(vals), v.parts[0].join(vals)
}

// cleanLine makes a one-line NFC text of at most max runes: no control
// characters, no line breaks, no surrounding space.
func cleanLine(s string, max int) string {
	s = norm.NFC.String(s)
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if rs := []rune(s); len(rs) > max {
		s = string(rs[:max])
	}
	return s
}

// safeURL keeps absolute http, https and mailto URLs.
func safeURL(u string) string {
	u = strings.TrimSpace(u)
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "mailto:") {
		if !strings.ContainsAny(u, " \t\r\n\"'<>") {
			return u
		}
	}
	return ""
}

// tidyText trims trailing spaces and collapses runs of blank lines.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 1 || len(out) == 0 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
}
