package story

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Evidence is one reason for or against two items being one story.
type Evidence struct {
	// Kind: "link", "edition", "amount", "number", "date mentioned",
	// "name", a gazetteer kind ("place", "country", "body", "company",
	// "event", "action", "topic", "community", "sector", "common", "term"),
	// "partner" (who acts differs), "titles" (both say who did what, the
	// same), "figures", "wording" or "date".
	Kind   string
	Text   string  // what is shared or what differs, as staff read it
	Weight float64 // its part of the score; negative when against
}

// Decision says whether two items report the same event, and why.
type Decision struct {
	A, B      string // item ids, A < B
	Same      bool
	Score     float64
	Threshold float64
	For       []Evidence // strongest first
	Against   []Evidence // strongest first
	DaysApart int        // -1 when a publication date is unknown
	// Veto is why the items can never be one story whatever the score
	// ("published 12 days apart", "same feed and language, different
	// wording", "kept apart by staff"); "" if nothing rules it out.
	Veto string
	// Staff is "same" or "different" when a staff decision settled the
	// pair, "" when the rules did.
	Staff string
	// Explanation says all of it in one line: "same story: shared LG
	// Display, 1.4 billion USD, Hai Phong; 0 days apart; score 7.5 ≥ 5".
	Explanation string
}

// Compare decides whether two items report the same event.
func (d *Detector) Compare(a, b Item) Decision {
	return d.decide(d.prepare(a), d.prepare(b))
}

// decide compares two prepared items with the evidence spelled out.
func (d *Detector) decide(a, b *doc) Decision {
	if b.ID < a.ID {
		a, b = b, a
	}
	p := pair{d: d, a: a, b: b, explain: true}
	p.run()
	dec := Decision{A: a.ID, B: b.ID, Score: round2(p.score), Threshold: d.cfg.Threshold,
		DaysApart: p.days, Veto: p.veto}
	for _, e := range p.ev {
		e.Weight = round2(e.Weight)
		if e.Weight >= 0 {
			dec.For = append(dec.For, e)
		} else {
			dec.Against = append(dec.Against, e)
		}
	}
	sort.SliceStable(dec.For, func(i, j int) bool { return dec.For[i].Weight > dec.For[j].Weight })
	sort.SliceStable(dec.Against, func(i, j int) bool { return dec.Against[i].Weight < dec.Against[j].Weight })
	dec.Same = dec.Veto == "" && dec.Score >= d.cfg.Threshold
	dec.Explanation = explain(dec)
	return dec
}

// pairScore is what grouping keeps of a pair: its score, whether
// something rules it out (then the score is incomplete), and what kind of
// evidence it has.
type pairScore struct {
	score  float64
	vetoed bool
	// specific: some evidence for it names this event rather than its
	// setting (the same article, an amount, a proper name, a company, a
	// count of something: "320 visitors"); against: some
	// evidence counts against it; titles: the two titles themselves name
	// different events or partners.
	specific, against, titles bool
}

// score is decide without the words: the fast path of grouping.
func (d *Detector) score(a, b *doc) pairScore {
	if b.ID < a.ID {
		a, b = b, a
	}
	p := pair{d: d, a: a, b: b}
	p.run()
	return pairScore{score: p.score, vetoed: p.vetoed, specific: p.specific, against: p.against, titles: p.titles}
}

// specificKinds is the evidence that names one event rather than its
// setting: places, countries, bodies, topics, actions, wording and dates
// are shared by other events of the same week too, and a named recurring
// event (the China–ASEAN Expo, the Vietnam Summer Camp) by every event of
// one trip or programme: the expo's stand and the leaders' meeting on its
// sidelines, the camp's opening in Hanoi and its visit to Hai Phong.
var specificKinds = map[string]bool{"link": true, "amount": true, "name": true,
	kindCompany.String(): true}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// pair accumulates the evidence about two items.
type pair struct {
	d       *Detector
	a, b    *doc
	explain bool
	score   float64
	ev      []Evidence
	days    int
	vetoed  bool
	veto    string // why it is vetoed (only when explaining)
	// see pairScore
	specific, against, titles bool
	money                     float64 // the weight of the amounts in common
	// otherDays: both items name days of their events, and none in common
	otherDays bool
	// preciseFigures: two figures or more in common (percentages,
	// amounts, counts), one of them precise at least, and a period
	preciseFigures bool
	// eventDay: a day of the event in common (see sameNumberOfThings)
	eventDay bool
}

func (p *pair) add(kind, text string, w float64) {
	if w == 0 {
		return
	}
	p.score += w
	switch {
	case w < 0:
		p.against = true
	case specificKinds[kind] || kind == "edition" && w >= wEditionArticle:
		p.specific = true
	}
	if p.explain {
		p.ev = append(p.ev, Evidence{Kind: kind, Text: text, Weight: w})
	}
}

// Weights of the evidence. They were set on the development set
// (testdata/stories/dev.jsonl) and must be re-measured there and on the
// held-out sets after any change.
const (
	wSameLink       = 10  // the same article
	wEditionArticle = 10  // one article in both editions of a publisher
	wEditions       = 1   // the vi and en editions of one publisher
	wMoney          = 3   // the first amount of money in common
	wMoreMoney      = 1.5 // each further one
	wPercent        = 1.5
	wCount          = 1.5 // "300 businesses" = "hơn 300 doanh nghiệp"
	wSmallCount     = 0.5 // the same with a number under 10
	wNumber         = 1   // the same number of unknown things, 100 or more
	wSmallNumber    = 0.5 // from 10
	wOrdinal        = 1.5 // "lần thứ 3" = "3rd"
	wPeriod         = 0.5 // "9 tháng" = "nine months"
	wDate           = 1   // "20/10" = "October 20"
	maxNumbers      = 6
	wPreciseFigures = 1 // two or more figures of one period in common, one precise
	wDayAndCount    = 1 // a day of the event and a number of things in common
	wLongName       = 2 // three words or more
	wName           = 1.5
	wShortAcronym   = 0.75 // "LG"
	maxNames        = 4.5
	maxCommon       = 0.5
	maxCountries    = 1
	maxTerms        = 2 // the terms two items of different languages share
	maxTopics       = 1
	wTitleWording   = 4 // times the share of title word pairs in common
	wBodyWording    = 3 // times the share of all word pairs in common
	maxWording      = 6
	wSameDay        = 1
	wNextDay        = 0.5
	wTitlesAgree    = 1.5 // both titles say who did what, the same
	wThreeDays      = -0.5
	wFourDays       = -2 // four or five days apart
	wSixDays        = -3 // six days or more

	againstAmounts      = -2.5 // in the titles
	againstAmountsBody  = -1.5 // anywhere
	againstPercents     = -1.5
	againstOrdinals     = -3
	againstPeriods      = -2
	againstYears        = -3
	againstDates        = -1.5
	againstCounts       = -1.5
	againstPartner      = -2
	againstPlace        = -3
	againstPlacesApart  = -1.5
	againstAction       = -3
	againstTitleActions = -1.5
	againstTopic        = -2
	againstSector       = -2

	// sameFeedWording is how similar the titles of two items of one feed
	// and language must be to be one story (a republished article).
	sameFeedWording = 0.6
)

func (p *pair) run() {
	a, b := p.a, p.b
	// What rules a pair out.
	p.days = -1
	if a.day != noDay && b.day != noDay {
		p.days = a.day - b.day
		if p.days < 0 {
			p.days = -p.days
		}
		if p.days > p.d.cfg.MaxDaysApart {
			p.vetoed = true
			if p.explain {
				p.veto = fmt.Sprintf("published %d days apart (more than %d)", p.days, p.d.cfg.MaxDaysApart)
			}
		}
	} else {
		p.eventFarFromPublication()
	}
	sameLang := a.Lang == b.Lang
	titleSim, bodySim := 0.0, 0.0
	if sameLang {
		titleSim, bodySim = dice(a.titleSh, b.titleSh), dice(a.bodySh, b.bodySh)
	}
	sameURL := a.url != "" && a.url == b.url
	if !p.vetoed && sameLang && a.Source != "" && a.Source == b.Source && !sameURL && titleSim < sameFeedWording {
		p.vetoed = true
		if p.explain {
			p.veto = fmt.Sprintf("same feed (%s) and language, different wording", a.Source)
		}
	}
	if p.vetoed && !p.explain {
		return // nothing else counts for grouping
	}

	// The link.
	switch {
	case sameURL:
		p.add("link", "same link", wSameLink)
	case a.edition >= 0 && a.edition == b.edition && a.edLang != b.edLang:
		key := p.d.gaz.entries[a.edition].key
		if a.edID != "" && b.edID != "" {
			if a.edID == b.edID {
				p.add("edition", fmt.Sprintf("one article (%s) in the vi and en editions of %s", a.edID, key), wEditionArticle)
			}
		} else {
			p.add("edition", "vi and en editions of "+key, wEditions)
		}
	}

	p.numbers()
	if p.vetoed && !p.explain {
		return
	}
	p.entities()
	p.names()
	p.partners()

	if sameLang {
		w := min(maxWording, wTitleWording*titleSim+wBodyWording*bodySim)
		if w >= 0.25 {
			text := ""
			if p.explain {
				text = fmt.Sprintf("similar wording (titles %.0f%%, texts %.0f%%)", 100*titleSim, 100*bodySim)
			}
			p.add("wording", text, w)
		}
	}

	switch {
	case p.days < 0:
	case p.days == 0:
		p.add("date", "", wSameDay)
	case p.days == 1:
		p.add("date", "", wNextDay)
	case p.days == 2:
	case p.days == 3:
		p.add("date", "", wThreeDays)
	case p.days <= 5:
		p.add("date", "", wFourDays)
	default:
		p.add("date", "", wSixDays)
	}
	if !p.against {
		// Statistics of one period told in other words: figures in
		// common, one of them precise at least ("11.2%" and "16.4%" in the
		// first quarter, "3.4 million TEU" and "8%" in six months), and
		// nothing against, are one report.
		// One event told from other angles: its day and how many took
		// part or were handed something ("85 campers" on 20 July) in
		// common, and nothing against.
		switch {
		case p.preciseFigures:
			p.add("number", "precise figures of one period", wPreciseFigures)
		case p.eventDay && sameNumberOfThings(p.a.distinct, p.b.distinct):
			p.add("number", "one day and one count", wDayAndCount)
		}
		p.terms(sameLang)
		p.titlesAgree()
	}
}

// eventFarFromPublication vetoes a pair of which one item has no date
// but names the day of its event, and the other was published more than
// MaxDaysApart days from that day (taken in the year that puts it
// nearest): the undated report of a licence handed over on 8 October is
// not the story of a groundbreaking reported on 12 November.
func (p *pair) eventFarFromPublication() {
	x, o := p.a, p.b
	if x.day != noDay {
		x, o = o, x
	}
	if o.day == noDay || len(x.dates) == 0 {
		return
	}
	apart := math.MaxInt
	for _, q := range x.dates {
		apart = min(apart, daysFrom(o.day, int(q.value)))
	}
	if apart <= p.d.cfg.MaxDaysApart {
		return
	}
	p.vetoed = true
	if p.explain {
		p.veto = fmt.Sprintf("%s has no date; its event (%s) and the publication of %s are %d days apart (more than %d)",
			x.ID, quantityList(x.dates), o.ID, apart, p.d.cfg.MaxDaysApart)
	}
}

// daysFrom counts the days between day (a day number) and a date written
// month*100 + day, in the year that puts them nearest.
func daysFrom(day, date int) int {
	t := time.Unix(int64(day)*86400, 0).UTC()
	nearest := math.MaxInt
	for y := t.Year() - 1; y <= t.Year()+1; y++ {
		d := time.Date(y, time.Month(date/100), date%100, 0, 0, 0, 0, time.UTC)
		n := int(d.Unix()/86400) - day
		nearest = min(nearest, max(n, -n))
	}
	return nearest
}

// dice is the share of keys two sorted sets have in common.
func dice(a, b []uint64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return 2 * float64(n) / float64(len(a)+len(b))
}

// matchQuantity finds q among b's quantities: exact (or money within
// rounding: approx), as the same edition counted the other way (edition:
// "12th anniversary" = "12 years of ties"), or only as a number with
// different units (weak).
func matchQuantity(q quantity, bs []quantity) (exact, approx, edition, weak bool) {
	for _, o := range bs {
		switch {
		case q.kind == qMoney && o.kind == qMoney && q.unit == o.unit:
			e, ap := closeValues(q.value, o.value, qMoney)
			exact, approx = exact || e, approx || ap
		case q.kind == qDate && o.kind == qDate:
			exact = exact || q.value == o.value // whatever their tags
		case q.kind == qPercent && o.kind == qPercent:
			exact = exact || math.Abs(q.value-o.value) < 0.051
		case q.kind == qOrdinal && o.kind == qPeriod && o.unit == "years",
			q.kind == qPeriod && q.unit == "years" && o.kind == qOrdinal:
			// "12th anniversary" = "12 years of sister-city ties"
			edition = edition || q.value == o.value
		case q.kind == o.kind && q.unit == o.unit && q.kind != qBare:
			e, _ := closeValues(q.value, o.value, q.kind)
			exact = exact || e
		case q.kind == qBare && o.kind == qCount, q.kind == qCount && o.kind == qBare, q.kind == qBare && o.kind == qBare:
			// A number of things one item does not name: it may be the
			// same count ("1,500 staff" = "1.500 lao động"). Counts of two
			// different things (200 delegates, 200 businesses) are not.
			e, _ := closeValues(q.value, o.value, qCount)
			weak = weak || e
		}
	}
	return
}

func (p *pair) numbers() {
	a, b := p.a, p.b
	total := 0.0
	moneyFound := false
	precise, period := 0, false // precise figures and periods in common
	figures := 0                // percentages, amounts and counts in common
	day := false                // a day of the event in common
	for _, q := range a.distinct {
		exact, approx, edition, weak := matchQuantity(q, b.distinct)
		if exact && (q.kind == qPercent || q.kind == qMoney || q.kind == qCount) {
			figures++
			if q.precise() {
				precise++
			}
		}
		period = period || exact && q.kind == qPeriod
		day = day || exact && q.kind == qDate && eventDay(a.quants, q.value) && eventDay(b.quants, q.value)
		w, kind := 0.0, "number"
		switch {
		case q.kind == qMoney && (exact || approx):
			kind = "amount"
			w = wMoreMoney
			if !moneyFound {
				w = wMoney
			}
			if !exact {
				w /= 2
			}
			moneyFound = true
		case q.kind == qPercent && exact:
			w = wPercent
		case q.kind == qCount && exact:
			w = wCount
			if q.value < 10 {
				w = wSmallCount
			} else {
				p.specific = true // "320 visitors", "150 businesses"
			}
		case (q.kind == qCount || q.kind == qBare) && (exact || weak):
			switch {
			case q.value >= 100:
				w = wNumber
			case q.value >= 10:
				w = wSmallNumber
			}
		case q.kind == qOrdinal && exact:
			w = wOrdinal
		case edition:
			// One weight whichever item says "12th" and which "12 years".
			w = wPeriod
		case q.kind == qPeriod && exact:
			w = wPeriod
		case q.kind == qDate && exact:
			kind, w = "date mentioned", wDate
		}
		if w == 0 {
			continue
		}
		w = min(w, maxNumbers-total)
		if w <= 0 {
			continue
		}
		total += w
		if kind == "amount" {
			p.money += w
		}
		text := ""
		if p.explain {
			text = q.String()
			if approx && !exact {
				text = "≈ " + text
			}
		}
		p.add(kind, text, w)
	}

	p.preciseFigures = precise >= 1 && figures >= 2 && period
	p.eventDay = day

	// The Tet of one year, however each item names it: "Xuân Mậu Thân" =
	// "Xuân Quê hương Hải Phòng 2028" = "Tết Nguyên đán 2028".
	if y, ok := sharedTet(a, b); ok && total < maxNumbers {
		p.add("date mentioned", "Tết "+strconv.Itoa(y), min(wDate, maxNumbers-total))
	}

	// Against: the titles state different figures of one kind. Amounts
	// are compared in a currency both items use: the economy's size in
	// VND and the income per head in USD are amounts of different things.
	if !p.differ(qMoney, a.figures[qMoney], b.figures[qMoney], againstAmounts, "different amounts") {
		p.differ(qMoney, a.money, b.money, againstAmountsBody, "different amounts")
	}
	p.differ(qPercent, a.figures[qPercent], b.figures[qPercent], againstPercents, "different percentages")
	p.differentCounts()

	// Another occurrence of what recurs: another edition (any ordinal of
	// either text), period, year or day of the event. Such items are never
	// one story, and nothing joins their stories (see occurrence).
	p.occurrence(p.differ(qOrdinal, a.figures[qOrdinal], b.figures[qOrdinal], againstOrdinals, "different editions"))
	p.occurrence(p.differ(qPeriod, a.figures[qPeriod], b.figures[qPeriod], againstPeriods, "different periods"))
	if ya, yb := a.figures[qYear], b.figures[qYear]; len(ya) > 0 || len(yb) > 0 {
		// A year one title names against the other's title, or, when its
		// title names none, the years its lead writes in a name ("Trại hè
		// Việt Nam 2026" / "the 2027 Vietnam Summer Camp"; not "up 12%
		// from 2026").
		if len(ya) == 0 {
			ya = a.years
		}
		if len(yb) == 0 {
			yb = b.years
		}
		p.occurrence(p.differ(qYear, ya, yb, againstYears, "different years"))
	}
	p.otherDays = p.differ(qDate, a.dates, b.dates, againstDates, "different dates") || p.differentTimes()
	p.occurrence(p.otherDays)
}

// differentTimes subtracts againstDates when the items name one day of
// their events at different times of it, and no time in common on that
// day: a delegation's working session in the afternoon and its meeting
// with the community that evening ("chiều 9/6" / "tối 9/6").
func (p *pair) differentTimes() bool {
	a, b := p.a, p.b
	if len(a.times) == 0 || len(b.times) == 0 {
		return false
	}
	var agreed []float64 // days both name at one time
	for _, q := range a.times {
		if slices.ContainsFunc(b.times, func(o quantity) bool { return o.unit == q.unit && o.value == q.value }) {
			agreed = append(agreed, q.value)
		}
	}
	for _, qa := range a.times {
		if slices.Contains(agreed, qa.value) {
			continue
		}
		for _, qb := range b.times {
			if qb.value == qa.value {
				text := ""
				if p.explain {
					text = fmt.Sprintf("different times of day (%s / %s)", qa.String(), qb.String())
				}
				p.add("figures", text, againstDates)
				return true
			}
		}
	}
	return false
}

// occurrence vetoes a pair whose items report different occurrences of
// what they are about (the evidence just added, when differs): two
// editions of a fair, two years of a summer camp, two days of one
// delegation's trip, two periods of the statistics.
func (p *pair) occurrence(differs bool) {
	if !differs || p.vetoed {
		return
	}
	p.vetoed = true
	if p.explain {
		p.veto = "they report " + p.ev[len(p.ev)-1].Text
	}
}

// differ subtracts w when both items state figures of kind k (ta, tb) and
// none of either side's is found among the other's figures. Amounts count
// only in a currency the other side has some amount in.
func (p *pair) differ(k qkind, ta, tb []quantity, w float64, what string) bool {
	if len(ta) == 0 || len(tb) == 0 {
		return false
	}
	if k == qMoney && !slices.ContainsFunc(ta, func(q quantity) bool { return hasUnit(tb, q.unit) }) {
		return false // no currency in common
	}
	for _, q := range ta {
		if k == qMoney && !hasUnit(tb, q.unit) {
			continue
		}
		if e, ap, ed, _ := matchQuantity(q, p.b.quants); e || ap || ed || (k == qYear && hasValue(p.b.quants, q)) {
			return false
		}
	}
	for _, q := range tb {
		if k == qMoney && !hasUnit(ta, q.unit) {
			continue
		}
		if e, ap, ed, _ := matchQuantity(q, p.a.quants); e || ap || ed || (k == qYear && hasValue(p.a.quants, q)) {
			return false
		}
	}
	text := ""
	if p.explain {
		if k == qMoney {
			sa := slices.DeleteFunc(slices.Clone(ta), func(q quantity) bool { return !hasUnit(tb, q.unit) })
			tb = slices.DeleteFunc(slices.Clone(tb), func(q quantity) bool { return !hasUnit(ta, q.unit) })
			ta = sa
		}
		text = fmt.Sprintf("%s (%s / %s)", what, quantityList(ta), quantityList(tb))
	}
	p.add("figures", text, w)
	return true
}

// sharedTet finds a year of Tet both items name.
func sharedTet(a, b *doc) (int, bool) {
	for _, q := range a.years {
		if q.unit == yearTet && slices.ContainsFunc(b.years, func(o quantity) bool { return o.unit == yearTet && o.value == q.value }) {
			return int(q.value), true
		}
	}
	return 0, false
}

// hasUnit reports whether some quantity of qs is in unit (an amount in
// that currency).
func hasUnit(qs []quantity, unit string) bool {
	for _, q := range qs {
		if q.unit == unit {
			return true
		}
	}
	return false
}

// eventDay reports whether qs name the day v (month*100 + day) as the
// day of an event, at any time of it: not as the first day of a span or
// the end of what runs until then.
func eventDay(qs []quantity, v float64) bool {
	return slices.ContainsFunc(qs, func(q quantity) bool {
		return q.kind == qDate && q.value == v && (q.unit == "" || q.unit == dateWeekday || strings.HasPrefix(q.unit, dateAt))
	})
}

// sameNumberOfThings reports whether two items name one number, 10 or
// more, of the same things: "46 students" and "46 students", "85
// participants" and "85 trại sinh" (things neither or only one of them
// names), but not "300 members" and "300 kiều bào", counts of different
// things, even when the second item names 300 of something else too.
func sameNumberOfThings(a, b []quantity) bool {
	for _, q := range a {
		if (q.kind != qCount && q.kind != qBare) || q.value < 10 {
			continue
		}
		countA, bareA := thingsCounted(a, q.value)
		countB, bareB := thingsCounted(b, q.value)
		switch {
		case countA && countB:
			if unitCountedByBoth(a, b, q.value) {
				return true
			}
		case countA:
			if bareB {
				return true
			}
		case countB:
			if bareA {
				return true
			}
		case bareA && bareB:
			return true
		}
	}
	return false
}

// thingsCounted reports whether qs count v things of some unit, and
// whether they name v of things of no known unit.
func thingsCounted(qs []quantity, v float64) (count, bare bool) {
	for _, q := range qs {
		if q.value == v {
			count = count || q.kind == qCount
			bare = bare || q.kind == qBare
		}
	}
	return count, bare
}

// unitCountedByBoth reports whether a and b count v things of one unit.
func unitCountedByBoth(a, b []quantity, v float64) bool {
	for _, qa := range a {
		if qa.kind == qCount && qa.value == v && slices.ContainsFunc(b, func(qb quantity) bool {
			return qb.kind == qCount && qb.value == v && qb.unit == qa.unit
		}) {
			return true
		}
	}
	return false
}

func hasValue(qs []quantity, q quantity) bool {
	for _, o := range qs {
		if o.kind == q.kind && o.value == q.value {
			return true
		}
	}
	return false
}

func quantityList(qs []quantity) string {
	var s []string
	for _, q := range qs {
		if t := q.String(); !slices.Contains(s, t) {
			s = append(s, t)
		}
	}
	return strings.Join(s, ", ")
}

func (p *pair) entities() {
	a, b := p.a, p.b
	var common, countries, topics float64
	for i, j := 0, 0; i < len(a.ents) && j < len(b.ents); {
		ea, eb := a.ents[i], b.ents[j]
		switch {
		case ea.entry < eb.entry:
			i++
			continue
		case ea.entry > eb.entry:
			j++
			continue
		}
		i++
		j++
		e := p.d.gaz.entries[ea.entry]
		w := e.weight
		switch e.kind {
		case kindCommon:
			w = min(w, maxCommon-common)
			common += w
		case kindCountry:
			w = min(w, maxCountries-countries)
			countries += w
		case kindTopic, kindCommunity, kindSector:
			if w == kindWeights[e.kind] { // generic topics count together; staff-weighted ones alone
				w = min(w, maxTopics-topics)
				topics += w
			}
		}
		if w <= 0 {
			continue
		}
		text := ""
		if p.explain {
			ta, tb := ea.text, eb.text
			text = ta
			if !strings.EqualFold(ta, tb) {
				text = ta + " = " + tb
			}
		}
		p.add(e.kind.String(), text, w)
	}
	if !p.entityConflict(1, againstPlace, "different places") {
		p.placesApart()
	}
	p.entityConflict(3, againstTopic, "different topics")
	p.entityConflict(4, againstSector, "different products")
	// A title that names no action stands for its lead's; two leads that
	// name different actions say little (a lead mentions several things),
	// so at least one title must name what happened. Sides of one event
	// (a visit, its reception, a signing at it) are one event only when
	// the items do not report different days or times of it; when they
	// do, two titles naming different actions are different events even
	// if one lead mentions the other's ("hội kiến ... nhất trí" against
	// "trao 9 thỏa thuận hợp tác" the next day).
	switch {
	case p.otherDays && p.a.titleAction && p.b.titleAction:
		if ta, tb := p.a.named[2][1], p.b.named[2][1]; !sharesEntry(ta, tb) {
			p.entityAgainst(ta, tb, againstAction, kindAction, "different events")
			p.titles = true
		}
	case (p.a.titleAction || p.b.titleAction) && (p.otherDays || !p.sidesOfOneEvent()):
		if !p.entityConflict(2, againstAction, "different events") && p.a.titleAction && p.b.titleAction {
			p.titleActionsDiffer()
		}
	}
}

// sharesEntry reports whether two lists of hits name one entity.
func sharesEntry(a, b []entHit) bool {
	for _, h := range a {
		for _, g := range b {
			if h.entry == g.entry {
				return true
			}
		}
	}
	return false
}

// titleActionsDiffer subtracts againstTitleActions when both titles name
// what happened and share none of it, though one item's lead names the
// other title's action too (the licence a groundbreaking report recalls).
func (p *pair) titleActionsDiffer() {
	ta, tb := p.a.named[2][1], p.b.named[2][1]
	for _, h := range ta {
		for _, g := range tb {
			if h.entry == g.entry || p.d.sidesOf(h.entry, g.entry) {
				return
			}
		}
	}
	p.entityAgainst(ta, tb, againstTitleActions, kindAction, "titles name different events")
	p.titles = true
}

// sidesOfOneEvent reports whether one item's title names an action and the
// other item names its other side (Detector.oneEvent).
func (p *pair) sidesOfOneEvent() bool {
	for _, x := range [2][2]*doc{{p.a, p.b}, {p.b, p.a}} {
		for _, h := range x[0].named[2][1] {
			if x[0].titleAction && p.d.otherSide(h.entry, x[1]) {
				return true
			}
		}
	}
	return false
}

// sidesOf reports whether actions e and f are two sides of one event.
func (d *Detector) sidesOf(e, f int32) bool {
	for _, ab := range d.oneEvent {
		if ab == [2]int32{e, f} || ab == [2]int32{f, e} {
			return true
		}
	}
	return false
}

// otherSide reports whether x names the other side of action e (a visit,
// its reception).
func (d *Detector) otherSide(e int32, x *doc) bool {
	for _, ab := range d.oneEvent {
		if ab[0] == e && x.has(ab[1]) || ab[1] == e && x.has(ab[0]) {
			return true
		}
	}
	return false
}

// partners counts against a pair whose items say who acts and disagree:
// in one class of partners (countries, communities, companies and foreign
// names), both items name some (in the title, or in the lead when the
// title names none; at least one title must), and neither names any of
// the other's: another investor, donor or delegation. An amount they
// share is then another's, not evidence: it is taken back.
func (p *pair) partners() {
	a, b := p.a, p.b
	for c := range a.partners {
		pa, pb := &a.partners[c], &b.partners[c]
		if !(pa.title || pb.title) || pa.empty() || pb.empty() || a.namesPartnerOf(b, c) || b.namesPartnerOf(a, c) {
			continue
		}
		p.partnersDiffer(a.partnerList(c), b.partnerList(c), pa.title && pb.title)
		return
	}
	// An amount in common: who does it belong to?
	if p.money > 0 {
		p.amountOwners()
	}
}

// amountOwners: the items share an amount. When each names who it belongs
// to in a class the other names none of (a company in one, a country in
// the other; at least one in a title) and neither names anyone the other
// does, the amount is another's. When only one names a company or
// foreign name and the other names none at all, the amount may be
// another company's: it counts half.
func (p *pair) amountOwners() {
	a, b := p.a, p.b
	var titledA, titledB, overlap, onlyA, onlyB bool
	for c := range a.partners {
		pa, pb := &a.partners[c], &b.partners[c]
		titledA = titledA || pa.title && !pa.empty()
		titledB = titledB || pb.title && !pb.empty()
		overlap = overlap || a.namesPartnerOf(b, c) || b.namesPartnerOf(a, c)
		onlyA = onlyA || pb.empty() && !pa.empty()
		onlyB = onlyB || pa.empty() && !pb.empty()
	}
	if (titledA || titledB) && !overlap && onlyA && onlyB {
		var la, lb []string
		for c := range a.partners {
			if s := a.partnerList(c); s != "" {
				la = append(la, s)
			}
			if s := b.partnerList(c); s != "" {
				lb = append(lb, s)
			}
		}
		p.partnersDiffer(strings.Join(la, ", "), strings.Join(lb, ", "), titledA && titledB)
		return
	}
	if a.partners[partnerName].empty() != b.partners[partnerName].empty() &&
		!a.namesPartnerOf(b, partnerName) && !b.namesPartnerOf(a, partnerName) {
		text := ""
		if p.explain {
			text = "only one says whose the amount is"
		}
		p.add("amount", text, -p.money/2)
	}
}

// partnersDiffer counts the partners la and lb (as written) against the
// pair, and the amount in common with them; titles: both titles name
// theirs.
func (p *pair) partnersDiffer(la, lb string, titles bool) {
	text := ""
	if p.explain {
		text = fmt.Sprintf("different partners (%s / %s)", la, lb)
	}
	p.add("partner", text, againstPartner)
	p.titles = p.titles || titles
	if p.money > 0 {
		if p.explain {
			text = "the amount in common is another partner's"
		}
		p.add("amount", text, -p.money)
	}
}

// entityConflict subtracts w when both titles name entities of kind k and
// neither title's are found anywhere in the other item (for actions, a
// title that names none stands for its lead's). The check is made twice:
// on the distinctive entities only (so the home city both name does not
// hide "Quảng Đông" against "Quảng Tây"), then on all of them (so "Hải
// Phòng" against "Quảng Ninh" still counts).
func (p *pair) entityConflict(c int, w float64, what string) bool {
	for _, level := range [2]int{0, 1} {
		ta, tb := p.a.named[c][level], p.b.named[c][level]
		if titlesDiffer(p.a, p.b, ta, tb) {
			p.entityAgainst(ta, tb, w, conflictKinds[c], what)
			if conflictKinds[c] == kindAction && p.a.titleAction && p.b.titleAction {
				p.titles = true
			}
			return true
		}
	}
	return false
}

func titlesDiffer(a, b *doc, ta, tb []entHit) bool {
	if len(ta) == 0 || len(tb) == 0 {
		return false
	}
	for _, h := range ta {
		if b.has(h.entry) {
			return false
		}
	}
	for _, h := range tb {
		if a.has(h.entry) {
			return false
		}
	}
	return true
}

func (p *pair) entityAgainst(ta, tb []entHit, w float64, k kind, what string) {
	text := ""
	if p.explain {
		list := func(hs []entHit) string {
			var s []string
			for _, h := range hs {
				s = append(s, h.text)
			}
			return strings.Join(s, ", ")
		}
		text = fmt.Sprintf("%s (%s / %s)", what, list(ta), list(tb))
	}
	p.add(k.String(), text, w)
}

func contains(sorted []uint64, k uint64) bool {
	_, ok := slices.BinarySearch(sorted, k)
	return ok
}

// names finds the proper names of a that b also has: spans of a's runs
// joined by bigrams b has, or single words that stand alone.
func (p *pair) names() {
	a, b := p.a, p.b
	if len(a.runs) == 0 || (len(b.singles) == 0 && len(b.bigrams) == 0 && len(b.maybes) == 0) {
		return
	}
	total := 0.0
	var seen []uint64
	for ri := range a.runs {
		r := &a.runs[ri]
		n := len(r.single)
		for i := 0; i < n; {
			j := i
			for j+1 < n && r.pair[j] != 0 && contains(b.bigrams, r.pair[j]) {
				j++
			}
			span := j - i + 1
			if span == 1 && (r.single[i] == 0 || !contains(b.singles, r.single[i]) && (r.maybe || !contains(b.maybes, r.single[i]))) {
				i++
				continue
			}
			w := wName
			switch {
			case span >= 3:
				w = wLongName
			case span == 1 && r.short&(1<<i) != 0:
				w = wShortAcronym
			}
			key := r.single[i] ^ uint64(span)
			for k := i; k < j; k++ {
				key = key*31 + r.pair[k]
			}
			if !slices.Contains(seen, key) {
				seen = append(seen, key)
				w = min(w, maxNames-total)
				if w > 0 {
					total += w
					text := ""
					if p.explain {
						text = r.span(i, j)
					}
					p.add("name", text, w)
				}
			}
			i = j + 1
		}
	}
}

// explain writes a decision in one line.
func explain(d Decision) string {
	var b strings.Builder
	if d.Same {
		b.WriteString("same story")
	} else {
		b.WriteString("different stories")
	}
	if d.Staff != "" {
		if d.Staff == "same" {
			b.WriteString(": confirmed by staff")
		} else {
			b.WriteString(": kept apart by staff")
		}
		return b.String()
	}
	if d.Veto != "" {
		b.WriteString(": " + d.Veto)
	}
	var shared []string
	for _, e := range d.For {
		if e.Kind != "date" && e.Text != "" {
			shared = append(shared, e.Text)
		}
	}
	sep := ": "
	if d.Veto != "" {
		sep = "; "
	}
	if len(shared) > 0 {
		b.WriteString(sep + "shared " + strings.Join(shared, ", "))
	} else {
		b.WriteString(sep + "nothing shared")
	}
	var against []string
	for _, e := range d.Against {
		if e.Kind != "date" && e.Text != "" {
			against = append(against, e.Text)
		}
	}
	if len(against) > 0 {
		b.WriteString("; against: " + strings.Join(against, ", "))
	}
	switch {
	case d.DaysApart < 0:
		b.WriteString("; date unknown")
	case d.DaysApart == 1:
		b.WriteString("; 1 day apart")
	default:
		fmt.Fprintf(&b, "; %d days apart", d.DaysApart)
	}
	cmp := "<"
	if d.Score >= d.Threshold {
		cmp = "≥"
	}
	fmt.Fprintf(&b, "; score %s %s %s", num(d.Score), cmp, num(d.Threshold))
	return b.String()
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// titlesAgree counts for a pair with nothing against it whose titles
// both say what happened and who acts, and agree on both: each title's action is named by the
// other item, and each names a partner of one class the other names
// ("Korean culture festival opens" / "Khai mạc Lễ hội Văn hóa Hàn Quốc").
func (p *pair) titlesAgree() {
	a, b := p.a, p.b
	if !a.titleAction || !b.titleAction || !namesTitleAction(a, b) || !namesTitleAction(b, a) {
		return
	}
	who := ""
	for c := range a.partners {
		pa, pb := &a.partners[c], &b.partners[c]
		if pa.title && pb.title && !pa.empty() && !pb.empty() && a.namesPartnerOf(b, c) && b.namesPartnerOf(a, c) {
			who = a.partnerList(c)
			break
		}
	}
	if who == "" {
		return
	}
	text := ""
	if p.explain {
		text = fmt.Sprintf("both titles: %s, %s", a.named[2][1][0].text, who)
	}
	p.add("titles", text, wTitlesAgree)
}

// namesTitleAction reports whether o names an action x's title names.
func namesTitleAction(x, o *doc) bool {
	for _, h := range x.named[2][1] {
		if o.has(h.entry) {
			return true
		}
	}
	return false
}

// terms counts the gazetteer terms two items share ("câu lạc bộ" =
// "club"), double when both titles have them: for items in different
// languages what similar wording counts in one; in one language, where
// the wording counts already, half as much. (Like entities, a merge of two
// sorted lists written out: it runs for every pair compared.)
func (p *pair) terms(sameLang bool) {
	a, b := p.a, p.b
	total := 0.0
	limit := float64(maxTerms)
	if sameLang {
		limit = maxTerms / 2
	}
	for i, j := 0, 0; i < len(a.terms) && j < len(b.terms); {
		ta, tb := a.terms[i], b.terms[j]
		switch {
		case ta.entry < tb.entry:
			i++
			continue
		case ta.entry > tb.entry:
			j++
			continue
		}
		i++
		j++
		e := p.d.gaz.entries[ta.entry]
		w := e.weight
		if ta.title && tb.title && w > kindWeights[kindCommon] {
			w *= 2
		}
		w = min(w, limit-total)
		if w <= 0 {
			break
		}
		total += w
		text := ""
		if p.explain {
			text = e.key
		}
		p.add(kindTerm.String(), text, w)
	}
}

// differentCounts subtracts againstCounts when both titles count the same
// kind of thing and no count of one is within a tenth of one of the
// other's ("150 lao động" / "300 lao động"; "hơn 300" = "nearly 300").
func (p *pair) differentCounts() {
	for _, qa := range p.a.figures[qCount] {
		var others []quantity
		for _, qb := range p.b.figures[qCount] {
			if qb.unit == qa.unit {
				others = append(others, qb)
			}
		}
		if len(others) == 0 {
			continue
		}
		near := func(x quantity, in []quantity) bool {
			for _, o := range in {
				if o.kind == qCount && o.unit == x.unit && math.Abs(o.value-x.value) <= 0.1*math.Max(o.value, x.value) {
					return true
				}
			}
			return false
		}
		if near(qa, p.b.quants) || slices.ContainsFunc(others, func(o quantity) bool { return near(o, p.a.quants) }) {
			continue
		}
		text := ""
		if p.explain {
			text = fmt.Sprintf("different counts (%s / %s)", qa.String(), quantityList(others))
		}
		p.add("figures", text, againstCounts)
		return
	}
}

// placesApart subtracts againstPlacesApart when each title names a place
// the other item never names, though they share another (two cities of
// one province: "Bắc Hải (Quảng Tây)" / "Fangchenggang").
func (p *pair) placesApart() {
	only := func(x, o *doc) []entHit {
		var out []entHit
		for _, h := range x.named[1][0] {
			if !o.has(h.entry) {
				out = append(out, h)
			}
		}
		return out
	}
	ta, tb := only(p.a, p.b), only(p.b, p.a)
	if len(ta) > 0 && len(tb) > 0 {
		p.entityAgainst(ta, tb, againstPlacesApart, kindPlace, "different places")
	}
}
