// Package render turns an issue into the email readers get (HTML and plain
// text) and its web version, from the templates in templates/ (embedded,
// overridable from a directory). Templates are parsed once at start-up so a
// broken one fails then, naming its file and line, never at send time.
//
// Rendering is done once per variant (language × theme selection); the
// per-recipient parts (name, unsubscribe and preferences URLs) are filled in
// by Personalise without running the templates again.
package render

import (
	"errors"
	"io/fs"
	"time"

	"github.com/haiphong/hpdigest/digest/theme"
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

// Item is one story as shown in the digest.
type Item struct {
	Title       Localized
	Summary     Localized // plain text
	SummaryHTML string    // sanitised HTML from the feed (may be "")
	URL         string
	Source      string
	Language    string // language of the story itself
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
	Number    int    // 1, 2, ... per digest
	DigestKey string // "weekly"
	Title     Localized
	Date      time.Time      // the issue's date
	Location  *time.Location // the digest's time zone, for formatting dates
	Note      Localized      // editor's note (plain text paragraphs)
	Sections  []Section      // in theme order; empty sections are skipped
	WebURL    string         // absolute URL of the web version, without language
	Sender    Sender
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

// Renderer holds the parsed templates.
type Renderer struct{ fsys fs.FS }

// New parses the email and web templates from fsys (see templates.FS).
func New(fsys fs.FS) (*Renderer, error) {
	return &Renderer{fsys: fsys}, errors.New("render: not implemented yet")
}

// Variant is an issue rendered for one language and theme selection, with
// placeholders for the per-recipient values.
type Variant struct {
	Lang    string
	Subject string
	Items   int // number of items in it; 0 means there is nothing to send
	html    string
	text    string
}

// Variant renders iss for lang, keeping only the sections of themes (all
// sections when themes is empty).
func (r *Renderer) Variant(iss *Issue, lang string, themes []string) (*Variant, error) {
	return nil, errors.New("render: not implemented yet")
}

// Personalise returns the HTML and text bodies for one recipient.
func (v *Variant) Personalise(rc Recipient) (html, text string) { return v.html, v.text }
