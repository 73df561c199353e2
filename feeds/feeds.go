// Package feeds owns the feed sources and the items ingested from them:
// HTTP fetching, parsing (gofeed), normalising, sanitising, de-duplication
// and poll scheduling. Tables: feeds, items.
//
// Pipeline for one feed: conditional GET with the project's own client
// (public addresses only unless the feed allows private ones, no https to
// http redirects; timeout, size limit after decompression, User-Agent, gzip, stored
// ETag/Last-Modified; 304 or an identical body = nothing parsed) → decoding
// to UTF-8 NFC (the bytes win over a lying prolog) → gofeed → per item:
// normalised link, plain-text title (entities decoded, also double-escaped),
// date (Vietnamese forms, feed zone for zone-less dates, never more than a
// day ahead, none = first seen), sanitised HTML summary + bounded text +
// lead image → identity (GUID, else link, else content hash) → SQLite.
//
// Failing feeds back off exponentially (the interval doubled per consecutive
// error, capped, with jitter); Retry-After is honoured; after max_errors
// consecutive errors (or one HTTP 410) a feed is disabled with the reason
// kept until Store.Reenable.
//
// Config (all keys optional; the defaults are shown):
//
//	[fetch]
//	user_agent = "hpdigest/1.0 (Hai Phong Digest feed fetcher; +https://github.com/haiphong/hpdigest)"
//	timeout = "30s"            # per request, body included
//	max_body_bytes = 10485760  # after decompression
//	default_interval = "30m"   # for feeds without their own
//	max_errors = 10            # consecutive failures before a feed is disabled
//	max_backoff = "24h"        # cap of the error back-off
//	concurrency = 8            # fetches at once
//	per_host = 2               # fetches at once to one host
//
//	[[feeds]]
//	name = "VietnamPlus"
//	url = "https://www.vietnamplus.vn/rss/home.rss"
//	language = "vi"            # vi | en
//	interval = "20m"           # optional; RSS <ttl> and Cache-Control max-age act as floors
//	timezone = "Asia/Ho_Chi_Minh"  # optional; for dates without a zone
//	allow_private = false      # true only for a feed on the office network (private addresses)
package feeds

import (
	"fmt"
	"net/url"
	"time"
	_ "time/tzdata" // Asia/Ho_Chi_Minh must load on machines without zoneinfo
)

// Source is one feed as configured ([[feeds]] in the TOML file).
type Source struct {
	Name     string        `toml:"name"`     // unique, shown to staff and readers ("VietnamPlus")
	URL      string        `toml:"url"`      // RSS, Atom, RDF or JSON Feed
	Language string        `toml:"language"` // "vi" or "en": the language of its items
	Interval time.Duration `toml:"interval"` // how often to poll; default Config.DefaultInterval
	Timezone string        `toml:"timezone"` // for dates without a zone; default Asia/Ho_Chi_Minh
	// AllowPrivate lets the feed be fetched from a loopback, private or
	// link-local address (a portal on the office network). Without it such
	// addresses are refused, also through DNS and redirects.
	AllowPrivate bool `toml:"allow_private"`
}

// Config holds the fetch settings ([fetch] in the TOML file) and the sources.
// Zero fields take the defaults below (see WithDefaults).
type Config struct {
	UserAgent       string        `toml:"user_agent"`       // default DefaultUserAgent
	Timeout         time.Duration `toml:"timeout"`          // per request, whole body included; default 30s
	MaxBodyBytes    int64         `toml:"max_body_bytes"`   // after decompression; default 10 MiB
	DefaultInterval time.Duration `toml:"default_interval"` // for sources without one; default 30m
	MaxErrors       int           `toml:"max_errors"`       // consecutive failures before a feed is disabled; default 10
	Concurrency     int           `toml:"concurrency"`      // fetches at once in total; default 8
	PerHost         int           `toml:"per_host"`         // fetches at once per host; default 2
	MaxBackoff      time.Duration `toml:"max_backoff"`      // cap of the error back-off; default 24h
}

// Defaults applied by WithDefaults.
const (
	DefaultUserAgent       = "hpdigest/1.0 (Hai Phong Digest feed fetcher; +https://github.com/haiphong/hpdigest)"
	DefaultTimeout         = 30 * time.Second
	DefaultMaxBodyBytes    = 10 << 20
	DefaultPollInterval    = 30 * time.Minute
	DefaultMaxErrors       = 10
	DefaultConcurrency     = 8
	DefaultPerHost         = 2
	DefaultMaxBackoff      = 24 * time.Hour
	DefaultTimezone        = "Asia/Ho_Chi_Minh"
	minInterval            = time.Minute // polling more often than this is abuse
	maxSummaryRunes        = 600         // SummaryText bound
	maxFutureSkew          = 24 * time.Hour
	maxRetryAfter          = 24 * time.Hour
	maxTTLFloor            = 24 * time.Hour
	defaultRedirectLimit   = 5
	defaultMaxItemsPerFeed = 2000
)

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.DefaultInterval <= 0 {
		c.DefaultInterval = DefaultPollInterval
	}
	if c.MaxErrors <= 0 {
		c.MaxErrors = DefaultMaxErrors
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.PerHost <= 0 {
		c.PerHost = DefaultPerHost
	}
	if c.PerHost > c.Concurrency {
		c.PerHost = c.Concurrency
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	return c
}

// FieldError is a validation error about one config key.
type FieldError struct {
	Key    string // "fetch.timeout", "feeds[2].url"
	Reason string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Reason }

// Validate checks the [fetch] settings; zero values are fine (defaults).
func (c Config) Validate() error {
	switch {
	case c.Timeout < 0 || (c.Timeout > 0 && c.Timeout < time.Second) || c.Timeout > 10*time.Minute:
		return &FieldError{"fetch.timeout", fmt.Sprintf("%v: must be between 1s and 10m", c.Timeout)}
	case c.MaxBodyBytes < 0 || (c.MaxBodyBytes > 0 && c.MaxBodyBytes < 1024) || c.MaxBodyBytes > 1<<30:
		return &FieldError{"fetch.max_body_bytes", fmt.Sprintf("%d: must be between 1024 and 1 GiB", c.MaxBodyBytes)}
	case c.DefaultInterval < 0 || (c.DefaultInterval > 0 && c.DefaultInterval < minInterval):
		return &FieldError{"fetch.default_interval", fmt.Sprintf("%v: must be at least %v", c.DefaultInterval, minInterval)}
	case c.MaxErrors < 0:
		return &FieldError{"fetch.max_errors", "must not be negative"}
	case c.Concurrency < 0 || c.Concurrency > 256:
		return &FieldError{"fetch.concurrency", fmt.Sprintf("%d: must be between 1 and 256", c.Concurrency)}
	case c.PerHost < 0 || c.PerHost > 64:
		return &FieldError{"fetch.per_host", fmt.Sprintf("%d: must be between 1 and 64", c.PerHost)}
	case c.MaxBackoff < 0 || (c.MaxBackoff > 0 && c.MaxBackoff < minInterval):
		return &FieldError{"fetch.max_backoff", fmt.Sprintf("%v: must be at least %v", c.MaxBackoff, minInterval)}
	}
	return nil
}

// ValidateSources checks the [[feeds]] entries: names set and unique, URL
// http(s) with a host, language vi or en, interval at least a minute (or
// zero for the default), time zone known (or empty for the default).
func ValidateSources(sources []Source) error {
	names := map[string]bool{}
	for i, s := range sources {
		key := fmt.Sprintf("feeds[%d]", i)
		if s.Name == "" {
			return &FieldError{key + ".name", "must be set"}
		}
		if names[s.Name] {
			return &FieldError{key + ".name", fmt.Sprintf("%q is used by two feeds", s.Name)}
		}
		names[s.Name] = true
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &FieldError{key + ".url", fmt.Sprintf("%q is not an absolute http(s) URL", s.URL)}
		}
		if s.Language != "vi" && s.Language != "en" {
			return &FieldError{key + ".language", fmt.Sprintf("%q: must be vi or en", s.Language)}
		}
		if s.Interval < 0 || (s.Interval > 0 && s.Interval < minInterval) {
			return &FieldError{key + ".interval", fmt.Sprintf("%v: must be at least %v (or unset for fetch.default_interval)", s.Interval, minInterval)}
		}
		if s.Timezone != "" {
			if _, err := time.LoadLocation(s.Timezone); err != nil {
				return &FieldError{key + ".timezone", fmt.Sprintf("unknown time zone %q", s.Timezone)}
			}
		}
	}
	return nil
}

// Item is one stored story.
type Item struct {
	ID          int64
	FeedID      int64
	FeedName    string // the source's name, for "source" lines in the digest
	GUID        string // identity inside its feed (GUID, else normalised link, else hash)
	URL         string // normalised absolute link (scheme/host lower case, tracking parameters and fragment removed)
	Title       string // plain text, NFC
	SummaryHTML string // sanitised HTML, safe for email
	SummaryText string // plain text, bounded length
	ImageURL    string // lead image, absolute, or ""
	Language    string // "vi" | "en"
	PublishedAt time.Time
	FirstSeenAt time.Time
	// StoryID is the same for items that are one story: the ID of the first
	// stored item with the same normalised link in another feed (or in the
	// same feed with the same title); its own ID otherwise. The digest should
	// treat a story as sent when any item of it was sent.
	// ItemsPublishedBetween already returns one item per story.
	StoryID int64
}

// Published returns the time to sort and window the item by.
func (it Item) Published() time.Time {
	if it.PublishedAt.IsZero() {
		return it.FirstSeenAt
	}
	return it.PublishedAt
}
