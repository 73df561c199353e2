package digest

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/haiphong/hpdigest/feeds"
)

// Recognising a story that was already placed in an issue when a portal
// publishes it again: under a new GUID, with an edited title, as a
// correction ("[Đính chính] …"), or as a copy above the original. The
// feeds package keeps one row per (feed, GUID); this decides, per digest,
// which of those rows are one story:
//
//  1. the same link (scheme, "www." and a trailing slash aside) is the
//     same story when the titles share some words (a title edited, a
//     correction) or are too short to judge;
//  2. otherwise the content must agree: titles alike (and the summaries
//     not telling another story), or titles somewhat alike and summaries
//     alike, or the same lede under a rewritten title. Without a correction
//     marker the numbers must not contradict each other, in the titles nor
//     in the summaries ("tháng 3" and "tháng 4" are two monthly reports;
//     a number only one of them has is a detail added, not a contradiction).
//
// A link to a home page ("https://portal.vn/") says nothing: portals use it
// for many items. Neither does a shared section link on its own, hence the
// words in common that rule 1 asks for.

// Thresholds of the content comparison (Dice coefficient of word sets).
const (
	linkTitleShared  = 0.3  // titles of two items with the same link
	titleAlike       = 0.8  // titles, when the summaries do not disagree
	summaryAgrees    = 0.4  // summaries that do not disagree
	titleSomewhat    = 0.5  // titles, when the summaries agree
	summaryAlike     = 0.6  // summaries, with titles somewhat alike
	ledeAlike        = 0.85 // summaries alone, title rewritten
	minTitleWords    = 4    // shorter titles are too generic to compare
	minSummaryWords  = 8    // a summary shorter than this is not a lede
	summaryWordLimit = 60   // the lede: the first words of the summary
)

// correctionMarker matches the label portals put before (or after) the
// title of a corrected or updated story.
var correctionMarker = regexp.MustCompile(`(?i)^\s*[\[\(]?\s*(đính chính|cải chính|cập nhật|sửa lại|correction|corrected|updated?)\s*[\]\):\-–—]+\s*|\s*[\[\(]\s*(đính chính|cải chính|cập nhật|correction|corrected|updated?)\s*[\]\)]\s*$`)

// storyText is an item prepared for comparison.
type storyText struct {
	link      string // normalised specific link, "" when none or generic
	marked    bool   // the title carries a correction marker
	title     map[string]bool
	numbers   map[string]bool // the title's numbers
	summary   map[string]bool
	sumNums   map[string]bool // the summary's numbers
	plainText string          // normalised title + summary, to tell an edit from a plain copy
}

func newStoryText(it feeds.Item) storyText {
	title := norm.NFC.String(it.Title)
	marked := correctionMarker.MatchString(title)
	title = correctionMarker.ReplaceAllString(title, " ")
	tw := words(title, 0)
	sw := words(norm.NFC.String(it.SummaryText), summaryWordLimit)
	return storyText{
		link:      specificLink(it.URL),
		marked:    marked,
		title:     set(tw),
		numbers:   numbersOf(tw),
		summary:   set(sw),
		sumNums:   numbersOf(sw),
		plainText: strings.Join(tw, " ") + "\n" + strings.Join(sw, " "),
	}
}

// sameStory reports whether two items tell the same story.
func sameStory(a, b storyText) bool {
	short := len(a.title) < minTitleWords || len(b.title) < minTitleWords
	if a.link != "" && a.link == b.link && (short || a.marked || b.marked || dice(a.title, b.title) >= linkTitleShared) {
		return true
	}
	if short {
		return false
	}
	if !a.marked && !b.marked && (contradict(a.numbers, b.numbers) || contradict(a.sumNums, b.sumNums)) {
		return false
	}
	t := dice(a.title, b.title)
	if len(a.summary) < minSummaryWords || len(b.summary) < minSummaryWords {
		return t >= titleAlike
	}
	s := dice(a.summary, b.summary)
	return (t >= titleAlike && s >= summaryAgrees) || (t >= titleSomewhat && s >= summaryAlike) || s >= ledeAlike
}

// contradict reports two sets of numbers of which neither holds the other.
func contradict(a, b map[string]bool) bool {
	return !subset(a, b) && !subset(b, a)
}

func subset(a, b map[string]bool) bool {
	for w := range a {
		if !b[w] {
			return false
		}
	}
	return true
}

// isUpdate reports whether b, the same story as a, corrects or edits it
// rather than copying it: a correction marker, or other words from the
// same feed (another portal's copy always words it its own way).
func isUpdate(a, b storyText, sameFeed bool) bool {
	return b.marked || (sameFeed && a.plainText != b.plainText)
}

// specificLink normalises a link for comparison, or returns "" for a link
// to a home page (no path, no query).
func specificLink(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.TrimPrefix(strings.ToLower(u.Host), "www.")
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	if path == "" && u.RawQuery == "" {
		return ""
	}
	key := host + path
	if u.RawQuery != "" {
		key += "?" + u.RawQuery
	}
	return key
}

// words splits text into lower-case words (letters and digits; decimal
// separators inside numbers kept), at most limit of them (0: all).
func words(text string, limit int) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	rs := []rune(strings.ToLower(text))
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		case (r == ',' || r == '.') && i > 0 && i+1 < len(rs) && unicode.IsDigit(rs[i-1]) && unicode.IsDigit(rs[i+1]):
			b.WriteRune(r)
		default:
			flush()
		}
		if limit > 0 && len(out) >= limit {
			return out
		}
	}
	flush()
	return out
}

func numbersOf(ws []string) map[string]bool {
	nums := map[string]bool{}
	for _, w := range ws {
		if w != "" && unicode.IsDigit([]rune(w)[0]) {
			nums[w] = true
		}
	}
	return nums
}

func set(ws []string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// dice is 2|A∩B| / (|A|+|B|).
func dice(a, b map[string]bool) float64 {
	if len(a)+len(b) == 0 {
		return 0
	}
	n := 0
	for w := range a {
		if b[w] {
			n++
		}
	}
	return 2 * float64(n) / float64(len(a)+len(b))
}

// placedStory is an item already placed in one of the digest's issues.
type placedStory struct {
	itemID int64
	feedID int64
	number int       // the number
	mailed bool      // included in an issue that was sent (or is being sent)
	text   storyText // as the feed has it now
	sent   storyText // as it was mailed (the feed may have edited it since)
}

// placedStories finds, for a candidate item, the story it repeats among
// the items placed in the digest's recent issues. Each placed text is
// indexed by its link and its words, so that a candidate is compared in
// full only with the texts that could pass sameStory: the same link, or
// titles or summaries sharing enough words (every rule of sameStory needs
// titles at least titleSomewhat alike or summaries ledeAlike). The counts
// of shared words come from the index, exactly, so the outcome is the one
// a comparison with every placed item would give.
type placedStories struct {
	items   []placedStory
	views   []placedView // each item's text, and its text as mailed when it differs
	link    map[string][]int32
	title   map[string][]int32
	summary map[string][]int32
	// Per view, scratch counts of the words a candidate shares with it.
	titleShared, summaryShared []int32
	linked                     []bool
}

// placedView is one text of a placed item.
type placedView struct {
	item int32 // index in items
	sent bool  // the text as mailed
}

func (p *placedStories) text(v placedView) *storyText {
	if v.sent {
		return &p.items[v.item].sent
	}
	return &p.items[v.item].text
}

// add records an item placed in the draft being assembled, with its text.
func (p *placedStories) add(it feeds.Item, text storyText) {
	p.items = append(p.items, placedStory{itemID: it.ID, feedID: it.FeedID, text: text, sent: text})
	p.index(placedView{item: int32(len(p.items) - 1)})
}

// addPlaced records an item of an issue with its title and summary as
// mailed ("" when not mailed, or mailed before they were kept).
func (p *placedStories) addPlaced(it feeds.Item, number int, mailed bool, sentTitle, sentSummary string) {
	s := placedStory{itemID: it.ID, feedID: it.FeedID, number: number, mailed: mailed, text: newStoryText(it)}
	s.sent = s.text
	if sentTitle != "" {
		was := it
		was.Title, was.SummaryText = sentTitle, sentSummary
		s.sent = newStoryText(was)
	}
	p.items = append(p.items, s)
	n := int32(len(p.items) - 1)
	p.index(placedView{item: n})
	if s.sent.plainText != s.text.plainText || s.sent.link != s.text.link || s.sent.marked != s.text.marked {
		p.index(placedView{item: n, sent: true})
	}
}

func (p *placedStories) index(v placedView) {
	if p.link == nil {
		p.link, p.title, p.summary = map[string][]int32{}, map[string][]int32{}, map[string][]int32{}
	}
	at := int32(len(p.views))
	p.views = append(p.views, v)
	p.titleShared = append(p.titleShared, 0)
	p.summaryShared = append(p.summaryShared, 0)
	p.linked = append(p.linked, false)
	t := p.text(v)
	if t.link != "" {
		p.link[t.link] = append(p.link[t.link], at)
	}
	for w := range t.title {
		p.title[w] = append(p.title[w], at)
	}
	for w := range t.summary {
		p.summary[w] = append(p.summary[w], at)
	}
}

// match returns the placed item the candidate repeats (a mailed one when
// there are several, else the first placed) and whether there is one.
func (p *placedStories) match(c storyText) (placedStory, bool) {
	var touched []int32
	touch := func(v int32) {
		if p.titleShared[v] == 0 && p.summaryShared[v] == 0 && !p.linked[v] {
			touched = append(touched, v)
		}
	}
	if c.link != "" {
		for _, v := range p.link[c.link] {
			touch(v)
			p.linked[v] = true
		}
	}
	for w := range c.title {
		for _, v := range p.title[w] {
			touch(v)
			p.titleShared[v]++
		}
	}
	for w := range c.summary {
		for _, v := range p.summary[w] {
			touch(v)
			p.summaryShared[v]++
		}
	}
	found, foundAt, ok := placedStory{}, int32(-1), false
	for _, v := range touched {
		view := p.views[v]
		t := p.text(view)
		could := p.linked[v] ||
			shared(int(p.titleShared[v]), len(t.title), len(c.title)) >= titleSomewhat ||
			shared(int(p.summaryShared[v]), len(t.summary), len(c.summary)) >= ledeAlike
		p.titleShared[v], p.summaryShared[v], p.linked[v] = 0, 0, false
		if !could || view.item == foundAt || !sameStory(*t, c) {
			continue
		}
		s := p.items[view.item]
		if !ok || (s.mailed && !found.mailed) || (s.mailed == found.mailed && view.item < foundAt) {
			found, foundAt, ok = s, view.item, true
		}
	}
	return found, ok
}

// shared is the Dice coefficient of two sets of sizes a and b with n
// elements in common.
func shared(n, a, b int) float64 {
	if a+b == 0 {
		return 0
	}
	return 2 * float64(n) / float64(a+b)
}
