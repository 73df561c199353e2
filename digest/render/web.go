package render

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/haiphong/hpdigest/digest/theme"
)

// WebOptions are the links of an issue's web page.
type WebOptions struct {
	ArchiveURL   string // the list of past issues
	OtherLangURL string // this issue in the other language
	SubscribeURL string // "" hides the subscribe link
}

// WebPage renders the web version of iss ("view in browser"): the email's
// HTML with every section, without the per-reader parts, and with links to
// the archive and the other language.
func (r *Renderer) WebPage(iss *Issue, lang string, opt WebOptions) ([]byte, error) {
	t, ok := r.html[lang]
	if !ok {
		return nil, fmt.Errorf("render: unsupported language %q", lang)
	}
	p := r.page(iss, lang, nil, true)
	p.ArchiveURL, p.OtherLangURL, p.SubscribeURL = safeURL(opt.ArchiveURL), safeURL(opt.OtherLangURL), safeURL(opt.SubscribeURL)
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		return nil, fmt.Errorf("render: web issue %d (%s): %w", iss.ID, lang, err)
	}
	return b.Bytes(), nil
}

// OutlineSection is one section of an issue as a reader of one language
// gets it (for feeds and lists of an issue's stories).
type OutlineSection struct {
	Name  string
	Items []OutlineItem
}

// OutlineItem is one story of an outline: the title the reader gets, its
// link, and the title's language when it is not the reader's.
type OutlineItem struct {
	Title, URL, Lang string
}

// Outline lists the sections and stories of iss as the web version in lang
// shows them (the reader's version of each story, the issue's mode for
// stories without one).
func (r *Renderer) Outline(iss *Issue, lang string) []OutlineSection {
	p := r.page(iss, lang, nil, true)
	out := make([]OutlineSection, 0, len(p.Sections))
	for _, sec := range p.Sections {
		os := OutlineSection{Name: sec.Name}
		for _, it := range sec.Items {
			os.Items = append(os.Items, OutlineItem{Title: it.Title, URL: it.URL, Lang: it.TitleLang})
		}
		out = append(out, os)
	}
	return out
}

// ArchiveIssue is one past issue in the archive page.
type ArchiveIssue struct {
	Number int
	Date   time.Time // the issue's date
	Items  int       // 0: unknown, not shown
	URL    string    // its web page in the page's language
}

// ArchiveOptions are the page-wide parts of the archive page.
type ArchiveOptions struct {
	DigestName   Localized // "" uses the catalogue's
	Location     *time.Location
	FeedURL      string // the Atom feed
	OtherLangURL string // the archive in the other language
	SubscribeURL string
}

type archivePage struct {
	Lang, OtherLang, DigestName, Title  string
	FeedURL, OtherLangURL, SubscribeURL string
	Issues                              []archiveEntry
}

type archiveEntry struct {
	Label, Count, URL string
}

// ArchivePage renders the list of past issues (newest first as given).
func (r *Renderer) ArchivePage(lang string, issues []ArchiveIssue, opt ArchiveOptions) ([]byte, error) {
	t, ok := r.arch[lang]
	if !ok {
		return nil, fmt.Errorf("render: unsupported language %q", lang)
	}
	p := archivePage{Lang: lang, FeedURL: safeURL(opt.FeedURL), OtherLangURL: safeURL(opt.OtherLangURL), SubscribeURL: safeURL(opt.SubscribeURL)}
	p.OtherLang = OtherLanguage(lang)
	p.DigestName = r.digestName(lang, oneLine(opt.DigestName.In(lang)))
	p.Title, _ = r.cat.t(lang, "archive_title", "digest", p.DigestName)
	for _, is := range issues {
		e := archiveEntry{URL: safeURL(is.URL), Label: r.IssueLabel(lang, is.Number, is.Date, opt.Location)}
		if is.Items > 0 {
			e.Count, _ = r.cat.plural(lang, "stories", is.Items)
		}
		p.Issues = append(p.Issues, e)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		return nil, fmt.Errorf("render: archive (%s): %w", lang, err)
	}
	return b.Bytes(), nil
}

// IssueLabel names an issue in lang: "Số 12 – Thứ Sáu, 20/11/2026".
func (r *Renderer) IssueLabel(lang string, number int, date time.Time, loc *time.Location) string {
	s, _ := r.cat.t(lang, "issue_label", "number", number, "date", r.cat.date(lang, "date_long", date, loc))
	return s
}

// Subject returns the subject line of iss in lang (as Variant sets it).
func (r *Renderer) Subject(iss *Issue, lang string) string {
	return r.page(iss, lang, nil, false).Subject
}

// T returns the catalogue's message key in lang with {name} parameters
// filled from name/value pairs ("" if the key is unknown).
func (r *Renderer) T(lang, key string, args ...any) string {
	s, _ := r.cat.t(lang, key, args...)
	return s
}

// mustShow checks that both parts of a sample mail carry what the law and
// the mailbox providers require of every bulk mail: the unsubscribe link,
// the preferences link and the sender's postal address. An override that
// drops one fails at start-up, not in readers' inboxes.
func mustShow(lang, htmlBody, text string) error {
	for _, part := range []struct{ file, body string }{{fileHTML, htmlBody}, {fileText, text}} {
		for _, need := range []struct{ what, field, value string }{
			{"the unsubscribe link", ".P.Unsubscribe", "https://example.org/u"},
			{"the preferences link", ".P.Preferences", "https://example.org/p"},
			{"the postal address", ".Sender.PostalAddress", "1 Street"},
			{"the postal address", ".Sender.PostalAddress", "City"},
		} {
			if !strings.Contains(part.body, need.value) {
				return fmt.Errorf("render: template %s (%s): the mail lacks %s ({{%s}}); every mail must carry it", part.file, lang, need.what, need.field)
			}
		}
	}
	return nil
}

// selfTest runs every template once per language on a sample issue so that
// execution errors (an unknown field, message or class) surface at start-up,
// and checks that the mail carries what every mail must (see mustShow).
func (r *Renderer) selfTest() error {
	loc := time.FixedZone("ICT", 7*3600)
	date := time.Date(2026, 11, 20, 8, 0, 0, 0, loc)
	iss := &Issue{
		ID: 1, Number: 1, Date: date, Location: loc, WebURL: "https://example.org/issues/1",
		Note: Localized{Default: "Note.\n\nSecond paragraph."},
		Sections: []Section{{
			Theme: theme.Theme{Key: "diaspora", NameVI: "Kiều bào", NameEN: "Diaspora"},
			Items: []Item{
				{Title: Localized{Default: "A"}, Summary: Localized{Default: "S"}, URL: "https://example.org/a", Source: "X", Language: "en", Published: date, ImageURL: "https://example.org/a.jpg"},
				{Title: Localized{Default: "B"}, URL: "https://example.org/b", Language: "vi", Published: date},
			},
		}},
		Sender: Sender{Name: "S", PostalAddress: "1 Street\nCity", WebsiteURL: "https://example.org"},
	}
	for _, lang := range Languages {
		v, err := r.Variant(iss, lang, nil)
		if err != nil {
			return err
		}
		htmlBody, text := v.Personalise(Recipient{Name: "N", Email: "n@example.org", UnsubscribeURL: "https://example.org/u", PreferencesURL: "https://example.org/p"})
		if err := mustShow(lang, htmlBody, text); err != nil {
			return err
		}
		v.Personalise(Recipient{})
		if _, err := r.WebPage(iss, lang, WebOptions{ArchiveURL: "https://example.org/issues", OtherLangURL: "https://example.org/issues/1", SubscribeURL: "https://example.org/s"}); err != nil {
			return err
		}
		if _, err := r.WebPage(iss, lang, WebOptions{}); err != nil {
			return err
		}
		if _, err := r.ArchivePage(lang, []ArchiveIssue{{Number: 1, Date: date, Items: 2, URL: "https://example.org/issues/1"}}, ArchiveOptions{FeedURL: "https://example.org/f", OtherLangURL: "https://example.org/issues", SubscribeURL: "https://example.org/s"}); err != nil {
			return err
		}
		if _, err := r.ArchivePage(lang, nil, ArchiveOptions{}); err != nil {
			return err
		}
	}
	return nil
}
