package story

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
)

// Constraints are staff decisions that grouping honours, by item id. Ids
// of items outside the window are ignored.
type Constraints struct {
	// Same: these two items are one story (a confirmed pairing; two
	// merged stories are one pair across them).
	Same [][2]string
	// Different: these two items are never one story (an item split out
	// of a story is one pair with each of its former companions).
	Different [][2]string
}

// Story is a group of items that report one event.
type Story struct {
	// Key is the id of its earliest item (publication, then id): stable
	// while that item stays in the window.
	Key string
	// Items in reading order: Vietnamese first, then English, then any
	// other language; within one, earliest first.
	Items    []string
	Versions []Version
	// Links are the decisions that joined the items: one per join, so a
	// story of n items has n-1 (none for a single item).
	Links []Decision
}

// Version is the part of a story in one language.
type Version struct {
	Lang    string
	Items   []string // earliest first
	Sources []string // distinct feed names, in item order ("" left out)
}

// Grouping is the outcome of Group.
type Grouping struct {
	Stories []Story // every item in exactly one story, in the order of their first item in the input
	// Suggestions are pairs in different stories that staff may want to
	// join: below the threshold but at or above the suggestion threshold
	// (or above the threshold but kept apart because the stories as a
	// whole do not match), best first, at most MaxSuggestionsPerItem per
	// item.
	Suggestions []Decision
	// Conflicts are staff decisions that could not all be honoured, and
	// which one was: a pairing that would join items kept apart is not
	// applied.
	Conflicts []string
	byItem    map[string]int
}

// MaxSuggestionsPerItem bounds the suggestions that name one item.
const MaxSuggestionsPerItem = 3

// StoryOf returns the story that holds the item.
func (g *Grouping) StoryOf(id string) (*Story, bool) {
	i, ok := g.byItem[id]
	if !ok {
		return nil, false
	}
	return &g.Stories[i], true
}

// Group sorts a window of items into stories. Two items are joined when
// their decision says same story, best pairs first, and two groups only
// as joinBlocked allows, so that A≈B and B≈C never put an A and a C that
// disagree together. Staff decisions are
// never overridden: items kept apart are never joined, and a staff pairing
// joins the two items' stories whole once the rules have formed them (so
// each keeps the versions the rules gave it). Only pairs sharing a distinctive
// signal (an amount, a name, a place, a wording, the link) are compared,
// so the cost grows with the window, not with its square.
//
// An error is returned only for items without an id or with a duplicate.
func (d *Detector) Group(items []Item, c Constraints) (*Grouping, error) {
	idx, err := indexIDs(len(items), func(i int) string { return items[i].ID })
	if err != nil {
		return nil, err
	}
	docs := make([]*doc, len(items))
	for i, it := range items {
		docs[i] = d.prepare(it)
	}
	return d.group(docs, idx, c), nil
}

// GroupPrepared is Group over items prepared beforehand (Prepare,
// Restore): it only compares. Items prepared with another gazetteer are
// prepared again. An error is returned only for a missing item, an item
// without an id or with a duplicate.
func (d *Detector) GroupPrepared(items []*Prepared, c Constraints) (*Grouping, error) {
	for i, p := range items {
		if p == nil {
			return nil, fmt.Errorf("stories: item %d is missing", i+1)
		}
	}
	idx, err := indexIDs(len(items), func(i int) string { return items[i].doc.ID })
	if err != nil {
		return nil, err
	}
	docs := make([]*doc, len(items))
	for i, p := range items {
		docs[i] = &p.doc
		if p.key != d.signalsKey {
			docs[i] = d.prepare(p.doc.Item)
		}
	}
	return d.group(docs, idx, c), nil
}

// indexIDs maps each id to its position; an empty or repeated id is an
// error naming the items.
func indexIDs(n int, id func(int) string) (map[string]int, error) {
	idx := make(map[string]int, n)
	for i := range n {
		s := id(i)
		if s == "" {
			return nil, fmt.Errorf("stories: item %d has no id", i+1)
		}
		if j, ok := idx[s]; ok {
			return nil, fmt.Errorf("stories: %w %q (items %d and %d)", errDuplicate, s, j+1, i+1)
		}
		idx[s] = i
	}
	return idx, nil
}

func (d *Detector) group(docs []*doc, idx map[string]int, c Constraints) *Grouping {
	gr := &grouper{d: d, docs: docs}
	gr.init()
	g := &Grouping{}

	// Staff separations bind the rules.
	for _, p := range c.Different {
		i, ok1 := idx[p[0]]
		j, ok2 := idx[p[1]]
		if ok1 && ok2 && i != j {
			gr.apart[pairKey(i, j)] = true
		}
	}
	// The rules: best pairs first.
	cands := gr.candidates()
	gr.scores = make(map[uint64]pairScore, len(cands))
	var merge, near []scoredPair
	for _, k := range cands {
		s := gr.pairScore(k)
		switch {
		case s.vetoed:
		case s.score >= d.cfg.Threshold:
			merge = append(merge, scoredPair{k, s.score})
		case s.score >= d.cfg.Suggest:
			near = append(near, scoredPair{k, s.score})
		}
	}
	byScore(merge)
	blocked := map[uint64]blockage{}
	for _, p := range merge {
		k := p.key
		i, j := unpair(k)
		if gr.find(i) == gr.find(j) {
			continue
		}
		if x, y, ok := gr.keptApart(i, j); ok {
			blocked[k] = blockage{x: x, y: y, staff: true}
			continue
		}
		if b, ok := gr.joinBlocked(i, j); ok {
			blocked[k] = b
			continue
		}
		gr.union(i, j, d.decide(docs[i], docs[j]))
	}
	// Staff pairings join the stories of the two items, whole: a confirmed
	// pair or two merged stories keep every version the rules gave them.
	for _, p := range c.Same {
		i, ok1 := idx[p[0]]
		j, ok2 := idx[p[1]]
		if !ok1 || !ok2 || gr.find(i) == gr.find(j) {
			continue
		}
		if x, y, ok := gr.keptApart(i, j); ok {
			g.Conflicts = append(g.Conflicts, fmt.Sprintf(
				"staff pairing %s–%s not applied: it would join %s and %s, which staff kept apart",
				docs[i].ID, docs[j].ID, docs[x].ID, docs[y].ID))
			continue
		}
		dec := d.decide(docs[i], docs[j])
		dec.Same, dec.Staff = true, "same"
		dec.Explanation = explain(dec)
		gr.union(i, j, dec)
	}

	// Suggestions: near misses and blocked joins across the final stories.
	for k := range blocked {
		near = append(near, scoredPair{k, gr.scores[k].score})
	}
	byScore(near)
	perItem := make([]int, len(docs))
	for _, p := range near {
		k := p.key
		i, j := unpair(k)
		if gr.find(i) == gr.find(j) || perItem[i] >= MaxSuggestionsPerItem || perItem[j] >= MaxSuggestionsPerItem {
			continue
		}
		if _, _, ok := gr.keptApart(i, j); ok {
			continue
		}
		perItem[i]++
		perItem[j]++
		dec := d.decide(docs[i], docs[j])
		if b, ok := blocked[k]; ok {
			dec.Same = false
			dec.Explanation = explain(dec) + "; " + gr.why(b)
		}
		g.Suggestions = append(g.Suggestions, dec)
	}
	gr.stories(g)
	return g
}

// scoredPair is a pair of items (pairKey) with its score.
type scoredPair struct {
	key   uint64
	score float64
}

// byScore sorts pairs best first (then by key, so the order is stable).
func byScore(ps []scoredPair) {
	slices.SortFunc(ps, func(a, b scoredPair) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
}

// grouper is union-find over the items with the members of each group.
type grouper struct {
	d       *Detector
	docs    []*doc
	parent  []int
	members [][]int
	links   [][]Decision
	apart   map[uint64]bool
	scores  map[uint64]pairScore
}

func (gr *grouper) init() {
	n := len(gr.docs)
	gr.parent = make([]int, n)
	gr.members = make([][]int, n)
	gr.links = make([][]Decision, n)
	gr.apart = map[uint64]bool{}
	for i := range n {
		gr.parent[i] = i
		gr.members[i] = []int{i}
	}
}

func (gr *grouper) find(i int) int {
	for gr.parent[i] != i {
		gr.parent[i] = gr.parent[gr.parent[i]]
		i = gr.parent[i]
	}
	return i
}

func (gr *grouper) union(i, j int, link Decision) {
	ri, rj := gr.find(i), gr.find(j)
	if len(gr.members[ri]) < len(gr.members[rj]) {
		ri, rj = rj, ri
	}
	gr.parent[rj] = ri
	gr.members[ri] = append(gr.members[ri], gr.members[rj]...)
	gr.links[ri] = append(append(gr.links[ri], gr.links[rj]...), link)
	gr.members[rj], gr.links[rj] = nil, nil
}

func pairKey(i, j int) uint64 {
	if i > j {
		i, j = j, i
	}
	return uint64(i)<<32 | uint64(j)
}

func unpair(k uint64) (int, int) { return int(k >> 32), int(k & 0xffffffff) }

// keptApart finds a staff "different" pair across the groups of i and j.
func (gr *grouper) keptApart(i, j int) (int, int, bool) {
	if len(gr.apart) == 0 {
		return 0, 0, false
	}
	for _, x := range gr.members[gr.find(i)] {
		for _, y := range gr.members[gr.find(j)] {
			if gr.apart[pairKey(x, y)] {
				return x, y, true
			}
		}
	}
	return 0, 0, false
}

func (gr *grouper) pairScore(k uint64) pairScore {
	if s, ok := gr.scores[k]; ok {
		return s
	}
	i, j := unpair(k)
	s := gr.d.score(gr.docs[i], gr.docs[j])
	gr.scores[k] = s
	return s
}

// blockage is why a same-story pair was not joined: the pair x, y across
// the two groups that rules the join out, or staff keeping them apart.
type blockage struct {
	x, y     int
	staff    bool
	vetoed   bool
	partners bool // the stories name different partners of this class (partnersDiffer)
	class    int
	pair     pairScore // the pair's score, when it is not vetoed
}

// why says it for staff, as the end of the pair's explanation.
func (gr *grouper) why(b blockage) string {
	x, y := gr.docs[b.x], gr.docs[b.y]
	var reason string
	switch {
	case b.staff:
		return fmt.Sprintf("staff kept %s and %s apart", x.ID, y.ID)
	case b.vetoed:
		reason = gr.d.decide(x, y).Veto
	case b.partners:
		reason = fmt.Sprintf("the stories name different partners: %s names %s, %s names %s", x.ID, x.partnerList(b.class), y.ID, y.partnerList(b.class))
	case b.pair.score < 0:
		reason = "score " + num(round2(b.pair.score)) + " < 0"
	case b.pair.titles:
		reason = fmt.Sprintf("their titles name different events or partners; score %s < %s", num(round2(b.pair.score)), num(gr.d.cfg.Threshold))
	case b.pair.against:
		reason = fmt.Sprintf("score %s < %s, with evidence against", num(round2(b.pair.score)), num(gr.d.cfg.Suggest))
	default:
		reason = fmt.Sprintf("score %s < %s, nothing specific to the event shared", num(round2(b.pair.score)), num(gr.d.cfg.Suggest))
	}
	return fmt.Sprintf("not joined: it would put %s with %s (%s)", x.ID, y.ID, reason)
}

// joinBlocked says whether the groups of i and j must stay apart, naming
// a pair across them that rules the join out. Every pair across must be
// a plausible match: at least a suggestion, or, for a version with its
// own angle, a weaker pair that shares something specific to the event
// (the same article, an amount, a proper name, a company; not a named
// recurring event, which every event of one trip or programme shares) and
// has nothing against it. A pair ruled out (another day, year or edition
// of the event, dates, one feed), below
// zero, or weak with evidence against or with only the setting in common
// (the city, the partner country, the topic, the week) blocks the join,
// so A≈B and B≈C never put an A and a C that disagree together, and a
// version that says too little to tell its event from another of the
// same trip or week joins neither.
func (gr *grouper) joinBlocked(i, j int) (blockage, bool) {
	gi, gj := gr.members[gr.find(i)], gr.members[gr.find(j)]
	if b, ok := gr.partnersDiffer(gi, gj); ok {
		return b, true
	}
	if b, ok := gr.partnersDiffer(gj, gi); ok {
		return b, true
	}
	var worst blockage
	found := false
	for _, x := range gi {
		for _, y := range gj {
			s := gr.pairScore(pairKey(x, y))
			switch {
			case s.vetoed:
				return blockage{x: x, y: y, vetoed: true}, true
			case s.score < 0:
				return blockage{x: x, y: y, pair: s}, true
			case s.titles && s.score < gr.d.cfg.Threshold:
				return blockage{x: x, y: y, pair: s}, true
			case s.score >= gr.d.cfg.Suggest || s.specific && !s.against:
				continue
			}
			if !found || s.score < worst.pair.score {
				worst, found = blockage{x: x, y: y, pair: s}, true
			}
		}
	}
	return worst, found
}

// partnersDiffer: the titles of group g name partners of a class (the
// company, country or community that invests, donates or visits), the
// items of group h name others of that class (in their titles, or in
// their leads when the titles name none), and no item of either names
// any of the other's. A version whose title does not say who acts is
// held to what its lead says against every version of the story that
// does, not only the one it matches.
func (gr *grouper) partnersDiffer(g, h []int) (blockage, bool) {
	for c := range partnerClasses {
		x, y := -1, -1
		for _, m := range g {
			if set := &gr.docs[m].partners[c]; set.title && !set.empty() {
				x = m
				break
			}
		}
		for _, m := range h {
			if !gr.docs[m].partners[c].empty() {
				y = m
				break
			}
		}
		if x < 0 || y < 0 || gr.namesPartners(h, g, c, true) || gr.namesPartners(g, h, c, false) {
			continue
		}
		return blockage{x: x, y: y, partners: true, class: c}, true
	}
	return blockage{}, false
}

// namesPartners reports whether an item of group g names a partner of
// class c of an item of group h (only partners named in titles when
// titles is set).
func (gr *grouper) namesPartners(g, h []int, c int, titles bool) bool {
	for _, m := range h {
		if set := &gr.docs[m].partners[c]; titles && !set.title {
			continue
		}
		for _, x := range g {
			if gr.docs[x].namesPartnerOf(gr.docs[m], c) {
				return true
			}
		}
	}
	return false
}

// maxPosting: a signal shared by more items than this (in a window of n)
// is too common to pick pairs by; it still counts when a pair is scored.
func maxPosting(n int) int { return 100 + n/50 }

// candidates returns the pairs published within the date window that
// share a strong signal (the link, an amount, an ordinal, a name, a
// company or named event, each shared by few items) or two weaker ones (a
// place or body, a count or percentage, a pair of title words).
func (gr *grouper) candidates() []uint64 {
	n := len(gr.docs)
	keys := make([][]uint64, n)
	post := make(map[uint64][]int32, 16*n)
	for i, x := range gr.docs {
		keys[i] = sortUnique(gr.blockingKeys(x))
		for _, k := range keys[i] {
			post[k] = append(post[k], int32(i))
		}
	}
	limit := maxPosting(n)
	maxDays := gr.d.cfg.MaxDaysApart
	// For each item, the strength of its links to the items after it,
	// summed over the keys it shares with them.
	strength := make([]uint8, n)
	var touched []int32
	var out []uint64
	for i, x := range gr.docs {
		for _, k := range keys[i] {
			l := post[k]
			if len(l) < 2 || len(l) > limit {
				continue
			}
			w := uint8(1)
			if k&strongKey != 0 && len(l) <= maxStrongPosting {
				w = 2
			}
			at, _ := slices.BinarySearch(l, int32(i))
			for _, j := range l[at+1:] {
				if y := gr.docs[j]; x.day != noDay && y.day != noDay && (y.day-x.day > maxDays || x.day-y.day > maxDays) {
					continue
				}
				if strength[j] == 0 {
					touched = append(touched, j)
				}
				strength[j] = min(strength[j]+w, 2)
			}
		}
		for _, j := range touched {
			if strength[j] >= 2 {
				out = append(out, pairKey(i, int(j)))
			}
			strength[j] = 0
		}
		touched = touched[:0]
	}
	slices.Sort(out)
	return out
}

// strongKey marks blocking keys that alone make a pair worth comparing,
// unless more than maxStrongPosting items share them (the city chairman's
// name): then they count as weak.
const (
	strongKey        = 1 << 63
	maxStrongPosting = 40
)

// blockingKeys are the signals a pair must share to be compared at all.
func (gr *grouper) blockingKeys(x *doc) []uint64 {
	var keys []uint64
	key := func(strong bool, s string) {
		k := hashString(s) &^ strongKey
		if strong {
			k |= strongKey
		}
		keys = append(keys, k)
	}
	if x.url != "" {
		key(true, "u\x00"+x.url)
	}
	if x.edID != "" {
		key(true, "e\x00"+strconv.Itoa(x.edition)+"\x00"+x.edID)
	}
	for _, q := range x.quants {
		switch {
		case q.kind == qMoney:
			key(true, "m\x00"+q.unit+"\x00"+roughly(q.value))
		case q.kind == qOrdinal:
			key(true, "o\x00"+strconv.FormatFloat(q.value, 'f', -1, 64))
			key(false, "y\x00"+strconv.FormatFloat(q.value, 'f', -1, 64))
		case q.kind == qPeriod && q.unit == "years":
			// "12 years of ties" = "12th anniversary"
			key(false, "y\x00"+strconv.FormatFloat(q.value, 'f', -1, 64))
		case q.kind == qPercent:
			key(false, "p\x00"+strconv.FormatFloat(math.Round(q.value*10)/10, 'f', -1, 64))
		case (q.kind == qCount || q.kind == qBare) && q.value >= 10:
			key(false, "n\x00"+strconv.FormatFloat(q.value, 'f', -1, 64))
		case q.kind == qYear && q.unit == yearTet:
			key(false, "tet\x00"+strconv.FormatFloat(q.value, 'f', -1, 64))
		}
	}
	for _, h := range x.ents {
		switch gr.d.gaz.entries[h.entry].kind {
		case kindCompany, kindEvent:
			key(true, "g\x00"+strconv.Itoa(int(h.entry)))
		case kindPlace, kindBody, kindTopic, kindSector:
			key(false, "g\x00"+strconv.Itoa(int(h.entry)))
		case kindAction:
			// What happened to whom: an action with each partner country
			// or community (too common to pick pairs by alone).
			for _, o := range x.ents {
				if k := gr.d.gaz.entries[o.entry].kind; k == kindCountry || k == kindCommunity {
					key(false, "a\x00"+strconv.Itoa(int(h.entry))+"\x00"+strconv.Itoa(int(o.entry)))
				}
			}
		}
	}
	// A day of the event with each place the item names (the home city
	// left out), with its publisher and with each count of things: the vi
	// and en reports of one reception may share little else ("Thâm
	// Quyến" / "Shenzhen", 17 Aug), those of a fair its day and its
	// exhibitors (12 May, 180 businesses).
	for _, q := range x.quants {
		if q.kind != qDate || q.unit == dateUntil {
			continue
		}
		date := strconv.Itoa(int(q.value))
		if x.edition >= 0 {
			key(true, "de\x00"+date+"\x00"+strconv.Itoa(x.edition))
		}
		for _, c := range x.quants {
			if c.kind == qCount && c.value >= 10 {
				key(true, "dn\x00"+date+"\x00"+c.unit+"\x00"+strconv.FormatFloat(c.value, 'f', -1, 64))
			}
		}
		for _, h := range x.ents {
			if e := gr.d.gaz.entries[h.entry]; e.kind == kindPlace && e.weight > kindWeights[kindCommon] {
				key(true, "dp\x00"+date+"\x00"+strconv.Itoa(int(h.entry)))
			}
		}
	}
	// The words of the news two versions in different languages share
	// ("câu lạc bộ" = "club") in their titles, the commonest left out.
	for _, t := range x.terms {
		if t.title && gr.d.gaz.entries[t.entry].weight > kindWeights[kindCommon] {
			key(false, "t\x00"+strconv.Itoa(int(t.entry)))
		}
	}
	// Every word the comparison may count as a name: a word that opens an
	// English sentence ("Kyocera's plant ...") is one when the other item
	// has it as a name.
	for _, k := range x.singles {
		keys = append(keys, k|strongKey)
	}
	for _, k := range x.maybes {
		keys = append(keys, k|strongKey)
	}
	for _, k := range x.bigrams {
		keys = append(keys, k|strongKey)
	}
	for _, k := range x.titleSh {
		keys = append(keys, k&^strongKey)
	}
	return keys
}

// roughly rounds to two significant digits, so that amounts rounded
// differently in two languages ("1,43 tỷ", "1.4 billion") meet.
func roughly(v float64) string {
	if v == 0 {
		return "0"
	}
	e := math.Floor(math.Log10(math.Abs(v))) - 1
	p := math.Pow(10, e)
	return strconv.FormatFloat(math.Round(v/p)*p, 'g', 2, 64)
}

var langOrder = map[string]int{"vi": 0, "en": 1}

func langRank(l string) int {
	if r, ok := langOrder[l]; ok {
		return r
	}
	return 2
}

// stories fills g.Stories from the final groups.
func (gr *grouper) stories(g *Grouping) {
	g.byItem = make(map[string]int, len(gr.docs))
	for i := range gr.docs {
		r := gr.find(i)
		if _, done := g.byItem[gr.docs[r].ID]; done || gr.members[r] == nil {
			continue
		}
		m := slices.Clone(gr.members[r])
		sort.Slice(m, func(a, b int) bool {
			x, y := gr.docs[m[a]], gr.docs[m[b]]
			if lx, ly := langRank(x.Lang), langRank(y.Lang); lx != ly {
				return lx < ly
			}
			if x.Lang != y.Lang {
				return x.Lang < y.Lang
			}
			if x.day != y.day {
				return x.day < y.day
			}
			return m[a] < m[b]
		})
		s := Story{Links: gr.links[r]}
		earliest := -1
		for _, k := range m {
			x := gr.docs[k]
			s.Items = append(s.Items, x.ID)
			if earliest < 0 || x.day < gr.docs[earliest].day ||
				(x.day == gr.docs[earliest].day && x.ID < gr.docs[earliest].ID) {
				earliest = k
			}
			if n := len(s.Versions); n == 0 || s.Versions[n-1].Lang != x.Lang {
				s.Versions = append(s.Versions, Version{Lang: x.Lang})
			}
			v := &s.Versions[len(s.Versions)-1]
			v.Items = append(v.Items, x.ID)
			if x.Source != "" && !slices.Contains(v.Sources, x.Source) {
				v.Sources = append(v.Sources, x.Source)
			}
		}
		s.Key = gr.docs[earliest].ID
		n := len(g.Stories)
		for _, id := range s.Items {
			g.byItem[id] = n
		}
		g.byItem[gr.docs[r].ID] = n
		g.Stories = append(g.Stories, s)
	}
}
