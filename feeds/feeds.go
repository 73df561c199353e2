// Package feeds owns the feed sources and the items ingested from them:
// HTTP fetching, parsing (gofeed), normalising, sanitising, de-duplication
// and poll scheduling. Tables: feeds, items.
package feeds

import (
	"time"
)

// Source is one feed as configured ([[feeds]] in the TOML file).
type Source struct {
	Name     string        `toml:"name"`     // unique, shown to staff and readers ("VietnamPlus")
	URL      string        `toml:"url"`      // RSS, Atom, RDF or JSON Feed
	Language string        `toml:"language"` // "vi" or "en": the language of its items
	Interval time.Duration `toml:"interval"` // how often to poll; default Config.DefaultInterval
	Timezone string        `toml:"timezone"` // for dates without a zone; default Asia/Ho_Chi_Minh
}

// Config holds the fetch settings ([fetch] in the TOML file) and the sources.
type Config struct {
	UserAgent       string        `toml:"user_agent"`
	Timeout         time.Duration `toml:"timeout"`          // per request, whole body included
	MaxBodyBytes    int64         `toml:"max_body_bytes"`   // after decompression
	DefaultInterval time.Duration `toml:"default_interval"` // for sources without one
	MaxErrors       int           `toml:"max_errors"`       // consecutive failures before a feed is disabled
	Concurrency     int           `toml:"concurrency"`      // fetches at once in total
	PerHost         int           `toml:"per_host"`         // fetches at once per host
}

// Item is one stored story.
type Item struct {
	ID          int64
	FeedID      int64
	FeedName    string // the source's name, for "source" lines in the digest
	GUID        string // identity inside its feed (GUID, else normalised link, else hash)
	URL         string // normalised absolute link
	Title       string // plain text, NFC
	SummaryHTML string // sanitised HTML, safe for email
	SummaryText string // plain text, bounded length
	ImageURL    string // lead image, absolute, or ""
	Language    string // "vi" | "en"
	PublishedAt time.Time
	FirstSeenAt time.Time
}

// Published returns the time to sort and window the item by.
func (it Item) Published() time.Time {
	if it.PublishedAt.IsZero() {
		return it.FirstSeenAt
	}
	return it.PublishedAt
}
