package theme

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Suggestion is a phrase that staff's own decisions support for a theme:
// it appears in several items staff put in the theme that the rules miss,
// and in no item staff decided is not of the theme.
type Suggestion struct {
	Theme  string
	Phrase Phrase // as it appears in the items; its weight is the theme's threshold
	// Items is the number of items staff put in the theme that contain the
	// phrase; Missed how many of them the rules do not give the theme now.
	Items, Missed int
	// F1 of the theme on the labelled items with the rules as they are and
	// with the phrase added; the same for the mean over all themes.
	Before, After           float64
	MacroBefore, MacroAfter float64
}

// Suggestion limits.
const (
	minSupport        = 2  // items of the theme a phrase must appear in
	maxPhraseWords    = 3  // longest phrase proposed
	maxCandidates     = 60 // phrases checked per theme, the most frequent first
	maxSuggestedPerTh = 3
)

// Suggest proposes phrases for the themes of c from labelled items (staff
// decisions, see digest's labels): only phrases that raise the theme's F1 on
// those items, best first within each theme, themes in config order.
func Suggest(c *Classifier, items []Labelled) []Suggestion {
	base := c.cur.Load()
	before := EvaluateItems(c, items)
	var out []Suggestion
	for ti, t := range base.themes {
		var pos, neg, missed []int
		for i, it := range items {
			switch {
			case contains(it.Labels, t.Key):
				pos = append(pos, i)
				if !contains(base.classify(it.Title, it.Summary).Themes, t.Key) {
					missed = append(missed, i)
				}
			case !contains(it.Option, t.Key):
				neg = append(neg, i)
			}
		}
		if len(missed) == 0 {
			continue
		}
		cands := candidates(items, missed, t)
		if len(cands) == 0 {
			continue
		}
		found := occurrences(cands, items)
		var ok []Suggestion
		seen := map[string]bool{} // item sets already covered by a longer phrase
		for i, cand := range cands {
			in := found[i]
			if countIn(in, neg) > 0 || countIn(in, pos) < minSupport {
				continue
			}
			key := fmt.Sprint(positions(in, pos))
			if seen[key] {
				continue
			}
			seen[key] = true
			ok = append(ok, Suggestion{Theme: t.Key, Phrase: Phrase{Text: cand.text, Weight: base.thr[ti]},
				Items: countIn(in, pos), Missed: countIn(in, missed)})
		}
		for i := range ok {
			s := &ok[i]
			s.Before, s.MacroBefore = before.Themes[ti].F1, before.MacroF1
			themes := WithPhrase(base.themes, t.Key, s.Phrase)
			next, err := New(themes)
			if err != nil {
				continue
			}
			after := EvaluateItems(next, items)
			s.After, s.MacroAfter = after.Themes[ti].F1, after.MacroF1
		}
		sort.SliceStable(ok, func(a, b int) bool { return ok[a].After-ok[a].Before > ok[b].After-ok[b].Before })
		n := 0
		for _, s := range ok {
			if s.After > s.Before && n < maxSuggestedPerTh {
				out = append(out, s)
				n++
			}
		}
	}
	return out
}

// WithPhrase returns a copy of themes with p added to the phrases of key.
func WithPhrase(themes []Theme, key string, p Phrase) []Theme {
	out := make([]Theme, len(themes))
	for i, t := range themes {
		if t.Key == key {
			t.Phrases = append(append([]Phrase(nil), t.Phrases...), p)
		}
		out[i] = t
	}
	return out
}

type candidate struct {
	text  string // surface form, as first seen
	words int
	items int // missed items of the theme it appears in
}

// candidates lists the word sequences (1 to maxPhraseWords words, never
// across punctuation) found in at least minSupport of the missed items,
// the most frequent and then the longest first. A one-word candidate must
// look like a name (capitalised, or an acronym); no candidate starts or ends
// with a function word, is a number, or is already a rule of the theme.
func candidates(items []Labelled, missed []int, t Theme) []candidate {
	have := map[string]bool{}
	for _, list := range [][]Phrase{t.Phrases, t.Cues, t.Negatives} {
		for _, p := range list {
			have[foldKey(p.Text)] = true
		}
	}
	byKey := map[string]*candidate{}
	for _, i := range missed {
		inItem := map[string]bool{}
		for _, seg := range segments(items[i].Title + "\n" + leadOf(items[i].Summary)) {
			for n := 1; n <= maxPhraseWords; n++ {
				for s := 0; s+n <= len(seg); s++ {
					words := seg[s : s+n]
					if !usable(words) {
						continue
					}
					text := strings.Join(words, " ")
					key := foldKey(text)
					if have[key] || inItem[key] {
						continue
					}
					inItem[key] = true
					c := byKey[key]
					if c == nil {
						c = &candidate{text: text, words: n}
						byKey[key] = c
					}
					c.items++
				}
			}
		}
	}
	var out []candidate
	for _, c := range byKey {
		if c.items >= minSupport {
			out = append(out, *c)
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].items != out[b].items {
			return out[a].items > out[b].items
		}
		if out[a].words != out[b].words {
			return out[a].words > out[b].words
		}
		return out[a].text < out[b].text
	})
	if len(out) > maxCandidates {
		out = out[:maxCandidates]
	}
	return out
}

// leadOf is the part of a body the classifier reads.
func leadOf(body string) string {
	f := strings.Fields(plainText(body))
	if len(f) > MaxBodyWords {
		f = f[:MaxBodyWords]
	}
	return strings.Join(f, " ")
}

// segments splits text into runs of words that punctuation does not
// separate, keeping each word as written.
func segments(text string) [][]string {
	text = norm.NFC.String(plainText(text))
	var out [][]string
	var cur []string
	var word strings.Builder
	flushWord := func() {
		if word.Len() > 0 {
			cur = append(cur, word.String())
			word.Reset()
		}
	}
	flushSeg := func() {
		flushWord()
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	rs := []rune(text)
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			word.WriteRune(r)
		case isJoiner(r) && word.Len() > 0 && i+1 < len(rs) && (unicode.IsLetter(rs[i+1]) || unicode.IsDigit(rs[i+1])):
			word.WriteRune(r)
		case unicode.IsSpace(r) && r != '\n':
			flushWord()
		default:
			flushSeg()
		}
	}
	flushSeg()
	return out
}

// usable tells whether a word sequence could be a rule phrase.
func usable(words []string) bool {
	first, last := strings.ToLower(words[0]), strings.ToLower(words[len(words)-1])
	if functionWords[first] || functionWords[last] {
		return false
	}
	for _, w := range words {
		if isNumber(w) {
			return false
		}
	}
	if len(words) == 1 {
		w := words[0]
		r, _ := utf8.DecodeRuneInString(w)
		n := utf8.RuneCountInString(w)
		upper := strings.ToUpper(w) == w
		return unicode.IsUpper(r) && (n >= 3 || upper && n == 2)
	}
	return true
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) && r != '.' && r != ',' {
			return false
		}
	}
	return true
}

// functionWords never start or end a suggested phrase (English words and
// Vietnamese syllables that carry no topic).
var functionWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the of in on at to for from by with and or but as is are was were be been
		has have had its it this that these those will would can could new more most than over after before into
		about up out not no his her their our your we they he she you i s
		và của các những cho với trong tại đã được là có này đó đến từ theo về một hai để khi sẽ đang nhiều
		cũng như thì mà nên nhưng hay hoặc rằng vào ra lên xuống trên dưới sau trước ông bà anh chị năm ngày tháng`) {
		m[w] = true
	}
	return m
}()

// foldKey identifies a phrase the way matching sees it: ASCII view of its
// words.
func foldKey(s string) string {
	f := tokenize(s)
	parts := make([]string, len(f.toks))
	for i, t := range f.toks {
		parts[i] = t.ascii
	}
	return strings.Join(parts, " ")
}

// occurrences returns, per candidate, which items (indexes) the candidate
// matches, with the classifier's own matching (folds, whole words,
// punctuation): each candidate is compiled as a one-phrase theme.
func occurrences(cands []candidate, items []Labelled) []map[int]bool {
	themes := make([]Theme, 0, len(cands))
	for i, c := range cands {
		p := Phrase{Text: c.text}
		if _, err := compile(p); err != nil {
			continue
		}
		themes = append(themes, Theme{Key: fmt.Sprintf("c%d", i), Phrases: []Phrase{p}})
	}
	out := make([]map[int]bool, len(cands))
	for i := range out {
		out[i] = map[int]bool{}
	}
	if len(themes) == 0 {
		return out
	}
	rs, err := compileRules(themes)
	if err != nil {
		return out
	}
	for j, it := range items {
		for _, k := range rs.classify(it.Title, it.Summary).Themes {
			var n int
			fmt.Sscanf(k, "c%d", &n)
			out[n][j] = true
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func countIn(set map[int]bool, list []int) int {
	n := 0
	for _, i := range list {
		if set[i] {
			n++
		}
	}
	return n
}

func positions(set map[int]bool, list []int) []int {
	var out []int
	for _, i := range list {
		if set[i] {
			out = append(out, i)
		}
	}
	return out
}
