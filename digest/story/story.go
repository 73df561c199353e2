// Package story decides which items report the same event — within one
// language (two portals carrying one agency report) and across Vietnamese
// and English (the two editions of VietnamPlus or Thế giới & Việt Nam) —
// and groups a window of items into stories, each with its versions by
// language and its sources.
//
// There is no translation engine: a pair of items is scored on signals
// that survive translation. Amounts and numbers are normalised across the
// languages' conventions ("1,4 tỷ USD" = "US$1.4 bn"), proper names are
// compared ASCII-folded ("Đình Vũ" = "Dinh Vu"), a bilingual gazetteer
// (gazetteer.txt, extendable by staff) maps places, partners, bodies,
// products, what happened ("Quảng Tây" = "Guangxi", "khởi công" = "breaks
// ground") and the words of the news ("câu lạc bộ" = "club"), items of one
// language are compared on their wording, and the link, the publication
// dates and the days of the event the texts name ("18/2" = "on
// Thursday") count too. Evidence against (different amounts, counts,
// dates, partners, places, products, events or editions) is subtracted.
// A pair is the same story when its score reaches the threshold and
// nothing rules it out; every decision explains itself.
//
// Precision comes before recall: a wrong merge shows a reader an unrelated
// story, while a missed one only shows two versions side by side. Who acts
// counts as much as what is shared: an amount, a donation or a visit of
// another company, country or community (overseas Vietnamese) is another
// event. So does another occurrence of what recurs: two items that name
// different days (or times of one day), years, editions or periods of
// their events are never one story — the meeting and the signing of one
// trip on two days, the summer camps of two years, two editions of a
// fair, two periods of the statistics. Grouping therefore joins two
// groups only through a pair that is the same story, when their stories
// name no different partners, no pair across them is ruled out (so no
// item of either reports another occurrence than an item of the other),
// has more evidence against than for, or has
// titles naming different events or partners (unless it is a match by
// itself), and every pair across is a plausible match: at least a
// suggestion, or weaker but sharing something specific to the event (an
// amount, a name) with nothing against it. A rewrite with its own angle
// joins its story; a chain of look-alikes, or a version too vague to tell
// its event from another of the same trip, does not.
//
// Extracting the signals is most of the cost of grouping: Prepare does it
// once per item (when the item is ingested), MarshalBinary encodes the
// result to keep beside the item, Restore reads it back (preparing the
// item again if the gazetteer or its text changed since), and
// GroupPrepared only compares.
package story

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/haiphong/hpdigest/digest/theme"
)

// Item is what the detector reads of a feed item.
type Item struct {
	ID        string    // unique within one call
	Lang      string    // "vi" or "en"
	Title     string    // plain text or HTML
	Summary   string    // the lead, plain text or HTML
	URL       string    // the article's link; "" if unknown
	Source    string    // the feed's name; "" if unknown
	Published time.Time // zero if unknown
}

// Config is the [stories] section of the config file. Zero values take
// the defaults.
type Config struct {
	// Gazetteer is a staff file in the format of the shipped gazetteer,
	// merged into it (new entries, more variants of existing ones).
	Gazetteer string `toml:"gazetteer"`
	// Threshold is the score at which two items are one story (default 5).
	Threshold float64 `toml:"threshold"`
	// Suggest is the score from which a pair below the threshold is shown
	// to staff as a possible pairing (default 3, or the threshold if lower).
	Suggest float64 `toml:"suggest"`
	// MaxDaysApart: items published further apart are never one story
	// (default 7).
	MaxDaysApart int `toml:"max_days_apart"`
}

const (
	defaultThreshold = 5
	defaultSuggest   = 3
	defaultMaxDays   = 7
)

// WithDefaults fills the settings left at zero.
func (c Config) WithDefaults() Config {
	if c.Threshold == 0 {
		c.Threshold = defaultThreshold
	}
	if c.Suggest == 0 {
		c.Suggest = min(defaultSuggest, c.Threshold)
	}
	if c.MaxDaysApart == 0 {
		c.MaxDaysApart = defaultMaxDays
	}
	return c
}

// Validate checks the settings (with defaults filled) without reading the
// gazetteer file; New reads and checks that. Errors name the key as the
// config file spells it: "stories.threshold: ...".
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.Threshold < 0 || math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0):
		return fmt.Errorf("stories.threshold: must be a positive number, got %v", c.Threshold)
	case c.Suggest < 0 || c.Suggest > c.Threshold || math.IsNaN(c.Suggest):
		return fmt.Errorf("stories.suggest: must be between 0 and the threshold (%v), got %v", c.Threshold, c.Suggest)
	case c.MaxDaysApart < 0:
		return fmt.Errorf("stories.max_days_apart: must be 0 (the default, %d) or more, got %d", defaultMaxDays, c.MaxDaysApart)
	}
	return nil
}

// Detector holds the compiled gazetteer and settings; it is safe for
// concurrent use.
type Detector struct {
	cfg Config
	gaz *gazetteer
	// entities finds the gazetteer's entities, terms its terms (matched
	// apart, in the words no entity takes).
	entities, terms phraseSet
	units           unitTable
	// oneEvent are pairs of actions (entry indexes) that name the two
	// sides of one event, so they never count against each other: a
	// delegation visits, its hosts receive it.
	oneEvent    [][2]int32
	fingerprint string
	signalsKey  uint64 // what prepared items depend on: the extraction and the gazetteer
}

// oneEventActions are gazetteer actions (by key) that are two sides of
// one event: a delegation's visit, its reception by the hosts, the
// meeting, the conference where they meet, what they sign there — on one
// day: a meeting and a signing two items report on different days are
// two events of one trip.
var oneEventActions = [][2]string{
	{"visit", "reception"}, {"meeting", "reception"}, {"meeting", "visit"}, {"meeting", "conference"},
	{"signing", "reception"}, {"signing", "visit"}, {"signing", "meeting"}, {"signing", "conference"},
}

// New loads the shipped gazetteer, merges cfg.Gazetteer into it when set,
// and checks the settings. Errors name the key ("stories.gazetteer: ...")
// and, for a bad entry, the gazetteer file and line.
func New(cfg Config) (*Detector, error) {
	var extra []byte
	if cfg.Gazetteer != "" {
		b, err := os.ReadFile(cfg.Gazetteer)
		if err != nil {
			return nil, fmt.Errorf("stories.gazetteer: %w", err)
		}
		extra = b
	}
	return newDetector(cfg, extra)
}

func newDetector(cfg Config, extra []byte) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	g := &gazetteer{}
	if err := g.parse("(shipped)", defaultGazetteer); err != nil {
		return nil, err
	}
	if extra != nil {
		if err := g.parse(cfg.Gazetteer, extra); err != nil {
			return nil, fmt.Errorf("stories.gazetteer: %w", err)
		}
	}
	d := &Detector{cfg: cfg, gaz: g}
	for _, sides := range oneEventActions {
		a, b := g.byKey[kindAction.String()+"\x00"+sides[0]], g.byKey[kindAction.String()+"\x00"+sides[1]]
		if a != nil && b != nil {
			d.oneEvent = append(d.oneEvent, [2]int32{int32(slices.Index(g.entries, a)), int32(slices.Index(g.entries, b))})
		}
	}
	for ei, e := range g.entries {
		for _, v := range e.variants {
			switch e.kind {
			case kindUnit:
				d.units.add(foldedWords(v.text), e.key)
			case kindTerm:
				d.terms.add(v, int32(ei), true)
			default:
				d.entities.add(v, int32(ei), e.kind == kindTopic || e.kind == kindSector)
			}
		}
	}
	for _, set := range []*phraseSet{&d.entities, &d.terms} {
		if err := set.compile(); err != nil {
			return nil, fmt.Errorf("stories.gazetteer: %v", err)
		}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%v %v %d\n", cfg.Threshold, cfg.Suggest, cfg.MaxDaysApart)
	h.Write(defaultGazetteer)
	h.Write(extra)
	d.fingerprint = hex.EncodeToString(h.Sum(nil))[:16]
	h.Reset()
	fmt.Fprintf(h, "signals %d\n", preparedFormat)
	h.Write(defaultGazetteer)
	h.Write([]byte{0})
	h.Write(extra)
	d.signalsKey = binary.LittleEndian.Uint64(h.Sum(nil))
	return d, nil
}

// Default returns a detector with the shipped gazetteer and settings.
func Default() *Detector {
	d, err := newDetector(Config{}, nil)
	if err != nil {
		panic("story: shipped gazetteer: " + err.Error())
	}
	return d
}

// Threshold is the score at which two items are one story.
func (d *Detector) Threshold() float64 { return d.cfg.Threshold }

// Fingerprint identifies the gazetteer and settings: it changes when staff
// change either, so stored pairings can be re-examined.
func (d *Detector) Fingerprint() string { return d.fingerprint }

func foldedWords(s string) []string {
	return strings.FieldsFunc(theme.Fold(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f)
	})
}

// writtenInCapitals: "US", "UK", "HĐND" (every letter a capital, two or
// more letters in some word).
func writtenInCapitals(s string) bool {
	w := theme.Split(s)
	if w.Len() == 0 {
		return false
	}
	for i := range w.Len() {
		x := w.At(i)
		if !x.Upper && !(x.Title && len(x.ASCII) == 1) {
			return false
		}
	}
	return true
}

var errDuplicate = errors.New("duplicate item id")

// phraseSet is the variants of some gazetteer entries compiled for
// matching.
type phraseSet struct {
	phrases [2][]theme.Phrase
	// matchers[0] is for text typed without Vietnamese marks, where a
	// variant written with marks matches its bare form too ("Hai Phong");
	// matchers[1] for text typed with them, where it must carry its
	// marks: "cho" (give) is not "chợ" (market).
	matchers [2]*theme.Matcher
	entry    []int32 // phrase index -> entry index
	caps     []bool  // the variant is written in capitals
	// noun: the variant is a common noun ("textile", "electronics"), not
	// matched where it ends a company's name ("Delta Bright Textile")
	noun []bool
}

func (s *phraseSet) add(v variant, entry int32, noun bool) {
	s.phrases[0] = append(s.phrases[0], theme.Phrase{Text: v.text, Fold: v.fold})
	marked := v
	if (v.fold == "" || v.fold == "auto") && theme.Split(v.text).Marked() {
		marked.fold = "marks"
	}
	s.phrases[1] = append(s.phrases[1], theme.Phrase{Text: marked.text, Fold: marked.fold})
	s.entry = append(s.entry, entry)
	s.caps = append(s.caps, writtenInCapitals(v.text))
	s.noun = append(s.noun, noun)
}

func (s *phraseSet) compile() error {
	for i := range s.phrases {
		m, err := theme.NewMatcher(s.phrases[i])
		if err != nil {
			return err
		}
		s.matchers[i] = m
	}
	s.phrases = [2][]theme.Phrase{}
	return nil
}
