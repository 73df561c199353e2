package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/haiphong/hpdigest/internal/cronspec"
)

// Retention is the [retention] section: how long the database keeps what
// grows with every fetch and every send. The daemon applies it on
// Schedule; each setting may be "forever".
//
//	[retention]
//	items = "4320h"          # items in no issue, by their date
//	outbox = "4320h"         # outbox rows of issues sent longer ago, folded into counts
//	reader_events = "forever"
//	schedule = "15 4 * * *"
type Retention struct {
	// Items: items published (or first seen) longer ago than this and
	// placed in no issue are deleted, with their themes and labels.
	Items Keep `toml:"items"`
	// Outbox: the outbox rows (and the bounce and complaint reports filed
	// on them) of issues whose send finished longer ago than this are
	// folded into the counts.
	Outbox Keep `toml:"outbox"`
	// ReaderEvents: events on a reader (subscribed, bounced, ...) older
	// than this are deleted; "forever" keeps them as long as the reader.
	ReaderEvents Keep `toml:"reader_events"`
	// Schedule is when the daemon applies the section (cron, in timezone).
	Schedule string `toml:"schedule"`
}

// Keep is how long something is kept: a duration ("4320h") or "forever".
// The zero Keep is unset: the default applies.
type Keep struct {
	Age     time.Duration
	Forever bool
}

// Forever is a Keep that never deletes.
var Forever = Keep{Forever: true}

// UnmarshalText reads "forever" or a Go duration of at least an hour.
func (k *Keep) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if strings.EqualFold(s, "forever") {
		*k = Forever
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Hour {
		return fmt.Errorf(`%q: use a duration such as "4320h" (180 days), or "forever"`, s)
	}
	*k = Keep{Age: d}
	return nil
}

// MarshalText writes what UnmarshalText reads.
func (k Keep) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

func (k Keep) String() string {
	if k.Forever {
		return "forever"
	}
	return k.Age.String()
}

// Before is the cutoff of a retention run at now: what is older goes. ok
// is false for "forever".
func (k Keep) Before(now time.Time) (cutoff time.Time, ok bool) {
	if k.Forever || k.Age <= 0 {
		return time.Time{}, false
	}
	return now.Add(-k.Age), true
}

// Retention defaults: half a year of items and outbox rows, reader events
// for as long as the reader exists, applied every night.
const (
	DefaultRetainItems       = 180 * 24 * time.Hour
	DefaultRetainOutbox      = 180 * 24 * time.Hour
	DefaultRetentionSchedule = "15 4 * * *"
	// minRetention is the shortest setting accepted: bounces and
	// complaints arrive within weeks, and drafts look a week back.
	minRetention = 30 * 24 * time.Hour
)

func (r *Retention) defaults() {
	if r.Items == (Keep{}) {
		r.Items = Keep{Age: DefaultRetainItems}
	}
	if r.Outbox == (Keep{}) {
		r.Outbox = Keep{Age: DefaultRetainOutbox}
	}
	if r.ReaderEvents == (Keep{}) {
		r.ReaderEvents = Forever
	}
	if r.Schedule == "" {
		r.Schedule = DefaultRetentionSchedule
	}
}

// validate checks the section. Reader events count soft bounces within
// soft_bounce_window, so they are kept at least that long; items are kept
// longer than the longest digest window, whose drafts pick from them.
func (r Retention) validate(softBounceWindow, longestWindow time.Duration) error {
	for _, k := range []struct {
		key  string
		keep Keep
	}{{"retention.items", r.Items}, {"retention.outbox", r.Outbox}, {"retention.reader_events", r.ReaderEvents}} {
		if !k.keep.Forever && k.keep.Age < minRetention {
			return &KeyError{k.key, fmt.Sprintf("%s is too short: keep at least %s (30 days), or \"forever\"", k.keep.Age, minRetention)}
		}
	}
	if !r.Items.Forever && r.Items.Age <= longestWindow {
		return &KeyError{"retention.items", fmt.Sprintf("%s is not longer than the longest digest window (%s), whose drafts pick from these items", r.Items.Age, longestWindow)}
	}
	if !r.ReaderEvents.Forever && r.ReaderEvents.Age < softBounceWindow {
		return &KeyError{"retention.reader_events", fmt.Sprintf("%s is shorter than subscribers.soft_bounce_window (%s), which counts them", r.ReaderEvents.Age, softBounceWindow)}
	}
	if err := cronspec.Check(r.Schedule); err != nil {
		return &KeyError{"retention.schedule", err.Error()}
	}
	return nil
}
