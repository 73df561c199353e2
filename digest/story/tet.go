package story

import (
	"strconv"

	"github.com/haiphong/hpdigest/digest/theme"
)

// yearTet tags the year of a Tet an item names (quantity.unit of a
// qYear): the Gregorian year of the lunar year's first day, whether the
// text writes it ("Xuân Quê hương 2028", "Lunar New Year 2028") or names
// the lunar year ("Xuân Mậu Thân", "Tết Nguyên đán Mậu Thân").
const yearTet = "tet"

// The heavenly stems and earthly branches that name a lunar year, by
// ASCII fold and place in their cycles (Giáp Tý is 1984, 2044). "ty" is
// Tý (0) with an even stem and Tỵ (5) with an odd one; "mao" and "meo"
// are one branch. canMarked: the stem is spelt with a mark (only Canh is
// not); every branch is.
var (
	heavenlyStems = map[string]int{"giap": 0, "at": 1, "binh": 2, "dinh": 3, "mau": 4, "ky": 5, "ki": 5, "canh": 6, "tan": 7, "nham": 8, "quy": 9}
	earthlyBranch = map[string]int{"suu": 1, "dan": 2, "mao": 3, "meo": 3, "thin": 4, "ti": 5, "ngo": 6, "mui": 7, "than": 8, "dau": 9, "tuat": 10, "hoi": 11}
	tetQualifiers = wordSet(`nguyen dan co truyen am lich`) // "Tết Nguyên đán", "Tết cổ truyền", "Tết âm lịch"
)

// lunarYear reads a stem and a branch at words i, i+1 of w ("Mậu Thân")
// and returns the Gregorian year whose Tet begins that lunar year nearest
// to near.
func lunarYear(w theme.Words, i int, near int) (int, bool) {
	if i+1 >= w.Len() {
		return 0, false
	}
	s := w.At(i)
	if !s.Title {
		return 0, false
	}
	stem, ok := heavenlyStems[s.ASCII]
	if !ok {
		return 0, false
	}
	b := w.At(i + 1)
	if b.Break || !b.Title {
		return 0, false
	}
	branch, ok := earthlyBranch[b.ASCII]
	if b.ASCII == "ty" {
		branch, ok = 0, true
		if stem%2 == 1 {
			branch = 5
		}
	}
	if !ok || stem%2 != branch%2 {
		return 0, false
	}
	if w.Marked() && (s.Marked != (s.ASCII != "canh") || !b.Marked) {
		return 0, false // "Tan", "Than" typed plain among marked words are other words
	}
	// Its place in the sixty-year cycle, which began with Giáp Tý in 4
	// AD, and the year of that place in near-29 … near+30.
	c := 0
	for c%10 != stem || c%12 != branch {
		c++
	}
	from := near - 29
	return from + ((c-(from-4))%60+60)%60, true
}

// tetYears adds the years of the Tets the words w name (see yearTet):
// after "Tết" or "Tet" (and "Nguyên đán", "cổ truyền"), "Lunar New
// Year", or "Xuân" or "Spring" in a name, the lunar year's name or a year
// written within a few words. A lunar year's name is read in the
// Gregorian year nearest to the year of publication, pub (0 when
// unknown: then only written years count). It is a date, not a proper
// name: its words are marked covered.
func tetYears(w theme.Words, lang string, pub int, title bool, out []quantity, covered []bool) []quantity {
	for i := range w.Len() {
		t := w.At(i)
		if !t.Title {
			continue
		}
		if _, ok := lunarYear(w, i, pub); ok {
			covered[i], covered[i+1] = true, true
		}
		reach := 0 // how many words of a name may come before the year
		start := i + 1
		switch {
		case t.ASCII == "tet":
			reach = 1
			for start < w.Len() && !w.At(start).Break && tetQualifiers[w.At(start).ASCII] {
				start++
			}
		case lang == "en" && t.ASCII == "lunar" && i+2 < w.Len() && w.At(i+1).ASCII == "new" && w.At(i+2).ASCII == "year":
			start = i + 3
		case t.ASCII == "xuan" && lang == "vi" || t.ASCII == "spring" && lang == "en":
			// "Xuân" in a person's name ("Nguyễn Xuân Phúc") is not spring.
			if lang == "vi" && followsName(w, i) && !sentenceStart(w, i-1) {
				continue
			}
			reach = 4
		default:
			continue
		}
		for j := start; j < w.Len() && j <= start+reach && !w.At(j).Break; j++ {
			if j == start && pub != 0 {
				if y, ok := lunarYear(w, j, pub); ok {
					out = append(out, quantity{kind: qYear, unit: yearTet, value: float64(y), title: title})
					break
				}
			}
			if a := w.At(j).ASCII; len(a) == 4 && !w.At(j).Title {
				if y, err := strconv.Atoi(a); err == nil && isYear(float64(y)) {
					out = append(out, quantity{kind: qYear, unit: yearTet, value: float64(y), title: title})
					break
				}
			}
		}
	}
	return out
}

// sentenceStart reports whether word i of w opens a sentence or the text.
func sentenceStart(w theme.Words, i int) bool { return i == 0 || w.At(i).Break }

// followsName reports whether word i of w comes just after a capitalised
// word that is no function word ("Nguyễn Xuân", "Trại hè Việt Nam 2027").
func followsName(w theme.Words, i int) bool {
	return i > 0 && !w.At(i).Break && w.At(i-1).Title && !functionWords[w.At(i-1).ASCII]
}
