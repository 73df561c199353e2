package render

import (
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/feeds/htmltext"
	"github.com/haiphong/hpdigest/templates"
	"golang.org/x/text/unicode/norm"
)

// page is what the issue templates see. Every text in it is NFC.
type page struct {
	Lang, OtherLang string
	Subject         string
	DigestName      string
	Number          int
	DateLong        string
	Preheader       string
	Note            []string // paragraphs
	Sections        []sectionView
	Count           int
	WebURL          string // web version in this language
	Sender          Sender
	P               tokens // placeholders (email only)

	// Web version only.
	Web          bool
	ArchiveURL   string
	OtherLangURL string
	SubscribeURL string
}

type sectionView struct {
	Key, Name string
	Items     []itemView
}

type itemView struct {
	Title, TitleLang     string // TitleLang is set when it differs from the page's
	Summary, SummaryLang string
	URL, Source, Date    string
	Image                *imageView
	// Badge names the story's language when the reader gets it in that
	// language, not theirs ("Tiếng Việt"); BadgeTitle says so in words.
	Badge, BadgeTitle string
	// Also links the story's version in the other language.
	Also *alsoView
	// Translated says that the editors translated the title and summary,
	// and the language of the original the link leads to.
	Translated string
}

type alsoView struct {
	URL, Label, Lang string
}

type imageView struct {
	URL, Alt      string
	Width, Height int
}

// Content width of the email (600 minus the card's padding): images are
// sized for it.
const contentWidth = 536

// Width of the thumbnails of the items after a section's first.
const thumbWidth = 120

// Summaries are cut at about this many characters.
const summaryMax = 220

// The story title in a subject line is cut at about this many characters.
const subjectTitleMax = 70

// OtherLanguage is the language a reader of lang can switch to.
func OtherLanguage(lang string) string { return templates.OtherLanguage(lang) }

// digestName is the configured name, or the default name when there is none.
func (r *Renderer) digestName(lang, configured string) string {
	if configured != "" {
		return configured
	}
	return digest.DefaultTitle(lang)
}

func (r *Renderer) page(iss *Issue, lang string, themes []string, web bool) *page {
	loc := iss.Location
	if loc == nil {
		loc = time.UTC
	}
	p := &page{Lang: lang, Web: web, Number: iss.Number, Sender: nfcSender(iss.Sender), OtherLang: OtherLanguage(lang)}
	p.DigestName = r.digestName(lang, nfc(iss.Title.In(lang)))
	p.DateLong = r.cat.date(lang, "date_long", iss.Date, loc)
	p.Subject, _ = r.cat.t(lang, "subject", "digest", p.DigestName, "date", p.DateLong, "number", iss.Number)
	if iss.WebURL != "" {
		p.WebURL = withLang(iss.WebURL, lang)
	}
	for _, para := range strings.Split(strings.ReplaceAll(iss.Note.In(lang), "\r\n", "\n"), "\n\n") {
		if para = strings.Join(strings.Fields(nfc(para)), " "); para != "" {
			p.Note = append(p.Note, para)
		}
	}
	want := map[string]bool{}
	for _, k := range themes {
		want[k] = true
	}
	var titles []string
	lead := "" // the first story in the reader's language, else the first
	for _, sec := range iss.Sections {
		if len(themes) > 0 && !want[sec.Theme.Key] {
			continue
		}
		sv := sectionView{Key: sec.Theme.Key, Name: nfc(themeName(sec.Theme, lang))}
		for _, it := range sec.Items {
			iv, ok := r.item(it, lang, iss.OtherLanguage, loc)
			if !ok || iv.Title == "" {
				continue
			}
			sv.Items = append(sv.Items, iv)
			titles = append(titles, iv.Title)
			if lead == "" && iv.Badge == "" {
				lead = iv.Title
			}
		}
		if len(sv.Items) > 0 {
			p.Sections = append(p.Sections, sv)
			p.Count += len(sv.Items)
		}
	}
	if lead == "" && len(titles) > 0 {
		lead = titles[0]
	}
	if lead != "" {
		p.Subject, _ = r.cat.t(lang, "subject_story", "digest", p.DigestName, "number", iss.Number, "date", p.DateLong, "title", truncate(lead, subjectTitleMax))
	}
	var pre string
	if len(p.Note) > 0 {
		pre = p.Note[0]
	} else {
		pre = strings.Join(titles, " · ")
	}
	count, _ := r.cat.plural(lang, "stories", p.Count)
	pre, _ = r.cat.t(lang, "preheader", "count", count, "text", pre)
	p.Preheader = truncate(pre, 140)
	return p
}

func themeName(t theme.Theme, lang string) string {
	if n := t.Name(lang); n != "" {
		return n
	}
	return t.Key
}

// storyVersion is one language's text of a story as the page shows it.
type storyVersion struct {
	Version
	sources []string // every source of the language, the version's first
	lead    bool     // the story's lead (the staff's texts apply to it)
}

// versions returns the story's versions by language, the lead first: one
// per language (its first), with the sources of all of that language's.
func (it Item) versions() []storyVersion {
	all := append([]Version{{Language: it.Language, Title: it.Title.Default, Summary: it.Summary.Default,
		SummaryHTML: it.SummaryHTML, URL: it.URL, Source: it.Source, Published: it.Published, ImageURL: it.ImageURL}}, it.Versions...)
	var out []storyVersion
	for i, v := range all {
		v.Language = itemLanguage(v.Language)
		at := -1
		for j := range out {
			if out[j].Language == v.Language {
				at = j
			}
		}
		if at < 0 {
			out = append(out, storyVersion{Version: v, lead: i == 0})
			at = len(out) - 1
		}
		if src := oneLine(v.Source); src != "" && !slices.Contains(out[at].sources, src) {
			out[at].sources = append(out[at].sources, src)
		}
	}
	return out
}

// itemLanguage is a story's language tag in lower case, "" if it is not one.
func itemLanguage(l string) string {
	l = strings.ToLower(l)
	if !langTag.MatchString(l) {
		return ""
	}
	return l
}

// item is the story as a reader of lang gets it (ok=false: not at all,
// under the issue's mode): the version published in lang, else the staff's
// translation (not under "omit"), else ("badge" only) the story in its own
// language with a badge.
func (r *Renderer) item(it Item, lang, mode string, loc *time.Location) (itemView, bool) {
	vs := it.versions()
	lead := vs[0]
	var native *storyVersion
	for i := range vs {
		if vs[i].Language == lang || vs[i].Language == "" && vs[i].lead {
			native = &vs[i]
			break
		}
	}
	translated := it.Title.overridden(lang)
	var iv itemView
	var shown storyVersion
	switch {
	case native != nil:
		shown = *native
		iv.Title, iv.Summary = shown.Title, shown.Summary
		if translated {
			iv.Title = it.Title.In(lang)
		}
		if it.Summary.overridden(lang) {
			iv.Summary = it.Summary.In(lang)
		}
		for _, o := range vs {
			if o.Language != lang && o.Language != "" && safeURL(o.URL) != "" && r.cat.msg(lang, "also_"+o.Language) != "" {
				iv.Also = &alsoView{URL: safeURL(o.URL), Label: r.cat.msg(lang, "also_"+o.Language), Lang: o.Language}
				break
			}
		}
	case translated && mode != digest.OtherLanguageOmit:
		shown = lead
		iv.Title, iv.Summary = it.Title.In(lang), ""
		if it.Summary.overridden(lang) {
			iv.Summary = it.Summary.In(lang)
		}
		shown.SummaryHTML = ""
		iv.Translated, _ = r.cat.t(lang, "translated_note", "language", r.cat.msg(lang, "language_"+lead.Language))
	case mode == "" || mode == digest.OtherLanguageBadge:
		shown = lead
		iv.Title, iv.TitleLang = shown.Title, shown.Language
		iv.Summary, iv.SummaryLang = it.Summary.In(lang), shown.Language
		if it.Summary.overridden(lang) {
			iv.SummaryLang = ""
		}
		iv.Badge = r.cat.msg(lang, "lang_badge_"+shown.Language)
		if iv.Badge != "" {
			iv.BadgeTitle, _ = r.cat.t(lang, "lang_badge_title", "language", r.cat.msg(lang, "language_"+shown.Language))
		}
	default:
		return itemView{}, false
	}
	iv.Title = oneLine(iv.Title)
	iv.URL = safeURL(shown.URL)
	iv.Source = strings.Join(shown.sources, ", ")
	iv.Date = r.cat.date(lang, "date_short", shown.Published, loc)
	sum := iv.Summary
	if strings.TrimSpace(sum) == "" && shown.SummaryHTML != "" {
		sum = htmltext.String(shown.SummaryHTML)
	}
	iv.Summary = truncate(oneLine(sum), summaryMax)
	if iv.Summary == "" {
		iv.SummaryLang = ""
	}
	image := shown.ImageURL
	if image == "" {
		image = it.ImageURL
	}
	if u := safeURL(image); u != "" && strings.HasPrefix(strings.ToLower(u), "http") {
		img := &imageView{URL: u, Alt: oneLine(it.ImageAlt), Width: contentWidth, Height: contentWidth * 9 / 16}
		if img.Alt == "" {
			// Not the title: it sits right next to the picture, and a
			// repeated title is noise for screen readers and when images
			// are blocked.
			if iv.Source != "" {
				img.Alt, _ = r.cat.t(lang, "image_alt", "source", iv.Source)
			} else {
				img.Alt = r.cat.msg(lang, "image_alt_plain")
			}
		}
		if it.ImageWidth > 0 && it.ImageHeight > 0 && image == it.ImageURL {
			h := contentWidth * it.ImageHeight / it.ImageWidth
			// Keep odd shapes within reason; CSS height:auto keeps the real ratio.
			img.Height = min(max(h, contentWidth/4), contentWidth)
		}
		iv.Image = img
	}
	return iv, true
}

// langTag accepts simple BCP 47 tags ("vi", "en", "zh-hans").
var langTag = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})*$`)

func nfc(s string) string { return norm.NFC.String(s) }

func oneLine(s string) string { return strings.Join(strings.Fields(nfc(s)), " ") }

func nfcSender(s Sender) Sender {
	return Sender{Name: oneLine(s.Name), PostalAddress: nfc(strings.TrimSpace(s.PostalAddress)), WebsiteURL: safeURL(s.WebsiteURL)}
}

// truncate cuts s to at most max runes at a word boundary, adding "…".
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	rs := []rune(s)[:max]
	cut := string(rs)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:–-") + "…"
}

func withLang(u, lang string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "lang=" + lang
}

// funcs are the template functions, bound to one language.
func (r *Renderer) funcs(lang string) map[string]any {
	return map[string]any{
		// t "key" "param" value ...: a message from the catalogue.
		"t": func(key string, args ...any) (string, error) { return r.cat.t(lang, key, args...) },
		// plural "key" n: key_one or key_other.
		"plural": func(key string, n int) (string, error) { return r.cat.plural(lang, key, n) },
		// s "class" ...: class and inlined style attributes.
		"s": r.styles.attrs,
		// css: the at-rules, each for its own <style> block.
		"css": func() []htmltemplate.CSS {
			out := make([]htmltemplate.CSS, len(r.styles.extra))
			for i, e := range r.styles.extra {
				out[i] = htmltemplate.CSS(e)
			}
			return out
		},
		// mso: Outlook-only ghost table around the 600px column (html/template
		// drops comments written in templates).
		"mso": func(part string) (htmltemplate.HTML, error) {
			switch part {
			case "open":
				return `<!--[if mso]><table role="presentation" width="600" align="center" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->`, nil
			case "close":
				return `<!--[if mso]></td></tr></table><![endif]-->`, nil
			}
			return "", fmt.Errorf("mso: want open or close, not %q", part)
		},
		// preheaderPad: invisible characters that keep mail clients from
		// pulling body text into the inbox preview after the preheader.
		"preheaderPad": func() htmltemplate.HTML {
			return htmltemplate.HTML(strings.Repeat("&#847;&zwnj;&nbsp;", 60))
		},
		"thumbWidth": func() int { return thumbWidth },
		// thumbHeight: the thumbnail's height for the image's ratio.
		"thumbHeight": func(im *imageView) int { return thumbWidth * im.Height / im.Width },
		"upper":       strings.ToUpper,
		"add":         func(a, b int) int { return a + b },
		// wrap width indent text: word-wrapped plain text, later lines indented.
		"wrap": func(width int, indent, text string) string { return wrap(width, indent, text, r.tok.Email) },
		// rule n: a line of n box-drawing dashes for the text part.
		"rule":  func(n int, ch string) string { return strings.Repeat(ch, n) },
		"lines": func(s string) []string { return strings.Split(s, "\n") },
		// badge: a language badge as the text part writes it, "[Tiếng Việt] ".
		"badge": func(b string) string {
			if b == "" {
				return ""
			}
			return "[" + b + "] "
		},
	}
}

// wrap breaks text into lines of at most width runes (longer words, such as
// URLs, stay whole), prefixing continuation lines with indent.
//
// A word holding the email placeholder counts as a typical address, since
// the real one is filled in later.
func wrap(width int, indent, text, emailToken string) string {
	var b strings.Builder
	col := 0
	for i, w := range strings.Fields(text) {
		n := utf8.RuneCountInString(w)
		if strings.Contains(w, emailToken) {
			n += 20 - len(emailToken)
		}
		if i > 0 {
			if col+1+n > width {
				b.WriteString("\n" + indent)
				col = utf8.RuneCountInString(indent)
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += n
	}
	return b.String()
}
