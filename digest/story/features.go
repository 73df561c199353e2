package story

import (
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/haiphong/hpdigest/digest/theme"
)

// hashString is 64-bit FNV-1a: the keys of words and names are stored
// with prepared items, so they must be the same in every process.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

const noDay = -1 << 30

// doc is an item with every signal extracted once.
type doc struct {
	Item
	day     int // days since 1970-01-01 in UTC+7; noDay if unknown
	url     string
	edition int // index of the edition entry whose pattern matched; -1
	edLang  string
	edID    string

	quants []quantity
	// distinct is quants without repeats and years; figures[k] are the
	// figures of kind k that the check for different figures compares
	// (title ones, or all ordinals).
	distinct []quantity
	money    []quantity // the distinct amounts of money
	dates    []quantity // the days of the event it names ("20/10", not "until 20/10")
	years    []quantity // the years its title names and those its lead writes in a name
	times    []quantity // the days of the event it names with a time of day ("chiều 9/6")
	figures  [qDate + 1][]quantity
	// named[c][0] are the distinctive entities of conflict kind c (country,
	// place, action) its title names; named[c][1] all of them (see
	// entityConflict).
	named [5][2][]entHit
	// titleAction: the title itself names what happened
	titleAction bool
	// partners say who acts, by class: the partner countries, the
	// communities and the companies and foreign proper names the title
	// names, or, when it names none of a class, those the lead names.
	partners [partnerClasses]partnerSet
	ents     []entHit  // one per entity, the title's first
	terms    []termHit // one per term, sorted by entry
	runs     []nameRun
	// name keys, sorted: single qualifying words and bigrams of runs
	singles, bigrams []uint64
	// maybes: single words that are names only if the other item has them
	// as names (an English sentence's first word)
	maybes []uint64
	// shingles (pairs of content words), sorted: title, and title+summary
	titleSh, bodySh []uint64
}

// entHit is one gazetteer entity found in an item.
type entHit struct {
	entry int32
	title bool
	// market: a country the lead names only as where goods go ("xuất
	// khẩu sang Mỹ", "exports to the US"), not as who acts
	market bool
	text   string // its first occurrence as written (for explanations)
}

// termHit is one gazetteer term found in an item.
type termHit struct {
	entry int32
	title bool // found in the title (as well)
}

// sortTerms sorts hits by entry and keeps one per entry, in the title if
// any was.
func sortTerms(ts []termHit) []termHit {
	slices.SortFunc(ts, func(a, b termHit) int { return int(a.entry) - int(b.entry) })
	out := ts[:0]
	for _, t := range ts {
		if n := len(out); n > 0 && out[n-1].entry == t.entry {
			out[n-1].title = out[n-1].title || t.title
			continue
		}
		out = append(out, t)
	}
	return out
}

// nameRun is a run of capitalised words (a candidate proper name).
type nameRun struct {
	single []uint64 // per word: the key if the word can be a name alone, else 0
	pair   []uint64 // per word i: the key of the bigram (i, i+1)
	short  uint64   // bit i: word i is an acronym of one or two letters ("LG")
	maybe  bool     // a single word that is a name only if the other item has it as one
	title  bool     // found in the title
	where  bool     // after "in", "at", "tại", "KCN": a place, not who acts; after the home city's name, a body of the city
	text   string   // the run as written
	cuts   []int32  // per word: where it starts and ends in text
}

// foreignName: some word of the run is an acronym or a foreign word
// ("Pegatron", "VSIP"). A name of Vietnamese syllables ("Hằng Phong") may
// be a rendering of a name another version spells its own way
// ("Hengfeng"), and a Vietnamese syllable alone opening a headline is not
// a name at all.
func (r *nameRun) foreignName() bool {
	return slices.ContainsFunc(r.single, func(k uint64) bool { return k != 0 })
}

// cuts0 is where the last word so far ends (0 for none).
func (r *nameRun) cuts0() int32 {
	if len(r.cuts) == 0 {
		return 0
	}
	return r.cuts[len(r.cuts)-1]
}

// span returns words i to j of the run as written.
func (r *nameRun) span(i, j int) string { return r.text[r.cuts[2*i]:r.cuts[2*j+1]] }

// numberText is the folded text of w the numbers are read from, with
// the words whose fold is another word's read as written (see
// markedWords).
func numberText(w theme.Words) string { return w.FoldRespelled(markedWords) }

// markedWords are read as written, whatever their case: "mỗi" is "each"
// (folded, it would also be "mới" (new), "mọi" (all) and "môi"), and
// "chuyên" (as in "chuyên gia", experts) a word no unit reads, not
// "chuyến" (trips, the unit of flights).
var markedWords = theme.NewRespelling(map[string]string{"mỗi": "each", "chuyên": "special"})

// prepare extracts the signals of one item.
func (d *Detector) prepare(it Item) *doc {
	x := &doc{Item: it, day: noDay, edition: -1}
	if !it.Published.IsZero() {
		x.day = dayNumber(it.Published)
	}
	x.url = normalizeURL(it.URL)
	if x.url != "" {
		d.matchEdition(x)
	}
	// "US$" is a currency, not the United States.
	fields := [2]theme.Words{theme.Split(strings.ReplaceAll(it.Title, "US$", "USD ")), theme.Split(strings.ReplaceAll(it.Summary, "US$", "USD "))}
	x.quants = scanQuantities(numberText(fields[0]), it.Lang, &d.units, true, nil)
	x.quants = scanQuantities(numberText(fields[1]), it.Lang, &d.units, false, x.quants)
	if x.day != noDay {
		x.quants = weekdayDates(fields[0], x.day, true, x.quants)
		x.quants = weekdayDates(fields[1], x.day, false, x.quants)
	}

	titleCase := [2]bool{isTitleCase(fields[0]), false}
	var covered [2][]bool
	var commonCovered [2][]bool
	seen := map[int32]int{} // entry -> index in x.ents
	var eventEnds []bool    // the lead's words that end a named event
	var afterHome [2][]bool // words just after the home city's name
	for f := range 2 {
		w := fields[f]
		covered[f] = make([]bool, w.Len())
		afterHome[f] = make([]bool, w.Len()+1)
		commonCovered[f] = make([]bool, w.Len())
		eventEnds = make([]bool, w.Len())
		for _, m := range d.entities.longestMatches(w, nil, titleCase[f]) {
			e := d.entities.entry[m.Phrase]
			ge := d.gaz.entries[e]
			for i := m.Start; i < m.End; i++ {
				covered[f][i] = true
				if ge.kind == kindCommon || ge.weight <= kindWeights[kindCommon] {
					commonCovered[f][i] = true
				}
			}
			eventEnds[m.End-1] = ge.kind == kindEvent
			afterHome[f][m.End] = ge.kind == kindPlace && ge.weight <= kindWeights[kindCommon]
			if f == 1 && ge.kind == kindAction && planned(w, m.Start) {
				continue // what is to happen is not what the item reports
			}
			if ge.kind == kindAction && satisfies(w, m.End) {
				continue // "meet demand" is no meeting
			}
			market := f == 1 && ge.kind == kindCountry && exportMarket(w, m.Start, m.End)
			if at, ok := seen[e]; ok {
				x.ents[at].market = x.ents[at].market && market
				continue
			}
			seen[e] = len(x.ents)
			x.ents = append(x.ents, entHit{entry: e, title: f == 0, market: market, text: w.Text(m.Start, m.End)})
		}
	}
	sort.Slice(x.ents, func(i, j int) bool { return x.ents[i].entry < x.ents[j].entry })
	namedYears(fields[1], eventEnds, x.quants)
	pub := 0
	if !it.Published.IsZero() {
		pub = it.Published.In(vietnamTime).Year()
	}
	x.quants = tetYears(fields[0], it.Lang, pub, true, x.quants, covered[0])
	x.quants = tetYears(fields[1], it.Lang, pub, false, x.quants, covered[1])
	for f := range 2 {
		for _, m := range d.terms.longestMatches(fields[f], covered[f], titleCase[f]) {
			x.terms = append(x.terms, termHit{entry: d.terms.entry[m.Phrase], title: f == 0})
		}
	}
	x.terms = sortTerms(x.terms)
	x.extractNames(fields, covered, afterHome, &d.units)
	x.index(d)
	x.titleSh = shingles(fields[0], commonCovered[0], nil)
	x.bodySh = shingles(fields[1], commonCovered[1], slices.Clone(x.titleSh))
	x.titleSh = sortUnique(x.titleSh)
	x.bodySh = sortUnique(x.bodySh)
	return x
}

// namedYears tags the years of the lead w that are written as part of a
// name: after a capitalised word or a named event, or before a capitalised
// word ("Trại hè Việt Nam 2027", "Xuân Quê hương 2027", "the 2027 Vietnam
// Summer Camp"), not a year of comparison ("so với cùng kỳ năm 2026",
// "up 12% from 2026"). eventEnds marks the words that end a named event.
func namedYears(w theme.Words, eventEnds []bool, qs []quantity) {
	for i := range w.Len() {
		t := w.At(i)
		if len(t.ASCII) != 4 || !hasDigit(t.ASCII) || !slices.ContainsFunc(qs, func(q quantity) bool { return !q.title && q.kind == qYear && strconv.Itoa(int(q.value)) == t.ASCII }) {
			continue
		}
		before := followsName(w, i) || i > 0 && !t.Break && eventEnds[i-1]
		after := i+1 < w.Len() && !w.At(i+1).Break && w.At(i+1).Title
		if !before && !after {
			continue
		}
		for k := range qs {
			if !qs[k].title && qs[k].kind == qYear && strconv.Itoa(int(qs[k].value)) == t.ASCII {
				qs[k].unit = yearNamed
			}
		}
	}
}

// conflictKinds are the entity kinds two titles must not disagree on; a
// community counts as a topic too (overseas Vietnamese / FDI).
var conflictKinds = [5]kind{kindCountry, kindPlace, kindAction, kindTopic, kindSector}

func inConflict(c int, k kind) bool {
	return k == conflictKinds[c] || conflictKinds[c] == kindTopic && k == kindCommunity
}

// partnerSet is one class of an item's partners (see doc.partners).
type partnerSet struct {
	ents  []int32 // gazetteer entries
	runs  []int   // proper names, by index in doc.runs
	title bool    // named in the title (else in the lead)
}

func (s *partnerSet) empty() bool { return len(s.ents)+len(s.runs) == 0 }

// The classes of partners, by the kind of entity or a proper name.
const (
	partnerCountry   = iota // partner countries
	partnerCommunity        // communities (overseas Vietnamese)
	partnerName             // companies, foreign proper names
	partnerClasses
)

func partnerClass(k kind) int {
	switch k {
	case kindCountry:
		return partnerCountry
	case kindCommunity:
		return partnerCommunity
	case kindCompany:
		return partnerName
	}
	return -1
}

// index precomputes what comparisons read again and again.
func (x *doc) index(d *Detector) {
	for _, q := range x.quants {
		if q.kind != qYear && !slices.ContainsFunc(x.distinct, func(o quantity) bool {
			return o.kind == q.kind && (o.unit == q.unit || q.kind == qDate) && o.value == q.value
		}) {
			x.distinct = append(x.distinct, q)
			if q.kind == qMoney {
				x.money = append(x.money, q)
			}
		}
		if q.kind == qDate && q.unit == "" {
			x.dates = append(x.dates, q)
		}
		if q.kind == qYear && (q.title || q.unit == yearNamed || q.unit == yearTet) {
			x.years = append(x.years, q)
		}
		if q.kind == qDate && strings.HasPrefix(q.unit, dateAt) {
			x.times = append(x.times, q)
		}
		if q.title || q.kind == qOrdinal {
			x.figures[q.kind] = append(x.figures[q.kind], q)
		}
	}
	for c, k := range conflictKinds {
		for _, h := range x.ents {
			e := d.gaz.entries[h.entry]
			if h.title && inConflict(c, e.kind) {
				x.named[c][1] = append(x.named[c][1], h)
				if e.weight > kindWeights[kindCommon] {
					x.named[c][0] = append(x.named[c][0], h)
				}
			}
		}
		if k == kindAction {
			x.titleAction = len(x.named[c][1]) > 0
		}
		if k == kindAction && len(x.named[c][1]) == 0 {
			// A title that names no action: what the lead says happened.
			for _, h := range x.ents {
				if d.gaz.entries[h.entry].kind == k {
					x.named[c][1] = append(x.named[c][1], h)
				}
			}
			x.named[c][0] = x.named[c][1]
		}
	}
	for c := range x.partners {
		set := partnerSet{}
		for _, inTitle := range [2]bool{true, false} {
			for _, h := range x.ents {
				if h.title == inTitle && !h.market && partnerClass(d.gaz.entries[h.entry].kind) == c {
					set.ents = append(set.ents, h.entry)
				}
			}
			for ri, r := range x.runs {
				if c == partnerName && r.title == inTitle && !r.maybe && !r.where && r.foreignName() {
					set.runs = append(set.runs, ri)
				}
			}
			if !set.empty() {
				set.title = inTitle
				break
			}
		}
		x.partners[c] = set
	}
}

// namesPartnerOf reports whether x names any of o's partners of class c:
// the entity, or a word or pair of words of the name.
func (x *doc) namesPartnerOf(o *doc, c int) bool {
	for _, e := range o.partners[c].ents {
		if x.has(e) {
			return true
		}
	}
	for _, ri := range o.partners[c].runs {
		r := &o.runs[ri]
		for i := range r.single {
			if r.single[i] != 0 && (contains(x.singles, r.single[i]) || contains(x.maybes, r.single[i])) ||
				r.pair[i] != 0 && contains(x.bigrams, r.pair[i]) {
				return true
			}
		}
	}
	return false
}

// partnerList names the item's partners of class c as written, for
// explanations.
func (x *doc) partnerList(c int) string {
	var s []string
	for _, h := range x.ents {
		if slices.Contains(x.partners[c].ents, h.entry) {
			s = append(s, h.text)
		}
	}
	for _, ri := range x.partners[c].runs {
		s = append(s, x.runs[ri].text)
	}
	return strings.Join(s, ", ")
}

// has reports whether the item names entity e.
func (x *doc) has(e int32) bool {
	i := sort.Search(len(x.ents), func(i int) bool { return x.ents[i].entry >= e })
	return i < len(x.ents) && x.ents[i].entry == e
}

var vietnamTime = time.FixedZone("ICT", 7*3600)

// dayNumber counts days in Vietnam's time zone, where the portals publish.
func dayNumber(t time.Time) int {
	t = t.In(vietnamTime)
	return int(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// longestMatches finds the phrases of set in w, in the words not taken
// already (taken may be nil); where matches overlap the longest wins ("Ban
// Quản lý Khu kinh tế Hải Phòng" over "Hải Phòng"). Variants written in
// capitals match only words written in capitals; common nouns match where
// they end a name only in a headline written in Title Case (titleCase).
func (set *phraseSet) longestMatches(w theme.Words, taken []bool, titleCase bool) []theme.Match {
	m := set.matchers[0]
	if w.Marked() {
		m = set.matchers[1]
	}
	all := m.Find(w)
	ok := all[:0]
	for _, m := range all {
		if set.noun[m.Phrase] && !titleCase && inName(w, m.Start) {
			continue
		}
		if set.caps[m.Phrase] {
			caps := true
			for i := m.Start; i < m.End; i++ {
				x := w.At(i)
				if !x.Upper && !(x.Title && len(x.ASCII) == 1) {
					caps = false
				}
			}
			if !caps {
				continue
			}
		}
		ok = append(ok, m)
	}
	sort.SliceStable(ok, func(i, j int) bool { return ok[i].End-ok[i].Start > ok[j].End-ok[j].Start })
	taken = slices.Clone(taken)
	if taken == nil {
		taken = make([]bool, w.Len())
	}
	var out []theme.Match
	for _, m := range ok {
		free := true
		for i := m.Start; i < m.End; i++ {
			if taken[i] {
				free = false
				break
			}
		}
		if !free {
			continue
		}
		for i := m.Start; i < m.End; i++ {
			taken[i] = true
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// extractNames finds runs of capitalised words not covered by the
// gazetteer. In a headline written in Title Case, a capitalised word counts
// only if the summary also capitalises it (or it is an acronym).
//
// A capitalised unit after a number ("1.9 million TEUs") is no name. A
// name just after the home city's ("Hai Phong Children's Hospital", "Hai
// Phong Maritime Administration") is one of the city's own bodies, its
// English name a translation the Vietnamese version words its own way: it
// is not a foreign partner (see nameRun.where).
func (x *doc) extractNames(fields [2]theme.Words, covered, afterHome [2][]bool, units *unitTable) {
	summaryCaps := map[string]bool{}
	sw := fields[1]
	for i := range sw.Len() {
		if w := sw.At(i); w.Title && (i > 0 && !w.Break) {
			summaryCaps[w.ASCII] = true
		}
	}
	for f := range 2 {
		w := fields[f]
		titleCase := f == 0 && isTitleCase(w)
		isName := make([]bool, w.Len())
		for i := range w.Len() {
			t := w.At(i)
			if covered[f][i] || !t.Title || functionWords[t.ASCII] || notNames[t.ASCII] || hasDigit(t.ASCII) {
				continue
			}
			if titleCase && !t.Upper && !summaryCaps[t.ASCII] {
				continue
			}
			if i > 0 && !t.Break && afterNumber(w.At(i-1).ASCII) {
				if _, ok := units.at([]string{t.ASCII}); ok {
					continue
				}
			}
			isName[i] = true
		}
		for i := 0; i < w.Len(); {
			if !isName[i] {
				i++
				continue
			}
			j := i + 1
			for j < w.Len() && isName[j] && !w.At(j).Break {
				j++
			}
			if afterHome[f][i] && j+1 < w.Len() && w.At(j).ASCII == "s" && !w.At(j).Break && !w.At(j+1).Break {
				afterHome[f][j+1] = true // "Hai Phong Children's Hospital"
			}
			r := nameRun{text: w.Text(i, j), title: f == 0,
				where: i > 0 && !w.At(i).Break && (placeWords[w.At(i-1).ASCII] || afterHome[f][i]) ||
					j < w.Len() && !w.At(j).Break && zoneWords[w.At(j).ASCII]}
			for k := i; k < j; k++ {
				t := w.At(k)
				// Where word k starts and ends in the run (never before
				// the previous word, whatever normalisation does).
				start := max(len(r.text)-len(w.Text(k, j)), int(r.cuts0()))
				end := max(len(w.Text(i, k+1)), start)
				r.cuts = append(r.cuts, int32(start), int32(end))
				if t.Upper && len(t.ASCII) <= 2 && k-i < 64 {
					r.short |= 1 << (k - i)
				}
				var single uint64
				switch {
				case canStandAlone(t, sentenceStart(w, i) && k == i && j == i+1 && x.Lang == "en"):
					single = hashString("1\x00" + t.ASCII)
					x.singles = append(x.singles, single)
				case canStandAlone(t, false):
					// An English word alone at the start of a sentence
					// ("Kyocera's plant ...") is a name only if the other
					// item has it as one.
					single = hashString("1\x00" + t.ASCII)
					x.maybes = append(x.maybes, single)
					r.maybe = true
				}
				r.single = append(r.single, single)
				var pair uint64
				if k+1 < j {
					pair = hashString("2\x00" + t.ASCII + " " + w.At(k+1).ASCII)
					x.bigrams = append(x.bigrams, pair)
				}
				r.pair = append(r.pair, pair)
			}
			x.runs = append(x.runs, r)
			i = j
		}
	}
	x.singles = sortUnique(x.singles)
	x.maybes = sortUnique(x.maybes)
	x.bigrams = sortUnique(x.bigrams)
}

// canStandAlone: a single capitalised word is a name by itself if it is an
// acronym ("VSIP", "LG") or a foreign word of four letters or more that no
// Vietnamese syllable spells ("Bridgestone", "Busan"); a Vietnamese
// syllable ("Phòng") needs its neighbours. An English word opening a
// sentence alone is too often an ordinary word.
func canStandAlone(w theme.Word, opensSentence bool) bool {
	if w.Upper {
		return true
	}
	return !opensSentence && len(w.ASCII) >= 4 && !w.Marked && !looksVietnamese(w.ASCII)
}

func isTitleCase(w theme.Words) bool {
	long, caps := 0, 0
	for i := range w.Len() {
		t := w.At(i)
		if len(t.ASCII) >= 4 && !functionWords[t.ASCII] {
			long++
			if t.Title {
				caps++
			}
		}
	}
	return long >= 3 && caps*10 >= long*7
}

// afterNumber: a word a unit follows, a number or a multiplier ("52,4",
// "million", "triệu").
func afterNumber(w string) bool {
	_, ok := multipliers[w]
	return ok || w != "" && w[0] >= '0' && w[0] <= '9'
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

// shingles adds the keys of pairs of neighbouring content words (stop
// words and the commonest names skipped, never across punctuation).
func shingles(w theme.Words, common []bool, out []uint64) []uint64 {
	prev := ""
	for i := range w.Len() {
		t := w.At(i)
		if t.Break {
			prev = ""
		}
		if common[i] || functionWords[t.ASCII] {
			continue
		}
		if prev != "" {
			out = append(out, hashString("3\x00"+prev+" "+t.ASCII))
		}
		prev = t.ASCII
	}
	return out
}

func sortUnique(s []uint64) []uint64 {
	slices.Sort(s)
	return slices.Compact(s)
}

// normalizeURL reduces a link to host and path for comparison: no scheme,
// no "www." or "m.", lower case, no fragment, no tracking parameters, no
// trailing slash.
func normalizeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	host = strings.TrimPrefix(host, "www.")
	host = strings.TrimPrefix(host, "m.")
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "utm_") || lk == "fbclid" || lk == "gclid" || lk == "ref" {
			q.Del(k)
		}
	}
	s := host + strings.TrimRight(strings.ToLower(u.EscapedPath()), "/")
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// matchEdition finds the publisher edition the item's link belongs to;
// the longest (most specific) matching pattern wins.
func (d *Detector) matchEdition(x *doc) {
	best := -1
	for ei, e := range d.gaz.entries {
		if e.kind != kindEdition {
			continue
		}
		for _, ed := range e.editions {
			m := ed.re.FindStringSubmatch(x.url)
			if m == nil || len(ed.pattern) <= best {
				continue
			}
			best = len(ed.pattern)
			x.edition, x.edLang, x.edID = ei, ed.lang, ""
			if ed.hasID {
				x.edID = m[1]
			}
		}
	}
}

// exportMarket reports whether words start..end of w (a country) name
// where goods are sold: after an export or market word a few words
// before ("xuất khẩu sang Mỹ", "exports to the US and EU", "thị trường
// Nhật Bản") or before "market" ("the US market").
func exportMarket(w theme.Words, start, end int) bool {
	for i := max(0, start-4); i < min(start+1, w.Len()); i++ {
		a := w.At(i).ASCII
		// "thị trường" (market), not "thị trưởng" (mayor)
		market := a == "truong" && i > 0 && w.At(i-1).ASCII == "thi" && (!w.At(i).Marked || strings.ToLower(w.Text(i, i+1)) == "trường")
		if marketWords[a] || a == "khau" && i > 0 && w.At(i-1).ASCII == "xuat" || market {
			return true
		}
	}
	return end < w.Len() && !w.At(end).Break && (w.At(end).ASCII == "market" || w.At(end).ASCII == "markets")
}

// marketWords before a country make it a market. ASCII-folded.
var marketWords = wordSet(`export exports exported exporting exporter exporters shipped shipments market markets`)

var weekdays = map[string]int{"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6}

// weekdayDates adds the dates that "on Thursday" names in an item
// published on day: the last such weekday on or before it (news reports
// what happened), so "on Thursday" in a report of Thursday 18 February is
// 18/2 in another version.
func weekdayDates(w theme.Words, day int, title bool, out []quantity) []quantity {
	for i := 1; i < w.Len(); i++ {
		wd, ok := weekdays[w.At(i).ASCII]
		if !ok || w.At(i).Break || w.At(i-1).ASCII != "on" {
			continue
		}
		back := ((day+4)%7 - wd + 7) % 7 // 1970-01-01 was a Thursday
		t := time.Unix(int64(day-back)*86400, 0).UTC()
		out = append(out, quantity{kind: qDate, unit: dateWeekday, value: float64(int(t.Month())*100 + t.Day()), title: title})
	}
	return out
}

// inName reports whether word i, capitalised, continues a name: the word
// before it is capitalised too and no punctuation comes between
// ("Kanemitsu Automotive", "Delta Bright Textile").
func inName(w theme.Words, i int) bool {
	if i == 0 || !w.At(i).Title || w.At(i).Break {
		return false
	}
	prev := w.At(i - 1)
	return prev.Title && !functionWords[prev.ASCII]
}

// planned reports whether the action at word i is announced rather than
// reported: a plan word shortly before it ("sẽ khảo sát", "đặt lịch khảo
// sát", "will visit", "plans to sign").
func planned(w theme.Words, i int) bool {
	for j := i - 1; j >= max(0, i-3); j-- {
		if w.At(j + 1).Break {
			return false
		}
		a := w.At(j).ASCII
		if planWords[a] || j > 0 && planPairs[w.At(j-1).ASCII+" "+a] {
			return true
		}
	}
	return false
}

// satisfies reports whether the English "meet" that ends at word end
// means satisfying something ("meet growing demand", "meets EU
// requirements", "meet the needs of investors"): what follows within a
// few words, past determiners and modifiers, is a demand, need,
// requirement, standard or target rather than the people met.
func satisfies(w theme.Words, end int) bool {
	if a := w.At(end - 1).ASCII; a != "meet" && a != "meets" {
		return false
	}
	for j := end; j < min(end+5, w.Len()) && (!w.At(j).Break || possessive(w, j)); j++ {
		a := w.At(j).ASCII
		if demandWords[a] {
			return true
		}
		if functionWords[a] && !determiners[a] {
			return false
		}
	}
	return false
}

// possessive reports whether only an apostrophe comes between words j-1
// and j ("investors' demand").
func possessive(w theme.Words, j int) bool {
	both, prev, next := w.Text(j-1, j+1), w.Text(j-1, j), w.Text(j, j+1)
	if len(both) < len(prev)+len(next) {
		return false
	}
	between := strings.TrimSpace(both[len(prev) : len(both)-len(next)])
	return between == "'" || between == "’" || between == "'s" || between == "’s"
}

// demandWords after "meet" make it satisfying them; determiners may come
// between. ASCII-folded.
var (
	demandWords = wordSet(`demand demands need needs requirement requirements standard standards target targets
goal goals criteria criterion condition conditions expectation expectations deadline deadlines quota quotas
obligation obligations commitment commitments request requests`)
	determiners = wordSet(`a an the its their his her our all these those this that every each`)
)

// planWords and planPairs before an action make it a plan. ASCII-folded.
var (
	planWords = wordSet(`se will`)
	planPairs = map[string]bool{"du kien": true, "dat lich": true, "ke hoach": true, "plans to": true,
		"plan to": true, "scheduled to": true, "expected to": true, "set to": true}
)
