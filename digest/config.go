package digest

import (
	"fmt"
	"time"

	"github.com/haiphong/hpdigest/internal/cronspec"
)

// Digest is one newsletter ([[digests]] in the TOML file).
type Digest struct {
	Key     string `toml:"key"`      // short identifier: "weekly"
	TitleVI string `toml:"title_vi"` // "Bản tin Hải Phòng"
	TitleEN string `toml:"title_en"` // "Hai Phong Digest"
	// Schedule is the cron spec of the send ("0 8 * * FRI"), in Timezone.
	Schedule string `toml:"schedule"`
	// DraftSchedule assembles the draft ahead of the send so staff can
	// curate it ("0 9 * * THU"); "" assembles it at send time.
	DraftSchedule   string        `toml:"draft_schedule"`
	Timezone        string        `toml:"timezone"`         // IANA name; default: the config's timezone
	Themes          []string      `toml:"themes"`           // theme keys in section order; default: every configured theme
	Window          time.Duration `toml:"window"`           // how far back an item counts as new; default 7 days
	MaxPerSection   int           `toml:"max_per_section"`  // items included per section; more are kept but excluded
	RequireApproval bool          `toml:"require_approval"` // scheduled sends wait for staff approval
	// DeliverAtLocal ("07:30") delivers each reader's copy at that time of
	// day in the reader's own time zone instead of all at once; "" = off.
	DeliverAtLocal string `toml:"deliver_at_local"`
	// OtherLanguage is what a reader gets of a story that has no version
	// in their language: OtherLanguageBadge (the default), OtherLanguageTranslated
	// or OtherLanguageOmit.
	OtherLanguage string `toml:"other_language"`
}

// What a reader gets of a story with no version in their language
// (Digest.OtherLanguage). A version is the story as a portal published it
// in the reader's language; a staff translation (title and summary in that
// language, written on the curation page) counts as one except under
// OtherLanguageOmit.
const (
	// OtherLanguageBadge shows the story in its own language, its
	// original title marked with a language badge ("Tiếng Việt").
	OtherLanguageBadge = "badge"
	// OtherLanguageTranslated leaves it out until staff translate it.
	OtherLanguageTranslated = "translated_only"
	// OtherLanguageOmit leaves out every story no portal published in the
	// reader's language, translated or not.
	OtherLanguageOmit = "omit"
)

// LocalTime parses DeliverAtLocal; ok is false when it is not set.
func (d Digest) LocalTime() (hour, minute int, ok bool, err error) {
	if d.DeliverAtLocal == "" {
		return 0, 0, false, nil
	}
	t, err := time.Parse("15:04", d.DeliverAtLocal)
	if err != nil {
		return 0, 0, false, fmt.Errorf("%q is not a time of day like 07:30", d.DeliverAtLocal)
	}
	return t.Hour(), t.Minute(), true, nil
}

// Defaults fills unset fields.
func (d *Digest) Defaults(defaultTZ string, themeKeys []string) {
	if d.Timezone == "" {
		d.Timezone = defaultTZ
	}
	if len(d.Themes) == 0 {
		d.Themes = append([]string(nil), themeKeys...)
	}
	if d.Window == 0 {
		d.Window = 7 * 24 * time.Hour
	}
	if d.MaxPerSection == 0 {
		d.MaxPerSection = 8
	}
	if d.TitleEN == "" {
		d.TitleEN = DefaultTitle("en")
	}
	if d.TitleVI == "" {
		d.TitleVI = DefaultTitle("vi")
	}
	if d.OtherLanguage == "" {
		d.OtherLanguage = OtherLanguageBadge
	}
}

// DefaultTitle is the name in lang of a digest whose config gives none.
func DefaultTitle(lang string) string {
	if lang == "en" {
		return "Hai Phong Digest"
	}
	return "Bản tin Hải Phòng"
}

// Title is the digest's name in lang.
func (d Digest) Title(lang string) string {
	t := d.TitleVI
	if lang == "en" {
		t = d.TitleEN
	}
	if t == "" {
		return DefaultTitle(lang)
	}
	return t
}

// Location returns the digest's time zone.
func (d Digest) Location() *time.Location {
	loc, err := time.LoadLocation(d.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Validate checks one digest; errors name the field (the caller adds the index).
func (d Digest) Validate(themeKeys []string) error {
	if d.Key == "" {
		return fmt.Errorf("key: must be set")
	}
	if _, err := time.LoadLocation(d.Timezone); err != nil {
		return fmt.Errorf("timezone: unknown time zone %q", d.Timezone)
	}
	if err := cronspec.Check(d.Schedule); err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	if d.DraftSchedule != "" {
		if err := cronspec.Check(d.DraftSchedule); err != nil {
			return fmt.Errorf("draft_schedule: %w", err)
		}
	}
	known := map[string]bool{"other": true}
	for _, k := range themeKeys {
		known[k] = true
	}
	for _, t := range d.Themes {
		if !known[t] {
			return fmt.Errorf("themes: unknown theme %q", t)
		}
	}
	if _, _, _, err := d.LocalTime(); err != nil {
		return fmt.Errorf("deliver_at_local: %v", err)
	}
	switch d.OtherLanguage {
	case "", OtherLanguageBadge, OtherLanguageTranslated, OtherLanguageOmit:
	default:
		return fmt.Errorf("other_language: %q: must be %q, %q or %q", d.OtherLanguage, OtherLanguageBadge, OtherLanguageTranslated, OtherLanguageOmit)
	}
	if d.Window < 0 || d.MaxPerSection < 0 {
		return fmt.Errorf("window/max_per_section: must not be negative")
	}
	return nil
}
