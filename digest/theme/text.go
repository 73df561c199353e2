package theme

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/haiphong/hpdigest/internal/textfold"
)

// Words is a text split into words, each in the normalised views the
// classifier matches on, for other matchers of the same texts (same-story
// detection) so that both see words alike.
type Words struct{ f field }

// Word is one word of a text.
type Word struct {
	Tone   string // lower case, decomposed (NFD), the five tone marks removed; vowel marks and đ kept
	ASCII  string // lower case, every mark removed, đ folded to d
	Marked bool   // written with a Vietnamese mark or đ
	Break  bool   // punctuation separates it from the previous word
	Title  bool   // written with a capital first letter ("Hải", "LG", "Display")
	Upper  bool   // written in capitals, two letters or more ("VSIP", "LG", "UBND")
}

// Split turns a text (plain text or HTML) into words.
func Split(text string) Words { return Words{tokenize(plainText(text))} }

// Len is the number of words.
func (w Words) Len() int { return len(w.f.toks) }

// Marked reports whether the text was typed with Vietnamese marks.
func (w Words) Marked() bool { return w.f.marked }

// At returns word i.
func (w Words) At(i int) Word {
	t := w.f.toks[i]
	letters := utf8.RuneCountInString(t.ascii)
	return Word{Tone: t.tone, ASCII: t.ascii, Marked: t.marked, Break: t.brk,
		Title: t.title, Upper: t.title && !t.lower && letters >= 2}
}

// Text returns the words i to j-1 as written (with what lies between them).
func (w Words) Text(i, j int) string {
	if i >= j {
		return ""
	}
	return norm.NFC.String(w.f.src[w.f.toks[i].start:w.f.toks[j-1].end])
}

// Matcher finds phrases in texts by the classifier's rules: whole words,
// folds (see Phrase.Fold), tone placement, never across punctuation. It is
// safe for concurrent use.
type Matcher struct{ index }

// Match is one phrase found: words Start to End-1 of the text.
type Match struct{ Phrase, Start, End int }

// NewMatcher compiles phrases (weights and groups are ignored); a bad
// phrase is an error naming it.
func NewMatcher(phrases []Phrase) (*Matcher, error) {
	m := &Matcher{}
	for i, p := range phrases {
		p.Weight = 0
		pat, err := compile(p)
		if err != nil {
			return nil, fmt.Errorf("phrase %q: %v", p.Text, err)
		}
		pat.idx = i
		m.add(pat)
	}
	return m, nil
}

// Find returns every phrase found in w, in the order of the words.
func (m *Matcher) Find(w Words) []Match {
	var out []Match
	m.scan(&w.f, func(p *pattern, i int) {
		out = append(out, Match{p.idx, i, i + len(p.words)})
	})
	return out
}

// Fold returns text (plain text or HTML) as plain text in lower case with
// every mark removed and đ folded to d (the ASCII view of its words),
// keeping digits, spaces and punctuation for scanners that need them
// (amounts, dates).
func Fold(text string) string {
	return textfold.ASCII(plainText(text))
}

// Fold is the package's Fold of the text w was split from, without
// decomposing it again.
func (w Words) Fold() string { return textfold.ASCII(w.f.src) }

// Respelling names marked words whose fold is another word's ("mỗi",
// each, folds as "mới", new, does), each with the text Words.FoldRespelled
// gives in its place. It is safe for concurrent use.
type Respelling struct {
	byFold map[string][]respelled // by the word's ASCII view
}

type respelled struct {
	written string // lower case, decomposed (NFD), as the words' source is
	as      string
}

// NewRespelling reads words: each word as written with its marks, in
// lower case, and the text to give in its place.
func NewRespelling(words map[string]string) *Respelling {
	r := &Respelling{byFold: map[string][]respelled{}}
	for written, as := range words {
		f := textfold.ASCII(written)
		r.byFold[f] = append(r.byFold[f], respelled{norm.NFD.String(strings.ToLower(written)), as})
	}
	return r
}

// FoldRespelled is Fold with every word of r, in whatever case and
// composed or not, given as r's text for it.
func (w Words) FoldRespelled(r *Respelling) string {
	var b []byte
	last, found := 0, false
	for _, t := range w.f.toks {
		if !t.marked {
			continue
		}
		for _, c := range r.byFold[t.ascii] {
			if strings.EqualFold(w.f.src[t.start:t.end], c.written) {
				b = append(b, textfold.ASCII(w.f.src[last:t.start])...)
				b = append(b, c.as...)
				last, found = int(t.end), true
				break
			}
		}
	}
	if !found {
		return w.Fold()
	}
	return string(append(b, textfold.ASCII(w.f.src[last:])...))
}
