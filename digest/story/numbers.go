package story

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tags of dates (quantity.unit): the day of the event has none.
const (
	dateUntil   = "until"   // the end of what runs until then
	dateFrom    = "from"    // the first day of what runs for days ("từ ngày 12 đến 16/5")
	dateWeekday = "weekday" // "on Thursday", dated from the publication day
	// dateAt and a time of day ("at afternoon"): the day of the event
	// again, when the text says at what time of it ("chiều 17/8", "the
	// afternoon of July 13")
	dateAt = "at "
)

// yearNamed tags a year a lead writes as part of a name ("the 2027
// Vietnam Summer Camp"), see namedYears.
const yearNamed = "name"

// timesOfDay before a date (or "ngày", "nay" or "of" and a date) say at
// what time of that day the event happened, by language. Evening and
// night are one. ASCII-folded.
var timesOfDay = map[string]map[string]string{
	"vi": {"sang": "morning", "trua": "noon", "chieu": "afternoon", "toi": "evening", "dem": "evening"},
	"en": {"morning": "morning", "noon": "noon", "afternoon": "afternoon", "evening": "evening", "night": "evening"},
}

// dayWords come before a day of the month: "ngày 14-3", "sáng 14-3".
// ASCII-folded.
var dayWords = wordSet(`ngay sang chieu toi trua dem hom`)

// untilWords before a date make it the end of a period. ASCII-folded.
var untilWords = wordSet(`until till through den het`)

// qkind is what a number in a text is.
type qkind uint8

const (
	qMoney   qkind = iota + 1 // an amount of money: unit is the currency
	qPercent                  // a percentage
	qCount                    // a number of something: unit is the gazetteer's unit key
	qBare                     // a number alone (or of something the gazetteer does not know)
	qOrdinal                  // "lần thứ 3", "3rd", "third"
	qPeriod                   // "9 tháng", "nine months": unit months, years, ...
	qYear                     // "2026", "năm 2027"
	qDate                     // "20/10", "October 20": value is month*100 + day
)

// quantity is one number found in an item, normalised across languages:
// "1,4 tỷ USD", "1.4 billion USD", "US$1.4 bn" and "$1.4 bln" are all
// {qMoney, "USD", 1.4e9}.
type quantity struct {
	kind  qkind
	unit  string
	value float64
	title bool // found in the title
}

// lexeme is a number, a word or a symbol of folded text.
type lexeme struct {
	text  string
	num   bool
	word  bool
	glued bool // no space before it
}

func lex(s string) []lexeme {
	var out []lexeme
	glued := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r >= '0' && r <= '9':
			j := i
			for j < len(s) {
				if s[j] >= '0' && s[j] <= '9' {
					j++
				} else if (s[j] == '.' || s[j] == ',') && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9' {
					j++
				} else {
					break
				}
			}
			out = append(out, lexeme{text: s[i:j], num: true, glued: glued})
			i, glued = j, true
		case unicode.IsLetter(r):
			j := i
			for j < len(s) {
				r2, n := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r2) {
					break
				}
				j += n
			}
			out = append(out, lexeme{text: s[i:j], word: true, glued: glued})
			i, glued = j, true
		case unicode.IsSpace(r):
			i += size
			glued = false
		default:
			out = append(out, lexeme{text: s[i : i+size], glued: glued})
			i, glued = i+size, true
		}
	}
	return out
}

// parseNumber reads digits with separators in the conventions of lang:
// Vietnamese writes 1.234,5 (dot for thousands, comma for decimals),
// English 1,234.5. A separator followed by other than three digits is a
// decimal point whatever the language ("1.4" in Vietnamese text, "1,4" in
// English).
func parseNumber(s, lang string) (float64, bool) {
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	thousandsGroups := func(sep string) bool {
		parts := strings.Split(s, sep)
		for _, p := range parts[1:] {
			if len(p) != 3 {
				return false
			}
		}
		return true
	}
	var clean string
	switch {
	case dots > 0 && commas > 0:
		dec := "."
		if strings.LastIndexByte(s, ',') > strings.LastIndexByte(s, '.') {
			dec = ","
		}
		grp := map[string]string{".": ",", ",": "."}[dec]
		clean = strings.ReplaceAll(s, grp, "")
		clean = strings.Replace(clean, dec, ".", 1)
	case commas > 0:
		switch {
		case commas > 1 || (lang != "vi" && thousandsGroups(",")):
			clean = strings.ReplaceAll(s, ",", "")
		default:
			clean = strings.Replace(s, ",", ".", 1)
		}
	case dots > 0:
		switch {
		case dots > 1 || (lang == "vi" && thousandsGroups(".")):
			clean = strings.ReplaceAll(s, ".", "")
		default:
			clean = s
		}
	default:
		clean = s
	}
	v, err := strconv.ParseFloat(clean, 64)
	return v, err == nil && !math.IsInf(v, 0)
}

var multipliers = map[string]float64{
	"nghin": 1e3, "ngan": 1e3, "trieu": 1e6, "ty": 1e9, "ti": 1e9,
	"thousand": 1e3, "million": 1e6, "mln": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "bln": 1e9,
	"trillion": 1e12, "tn": 1e12, "trln": 1e12,
}

// gluedMultipliers follow a number without a space only with money ("$750m").
var gluedMultipliers = map[string]float64{"k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9}

// currencies: word sequences after a number, longest first.
var currencies = []struct {
	words []string
	code  string
}{
	{[]string{"do", "la", "my"}, "USD"}, {[]string{"nhan", "dan", "te"}, "CNY"},
	{[]string{"us", "dollars"}, "USD"}, {[]string{"do", "la"}, "USD"},
	{[]string{"usd"}, "USD"}, {[]string{"dollars"}, "USD"}, {[]string{"dollar"}, "USD"},
	{[]string{"vnd"}, "VND"}, {[]string{"dong"}, "VND"},
	{[]string{"eur"}, "EUR"}, {[]string{"euro"}, "EUR"}, {[]string{"euros"}, "EUR"},
	{[]string{"yen"}, "JPY"}, {[]string{"yuan"}, "CNY"}, {[]string{"won"}, "KRW"},
}

// prefixCurrencies come right before the number ("USD 1.4", "VND6.4").
var prefixCurrencies = map[string]string{"usd": "USD", "vnd": "VND", "eur": "EUR", "$": "USD", "€": "EUR", "¥": "JPY"}

var periods = map[string]string{
	"thang": "months", "quy": "quarters", "tuan": "weeks", "nam": "years", "ngay": "days",
	"month": "months", "months": "months", "quarter": "quarters", "quarters": "quarters",
	"week": "weeks", "weeks": "weeks", "year": "years", "years": "years", "day": "days", "days": "days",
}

var monthNames = map[string]int{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
	"may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
	"september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
	"december": 12, "dec": 12,
}

var englishNumbers = map[string]float64{
	"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
	"sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
	"forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}

var englishOrdinals = map[string]float64{
	"third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
	"tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
	"sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
}

// vietnameseOrdinals follow "lần thứ" ("lần thứ ba").
var vietnameseOrdinals = map[string]float64{
	"hai": 2, "ba": 3, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9, "muoi": 10,
}

// yearPartOrdinals before "half" or "quarter" (English).
var yearPartOrdinals = map[string]float64{"first": 1, "second": 2, "third": 3, "fourth": 4}

var romanNumerals = map[string]float64{
	"ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10,
	"xi": 11, "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17, "xviii": 18,
	"xix": 19, "xx": 20,
}

// unitTable maps the folded words of a unit ("doanh nghiep", "hectares")
// to its key.
type unitTable struct {
	byWords  map[string]string
	maxWords int
}

func (u *unitTable) add(folded []string, key string) {
	if u.byWords == nil {
		u.byWords = map[string]string{}
	}
	k := strings.Join(folded, " ")
	if _, ok := u.byWords[k]; !ok {
		u.byWords[k] = key
	}
	u.maxWords = max(u.maxWords, len(folded))
}

// at returns the unit whose words start words, the longest.
func (u *unitTable) at(words []string) (string, bool) {
	for n := min(u.maxWords, len(words)); n > 0; n-- {
		if key, ok := u.byWords[strings.Join(words[:n], " ")]; ok {
			return key, true
		}
	}
	return "", false
}

// isYear reports whether v can be a year the news names.
func isYear(v float64) bool { return v >= 1900 && v <= 2100 && v == math.Trunc(v) }

// scanQuantities finds the numbers of folded text (see theme.Fold).
func scanQuantities(folded, lang string, units *unitTable, title bool, out []quantity) []quantity {
	lx := lex(folded)
	add := func(k qkind, unit string, v float64) {
		out = append(out, quantity{kind: k, unit: unit, value: v, title: title})
	}
	word := func(i int) string {
		if i >= 0 && i < len(lx) && lx[i].word {
			return lx[i].text
		}
		return ""
	}
	// following returns the words after lexeme i (hyphens skipped, stops at
	// any other symbol or number), at most n.
	following := func(i, n int) []string {
		var w []string
		for j := i + 1; j < len(lx) && len(w) < n; j++ {
			switch {
			case lx[j].word:
				w = append(w, lx[j].text)
			case lx[j].text == "-" || lx[j].text == "\u2010" || lx[j].text == "\u2011":
			default:
				return w
			}
		}
		return w
	}
	// dateTag says what kind of date starts at lexeme i: "until" when an
	// end word comes just before it ("until December 11", "đến hết ngày
	// 11/12"), else "" (the day of the event).
	dateTag := func(i int) string {
		for j := i - 1; j >= max(0, i-3); j-- {
			if !lx[j].word {
				break
			}
			if untilWords[lx[j].text] {
				return dateUntil
			}
		}
		return ""
	}
	// addDate adds a date that starts at lexeme i, and, for the day of the
	// event, the time of day the words before it name.
	addDate := func(i int, tag string, v float64) {
		add(qDate, tag, v)
		if tag != "" {
			return
		}
		w := word(i - 1)
		if w == "ngay" || w == "nay" || w == "of" {
			w = word(i - 2)
		}
		if at, ok := timesOfDay[lang][w]; ok {
			add(qDate, dateAt+at, v)
		}
	}
	// rangeEnd reads "-27" after lexeme i: the last day of a range.
	rangeEnd := func(i int) (float64, bool) {
		if i+2 < len(lx) && lx[i+1].text == "-" && lx[i+1].glued && lx[i+2].num && lx[i+2].glued {
			d, ok := parseNumber(lx[i+2].text, lang)
			return d, ok && d <= 31 && d == math.Trunc(d)
		}
		return 0, false
	}
	// rangeTo reads "to 20" after lexeme i (a day of a month named
	// before: "July 10 to 20"), not when what follows makes the number
	// another quantity ("to 20 percent", "to 20 August").
	rangeTo := func(i int) (float64, bool) {
		if word(i+1) != "to" || i+2 >= len(lx) || !lx[i+2].num || lx[i+2].glued || i+3 < len(lx) && lx[i+3].glued {
			return 0, false
		}
		if w := following(i+2, 2); len(w) > 0 {
			_, month := monthNames[w[0]]
			_, mult := multipliers[w[0]]
			_, unit := units.at(w)
			if month || mult || unit || isPeriod(w[0]) || w[0] == "percent" || w[0] == "per" || w[0] == "pct" {
				return 0, false
			}
		}
		d, ok := parseNumber(lx[i+2].text, lang)
		return d, ok && d <= 31 && d == math.Trunc(d)
	}
	// rangeFrom reads "đến (ngày) 16/5" after lexeme i, the first day of
	// a range written with words ("từ ngày 12 đến 16/5"): its month.
	rangeFrom := func(i int) (float64, bool) {
		j := i + 1
		if word(j) != "den" {
			return 0, false
		}
		if j++; word(j) == "ngay" {
			j++
		}
		if j+2 >= len(lx) || !lx[j].num || lx[j+1].text != "/" || !lx[j+1].glued || !lx[j+2].num || !lx[j+2].glued {
			return 0, false
		}
		m, ok := parseNumber(lx[j+2].text, lang)
		return m, ok && m >= 1 && m <= 12 && m == math.Trunc(m)
	}
	// addPart adds the n-th half ("H") or quarter ("Q") of a year: the
	// first ones are the periods the statistics count from January ("H1"
	// = "6 tháng đầu năm" = six months), the others parts of their own.
	addPart := func(part string, n float64) {
		switch {
		case n == 1 && part == "H":
			add(qPeriod, "months", 6)
		case n == 1 && part == "Q":
			add(qPeriod, "months", 3)
		default:
			add(qPeriod, part, n)
		}
	}
	for i := 0; i < len(lx); i++ {
		l := lx[i]
		if l.word {
			// Parts of the year: "first half", "third quarter", "nửa đầu
			// năm", "quý III".
			if n, ok := yearPartOrdinals[l.text]; ok && lang == "en" && (word(i+1) == "half" || word(i+1) == "quarter") && n <= 4 {
				addPart(strings.ToUpper(word(i + 1)[:1]), n)
				i++
				continue
			}
			if l.text == "nua" && lang == "vi" && word(i+2) == "nam" && (word(i+1) == "dau" || word(i+1) == "cuoi") {
				addPart("H", map[string]float64{"dau": 1, "cuoi": 2}[word(i+1)])
				i += 2
				continue
			}
			if n, ok := romanNumerals[word(i+1)]; l.text == "quy" && lang == "vi" && (ok && n <= 4 || word(i+1) == "i") {
				if word(i+1) == "i" {
					n = 1
				}
				addPart("Q", n)
				i++
				continue
			}
			// Number and ordinal words of English; "lần thứ ba"; "October 20".
			if v, ok := englishOrdinals[l.text]; ok && lang == "en" {
				add(qOrdinal, "", v)
				continue
			}
			n := i + 1 // the day's lexeme
			if n+1 < len(lx) && lx[n].text == "." && lx[n].glued {
				n++ // "Oct. 15"
			}
			if m, ok := monthNames[l.text]; ok && n < len(lx) && lx[n].num && !lx[n].glued {
				if d, ok := parseNumber(lx[n].text, lang); ok && d >= 1 && d <= 31 && d == math.Trunc(d) {
					tag, start := dateTag(i), i
					addDate(start, tag, float64(m*100)+d)
					i = n
					if d2, ok := rangeEnd(i); ok && d2 > d { // "December 26-27"
						addDate(start, tag, float64(m*100)+d2)
						i += 2
					} else if d2, ok := rangeTo(i); ok && d2 > d { // "July 10 to 20"
						add(qDate, dateUntil, float64(m*100)+d2)
						i += 2
					}
					continue
				}
			}
			if v, ok := englishNumbers[l.text]; ok && lang == "en" {
				j := i
				if j+2 < len(lx) && lx[j+1].text == "-" && lx[j+2].word {
					if u, ok := englishNumbers[lx[j+2].text]; ok && u < 10 {
						v += u
						j += 2
					}
				}
				w := following(j, 4)
				if len(w) > 0 {
					if p, ok := periods[w[0]]; ok {
						add(qPeriod, p, v)
						i = j
						continue
					}
				}
				for skip := 0; skip < len(w) && skip <= 2; skip++ {
					if u, ok := units.at(w[skip:]); ok {
						add(qCount, u, v)
						break
					}
				}
				i = j
				continue
			}
			if l.text == "thu" && word(i-1) == "lan" {
				if v, ok := vietnameseOrdinals[word(i+1)]; ok {
					add(qOrdinal, "", v)
					i++
				} else if v, ok := romanNumerals[word(i+1)]; ok {
					add(qOrdinal, "", v)
					i++
				}
			}
			continue
		}
		if !l.num {
			continue
		}
		// "H1", "Q3": a half or a quarter of the year; "quý 3".
		codeGoesOn := i+1 < len(lx) && lx[i+1].glued && (lx[i+1].word || lx[i+1].num) // "H1N1"
		if v, ok := parseNumber(l.text, lang); ok && i > 0 && v == math.Trunc(v) && v >= 1 &&
			(l.glued && !lx[i-1].glued && !codeGoesOn && (lx[i-1].text == "h" && v <= 2 || lx[i-1].text == "q" && v <= 4) ||
				!l.glued && lang == "vi" && lx[i-1].text == "quy" && v <= 4) {
			addPart(map[string]string{"h": "H", "q": "Q", "quy": "Q"}[lx[i-1].text], v)
			continue
		}
		// A number glued to a word is part of a name or code ("post1071203",
		// "G20"), unless the word is a currency ("VND6.4", "USD1.2").
		currency := ""
		if i > 0 && l.glued && lx[i-1].word {
			c, ok := prefixCurrencies[lx[i-1].text]
			if !ok {
				continue
			}
			currency = c
		} else if i > 0 {
			if c, ok := prefixCurrencies[lx[i-1].text]; ok {
				currency = c
			}
		}
		v, ok := parseNumber(l.text, lang)
		if !ok {
			continue
		}
		// "ngày 14-3", "sáng 14-3-2027": the hyphenated dates of the press.
		if lang == "vi" && dayWords[word(i-1)] && i+2 < len(lx) && lx[i+1].text == "-" && lx[i+1].glued && lx[i+2].num && lx[i+2].glued &&
			!(i+3 < len(lx) && lx[i+3].text == "/") {
			if m, ok := parseNumber(lx[i+2].text, lang); ok && m >= 1 && m <= 12 && m == math.Trunc(m) && v >= 1 && v <= 31 && v == math.Trunc(v) {
				addDate(i, dateTag(i-1), m*100+v)
				i += 2
				if i+2 < len(lx) && lx[i+1].text == "-" && lx[i+1].glued && lx[i+2].num && lx[i+2].glued {
					i += 2 // the year
				}
				continue
			}
		}
		// "từ ngày 12 đến 16/5": the first day of a span written with
		// words (the last is read as its end). Another item's event on a
		// day of the span is not on another day: it is no day of the
		// event for that, only a date mentioned.
		if lang == "vi" && (word(i-1) == "tu" || word(i-1) == "ngay" && word(i-2) == "tu") && v >= 1 && v <= 31 && v == math.Trunc(v) {
			if m, ok := rangeFrom(i); ok {
				add(qDate, dateFrom, m*100+v)
				continue
			}
		}
		// The first day of a range of days: "26-27/12" (read with its last).
		if i+4 < len(lx) && lx[i+1].text == "-" && lx[i+1].glued && lx[i+2].num && lx[i+2].glued &&
			lx[i+3].text == "/" && lx[i+3].glued && lx[i+4].num && lx[i+4].glued {
			continue
		}
		// Dates: 20/10, 24/1/2027.
		if i+2 < len(lx) && lx[i+1].text == "/" && lx[i+1].glued && lx[i+2].num && lx[i+2].glued {
			m, ok2 := parseNumber(lx[i+2].text, lang)
			j := i + 2
			if j+2 < len(lx) && lx[j+1].text == "/" && lx[j+1].glued && lx[j+2].num && lx[j+2].glued {
				j += 2 // the year
			}
			roundTheClock := v == 24 && m == 7 && j == i+2 // "24/7"
			if ok2 && !roundTheClock && v >= 1 && v <= 31 && m >= 1 && m <= 12 && v == math.Trunc(v) && m == math.Trunc(m) {
				start := i
				if i >= 2 && lx[i-1].text == "-" && lx[i-1].glued && lx[i-2].num {
					// "26-27/12": the first day too
					if d1, ok := parseNumber(lx[i-2].text, lang); ok && d1 >= 1 && d1 < v && d1 == math.Trunc(d1) {
						start = i - 2
						addDate(start, dateTag(start), m*100+d1)
					}
				}
				addDate(start, dateTag(start), m*100+v)
			}
			i = j
			continue
		}
		if i > 0 && lx[i-1].text == "/" && lx[i-1].glued {
			continue // the rest of "12-KL/TW 3/4" and the like
		}
		// A suffix glued to the number: "15th", "750m", "35ha".
		suffix := ""
		if i+1 < len(lx) && lx[i+1].word && lx[i+1].glued {
			suffix = lx[i+1].text
		}
		switch suffix {
		case "st", "nd", "rd", "th":
			add(qOrdinal, "", v)
			i++
			continue
		}
		if i+1 < len(lx) && lx[i+1].text == "%" {
			add(qPercent, "", v)
			i++
			continue
		}
		w := following(i, 8)
		if len(w) >= 2 && ((w[0] == "phan" && w[1] == "tram") || (w[0] == "per" && w[1] == "cent")) ||
			len(w) >= 1 && (w[0] == "percent" || w[0] == "pct") {
			add(qPercent, "", v)
			continue
		}
		// Ordinals and dates written with words before the number.
		if prev := word(i - 1); prev == "thu" || prev == "khoa" {
			add(qOrdinal, "", v)
			continue
		}
		if m, ok := monthNames[word(i+1)]; ok && !lx[i+1].glued && v >= 1 && v <= 31 && v == math.Trunc(v) {
			addDate(i, dateTag(i), float64(m*100)+v) // "15 October"
			i++
			continue
		}
		if word(i-1) == "thang" && v >= 1 && v <= 12 && v == math.Trunc(v) {
			continue // "tháng 10": a month, not a period
		}
		if word(i-1) == "ngay" && word(i+1) == "thang" && i+2 < len(lx) && lx[i+2].num {
			// "ngày 20 tháng 10"
			if m, ok := parseNumber(lx[i+2].text, lang); ok && m >= 1 && m <= 12 && v >= 1 && v <= 31 {
				addDate(i, dateTag(i-1), m*100+v)
				i += 2
				continue
			}
		}
		// Multipliers and currencies.
		mult := 1.0
		rest := w
		if suffix != "" {
			if m, ok := gluedMultipliers[suffix]; ok && currency != "" {
				mult, rest = m, w[1:]
			}
		}
		if mult == 1 && len(rest) >= 2 && (rest[0] == "nghin" || rest[0] == "ngan") && (rest[1] == "ty" || rest[1] == "ti") {
			mult, rest = 1e12, rest[2:]
		} else if m, ok := multipliers[first(rest)]; ok && mult == 1 {
			mult, rest = m, rest[1:]
		}
		if currency == "" {
			for _, c := range currencies {
				if hasPrefix(rest, c.words) {
					currency, rest = c.code, rest[len(c.words):]
					break
				}
			}
		}
		v *= mult
		if currency != "" {
			add(qMoney, currency+amountPer(lx, i, rest), v)
			continue
		}
		if p, ok := periods[first(rest)]; ok && mult == 1 && word(i-1) != "nam" {
			add(qPeriod, p, v)
			continue
		}
		maxSkip := 1
		if lang == "en" {
			maxSkip = 3
		}
		found := false
		for skip := 0; skip < len(rest) && skip <= maxSkip; skip++ {
			if u, ok := units.at(rest[skip:]); ok {
				add(qCount, u, v)
				found = true
				break
			}
			if _, isNum := englishNumbers[rest[skip]]; isNum {
				break
			}
		}
		if found {
			continue
		}
		if mult == 1 && isYear(v) {
			add(qYear, "", v)
			continue
		}
		add(qBare, "", v)
	}
	return out
}

// perHeadUnit follows the currency of an amount per person ("GRDP bình
// quân đầu người 7.900 USD", "US$7,900 per capita"): an amount of another
// kind than the totals, compared with amounts per person only.
const perHeadUnit = "/head"

// perItemUnit follows the currency of the amount of each of several
// things ("mỗi suất học bổng 5 triệu đồng", "VND5 million each"): an
// amount of another kind than the total, compared with amounts of each
// only.
const perItemUnit = "/each"

// The words after an amount's currency that make it per person ("per
// capita", "a head", "mỗi người", read "each nguoi") or of each thing
// ("5 million VND each", "5 triệu đồng mỗi suất").
var (
	perWords  = wordSet(`per a each`)
	headWords = wordSet(`capita head person nguoi`)
	eachWords = wordSet(`each apiece`)
)

// amountPer returns what follows the currency of the amount at lexeme i
// (rest: the words after the currency): perHeadUnit, perItemUnit or ""
// for a total.
//
// Per person: "đầu người" or "per capita" a few words before it, or "per
// capita", "per head", "per person", "a head", "mỗi người" or "/người"
// after it.
//
// Of each of several things: "each" (or "mỗi", read as "each", see
// numberText) a few words before it in its clause ("Mỗi suất học bổng 5
// triệu đồng", "each worth VND5 million"), "each" or "apiece" after it
// ("5 million VND each", "5 triệu đồng mỗi suất"), "per" and a thing
// ("per scholarship"), or "/suất". Periods are not things: "mỗi năm",
// "per year" make a yearly amount, not a part.
func amountPer(lx []lexeme, i int, rest []string) string {
	head, each, slashThing := false, false, false
	for j := i - 1; j >= max(0, i-6) && lx[j].word; j-- {
		t := lx[j].text
		head = head || t == "capita" || t == "nguoi" && j > 0 && lx[j-1].text == "dau"
		each = each || t == "each" && j+1 < i && !isPeriod(lx[j+1].text)
	}
	head = head || len(rest) >= 2 && perWords[rest[0]] && headWords[rest[1]]
	for j := i + 1; j+1 < len(lx) && j <= i+3; j++ {
		if lx[j].text == "/" {
			head = head || lx[j+1].text == "nguoi"
			slashThing = slashThing || lx[j+1].word && !isPeriod(lx[j+1].text)
		}
	}
	switch {
	case head:
		return perHeadUnit
	case each:
		return perItemUnit
	case len(rest) >= 2 && rest[0] == "each" && isPeriod(rest[1]):
		return "" // "mỗi năm"
	case len(rest) >= 1 && eachWords[rest[0]],
		len(rest) >= 2 && rest[0] == "per" && !isPeriod(rest[1]),
		slashThing:
		return perItemUnit
	}
	return ""
}

// isPeriod: a word naming a period of time (year, tháng, days...).
func isPeriod(w string) bool {
	_, ok := periods[w]
	return ok
}

func first(w []string) string {
	if len(w) == 0 {
		return ""
	}
	return w[0]
}

func hasPrefix(w, p []string) bool {
	if len(w) < len(p) {
		return false
	}
	for i := range p {
		if w[i] != p[i] {
			return false
		}
	}
	return true
}

// closeValues reports whether two values are the same number as reported
// in two languages: equal (up to floating point), or for money within
// rounding (1.43 billion ≈ 1.4 billion).
func closeValues(a, b float64, k qkind) (exact, approx bool) {
	if a == b {
		return true, false
	}
	d := math.Abs(a-b) / math.Max(math.Abs(a), math.Abs(b))
	switch {
	case d <= 1e-9:
		return true, false
	case k == qMoney && d <= 0.04:
		return false, true
	}
	return false, false
}

// precise: a percentage, amount or count written with decimals once
// scaled ("11.2%", "52.4 million tonnes", "1.9 million TEU") or with three
// significant digits or more ("123 projects"): a figure two reports share
// by chance only rarely, unlike "14%" or "600 million".
func (q quantity) precise() bool {
	switch q.kind {
	case qPercent, qMoney, qCount, qBare:
	default:
		return false
	}
	v := math.Abs(q.value)
	for _, m := range [3]float64{1e12, 1e9, 1e6} {
		if v >= m {
			v /= m
			break
		}
	}
	if v != math.Trunc(v) {
		return true
	}
	for v >= 10 && math.Mod(v, 10) == 0 {
		v /= 10 // trailing zeros
	}
	return v >= 100
}

// String shows a quantity in English conventions, for explanations.
func (q quantity) String() string {
	switch q.kind {
	case qMoney:
		return scaled(q.value) + " " + q.unit
	case qPercent:
		return fmtNum(q.value) + "%"
	case qCount:
		return scaled(q.value) + " " + q.unit
	case qOrdinal:
		return ordinal(int(q.value))
	case qPeriod:
		if q.unit == "H" || q.unit == "Q" {
			return q.unit + fmtNum(q.value)
		}
		return fmtNum(q.value) + " " + q.unit
	case qYear:
		return strconv.Itoa(int(q.value))
	case qDate:
		m := int(q.value) / 100
		day := strconv.Itoa(int(q.value)%100) + " " + [...]string{"", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}[m]
		if at, ok := strings.CutPrefix(q.unit, dateAt); ok {
			return at + " " + day // "afternoon 9 Jun"
		}
		return day
	}
	return scaled(q.value)
}

func scaled(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e12:
		return fmtNum(v/1e12) + " trillion"
	case a >= 1e9:
		return fmtNum(v/1e9) + " billion"
	case a >= 1e6:
		return fmtNum(v/1e6) + " million"
	}
	return fmtNum(v)
}

// fmtNum writes v with up to three decimals and thousands commas.
func fmtNum(v float64) string {
	s := strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

func ordinal(n int) string {
	suf := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suf = "st"
	case n%10 == 2:
		suf = "nd"
	case n%10 == 3:
		suf = "rd"
	}
	return strconv.Itoa(n) + suf
}
