// Package theme sorts items into the digest's themes (diaspora, fdi, china;
// "other" when none fits) from phrase rules that staff can tune in the config.
// Matching works in Vietnamese and English, with and without diacritics, on
// whole words, and every decision can explain itself.
//
// A theme's score is the sum of the weights of its phrases found in the item
// (each phrase counted once; a phrase found in the title counts
// weight × (1 + title_bonus)), plus the weights of its cues — but only when at
// least one phrase was found — minus the weights of its negatives. The item
// gets every theme whose score reaches the theme's threshold. Where two
// matches of a theme overlap, the shorter one inside the longer is ignored, so
// "đầu tư công" (a negative) is not also read as "đầu tư".
package theme

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/BurntSushi/toml"
)

// Other is the theme of items that match no configured theme.
const Other = "other"

// Theme is one configured theme ([[themes]] in the TOML file).
type Theme struct {
	Key    string `toml:"key"`     // "diaspora", "fdi", "china"
	NameVI string `toml:"name_vi"` // section heading for Vietnamese readers
	NameEN string `toml:"name_en"` // section heading for English readers

	// Threshold is the score an item needs to get the theme (default 1).
	Threshold float64 `toml:"threshold"`
	// TitleBonus: a phrase, cue or negative found in the title counts
	// weight × (1 + TitleBonus). 0 means titles count like the body.
	TitleBonus float64 `toml:"title_bonus"`
	// Phrases are the evidence for the theme.
	Phrases []Phrase `toml:"phrases"`
	// Cues add their weight only when at least one phrase matched
	// ("cooperation" says nothing alone, but a lot next to "Chinese").
	Cues []Phrase `toml:"cues"`
	// Negatives subtract their weight ("đầu tư công", "football").
	Negatives []Phrase `toml:"negatives"`
}

// Phrase is one rule phrase. In TOML it is either a plain string (weight 1,
// fold chosen from how it is written) or an inline table:
//
//	{ text = "Nam Ninh", weight = 3, fold = "marks" }
type Phrase struct {
	Text   string  `toml:"text"`
	Weight float64 `toml:"weight,omitempty"` // > 0; default 1
	// Fold says which normalised view of the text the phrase is matched on.
	// Whatever the fold, case, tone placement (hoà/hòa) and whole words apply.
	//
	//   "ascii": everything folded to ASCII; the default for phrases written
	//            without marks (English, acronyms: "FDI", "overseas Vietnamese").
	//   "auto":  the default for phrases written with marks: a word of the text
	//            written with marks must carry the same marks, tones aside
	//            ("năm" never matches "Nam"); a word written without any mark is
	//            compared folded, so "Kieu bao" headlines match "kiều bào".
	//   "marks": like auto, but never matched in a title or body typed without
	//            marks, for phrases whose bare form means something else:
	//            "Nam Ninh" (nam ninh = "năm Ninh [Bình]"), "Vân Nam" (the name
	//            "Văn Nam").
	//   "exact": like marks, and the tone must agree too (wherever it is
	//            placed): "Thâm Quyến" (Shenzhen) vs "thẩm quyền" (authority).
	//   "plain": only words typed without any mark, compared as written: for
	//            an English word whose folded form is a Vietnamese word:
	//            "Thai" must not match "Thái" (Thái Bình, Thái Nguyên).
	Fold string `toml:"fold,omitempty"`
	// Group: phrases (or cues) of a theme that share a group count once,
	// the best of them; e.g. investor countries, so that a story listing
	// Japan, Korea and the US is not scored as three pieces of evidence.
	Group string `toml:"group,omitempty"`
}

// UnmarshalTOML accepts a plain string or a table with text, weight, fold.
func (p *Phrase) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*p = Phrase{Text: v}
		return nil
	case map[string]any:
		*p = Phrase{}
		for k, x := range v {
			switch k {
			case "text":
				s, ok := x.(string)
				if !ok {
					return fmt.Errorf("phrase text must be a string, not %T", x)
				}
				p.Text = s
			case "weight":
				switch n := x.(type) {
				case int64:
					p.Weight = float64(n)
				case float64:
					p.Weight = n
				default:
					return fmt.Errorf("phrase %q: weight must be a number, not %T", p.Text, x)
				}
			case "fold", "group":
				s, ok := x.(string)
				if !ok {
					return fmt.Errorf("phrase %s must be a string, not %T", k, x)
				}
				if k == "fold" {
					p.Fold = s
				} else {
					p.Group = s
				}
			default:
				return fmt.Errorf("phrase: unknown key %q (want text, weight, fold, group)", k)
			}
		}
		return nil
	}
	return fmt.Errorf("phrase must be a string or a table {text, weight, fold, group}, not %T", v)
}

// Name returns the theme's name in lang ("vi" or "en").
func (t Theme) Name(lang string) string {
	if lang == "vi" && t.NameVI != "" {
		return t.NameVI
	}
	if t.NameEN != "" {
		return t.NameEN
	}
	return t.Key
}

//go:embed defaults.toml
var defaultsTOML []byte

// DefaultsTOML is the shipped rule set in the config's [[themes]] format, for
// config.example.toml.
func DefaultsTOML() string { return string(defaultsTOML) }

var (
	defaultsOnce sync.Once
	defaults     []Theme
)

// Defaults returns the themes shipped with the project, used when the config
// names none. The caller owns the returned slice.
func Defaults() []Theme {
	defaultsOnce.Do(func() {
		var f struct {
			Themes []Theme `toml:"themes"`
		}
		md, err := toml.Decode(string(defaultsTOML), &f)
		if err != nil {
			panic("theme: embedded defaults.toml: " + err.Error())
		}
		if u := md.Undecoded(); len(u) > 0 {
			panic(fmt.Sprintf("theme: embedded defaults.toml: unknown keys %v", u))
		}
		defaults = f.Themes
	})
	out := make([]Theme, len(defaults))
	for i, t := range defaults {
		t.Phrases = append([]Phrase(nil), t.Phrases...)
		t.Cues = append([]Phrase(nil), t.Cues...)
		t.Negatives = append([]Phrase(nil), t.Negatives...)
		out[i] = t
	}
	return out
}

// Hit is one rule that contributed to a theme's score.
type Hit struct {
	Phrase  string  // as written in the config
	Kind    string  // "phrase", "cue" or "negative"
	InTitle bool    // found in the title (title bonus applied)
	Score   float64 // contribution: positive, or negative for negatives
}

// ThemeScore is the decision for one theme.
type ThemeScore struct {
	Key       string
	Score     float64
	Threshold float64
	Matched   bool
	Hits      []Hit // in the order phrases, cues, negatives; config order within
	// IgnoredCues are cues found in the text that did not count because no
	// phrase of the theme matched.
	IgnoredCues []string
}

// Result is the classification of one item.
type Result struct {
	Themes      []string           // matched theme keys in config order; empty means Other
	Scores      map[string]float64 // per theme key
	Explanation string             // human-readable: which phrases matched, scores, threshold
	Details     []ThemeScore       // per theme in config order (what Explanation says, as data)
}

const (
	foldAuto = iota
	foldASCII
	foldMarks
	foldExact
	foldPlain
)

const (
	kindPhrase = iota
	kindCue
	kindNegative
)

var kindNames = [...]string{"phrase", "cue", "negative"}

type pattern struct {
	theme, kind, idx int
	weight           float64
	fold             int
	group            string
	words            []token
}

// Classifier holds compiled rules; it is safe for concurrent use, and
// Reload swaps in new rules while it is in use.
type Classifier struct {
	cur atomic.Pointer[ruleSet]
}

// ruleSet is compiled themes; never changed once built.
type ruleSet struct {
	themes []Theme
	thr    []float64
	bonus  []float64
	index
}

// index finds compiled patterns in a field.
type index struct {
	// byFirst indexes patterns by the ASCII view of their first word; every
	// fold matches a subset of what the ASCII view matches.
	byFirst map[string][]*pattern
	prefix  [256][]*pattern // patterns whose first word ends in '*', by first byte
}

func (x *index) add(p *pattern) {
	if x.byFirst == nil {
		x.byFirst = map[string][]*pattern{}
	}
	if w := p.words[0]; w.star {
		x.prefix[w.ascii[0]] = append(x.prefix[w.ascii[0]], p)
	} else {
		x.byFirst[w.ascii] = append(x.byFirst[w.ascii], p)
	}
}

// scan calls fn for every pattern matching f at word i, in word order.
func (x *index) scan(f *field, fn func(p *pattern, i int)) {
	for i, t := range f.toks {
		for _, p := range x.byFirst[t.ascii] {
			if p.matchAt(f, i) {
				fn(p, i)
			}
		}
		for _, p := range x.prefix[t.ascii[0]] {
			if p.matchAt(f, i) {
				fn(p, i)
			}
		}
	}
}

// New compiles the rules; a bad rule is an error naming the theme.
func New(themes []Theme) (*Classifier, error) {
	r, err := compileRules(themes)
	if err != nil {
		return nil, err
	}
	c := &Classifier{}
	c.cur.Store(r)
	return c, nil
}

// Reload compiles themes and, if they are valid, makes them the rules of
// every later Classify; on error the current rules stay.
func (c *Classifier) Reload(themes []Theme) error {
	r, err := compileRules(themes)
	if err != nil {
		return err
	}
	c.cur.Store(r)
	return nil
}

// Use makes the rules of from, compiled already (New), the rules of every
// later Classify of c.
func (c *Classifier) Use(from *Classifier) { c.cur.Store(from.cur.Load()) }

func compileRules(themes []Theme) (*ruleSet, error) {
	c := &ruleSet{themes: themes}
	seen := map[string]bool{}
	for ti, t := range themes {
		name := fmt.Sprintf("theme %q", t.Key)
		if t.Key == "" {
			name = fmt.Sprintf("themes[%d]", ti)
		}
		switch {
		case t.Key == "":
			return nil, fmt.Errorf("%s: key is empty", name)
		case t.Key == Other:
			return nil, fmt.Errorf("%s: key %q is reserved for items without a theme", name, Other)
		case seen[t.Key]:
			return nil, fmt.Errorf("%s: key used by two themes", name)
		case t.Threshold < 0 || math.IsNaN(t.Threshold) || math.IsInf(t.Threshold, 0):
			return nil, fmt.Errorf("%s: threshold %v must be a positive number", name, t.Threshold)
		case t.TitleBonus < 0 || math.IsNaN(t.TitleBonus) || math.IsInf(t.TitleBonus, 0):
			return nil, fmt.Errorf("%s: title_bonus %v must be 0 or more", name, t.TitleBonus)
		case len(t.Phrases) == 0:
			return nil, fmt.Errorf("%s: no phrases", name)
		}
		seen[t.Key] = true
		thr := t.Threshold
		if thr == 0 {
			thr = 1
		}
		c.thr = append(c.thr, thr)
		c.bonus = append(c.bonus, t.TitleBonus)
		for kind, list := range [3][]Phrase{t.Phrases, t.Cues, t.Negatives} {
			for pi, p := range list {
				pat, err := compile(p)
				if err != nil {
					return nil, fmt.Errorf("%s: %ss[%d] %q: %v", name, kindNames[kind], pi, p.Text, err)
				}
				pat.theme, pat.kind, pat.idx = ti, kind, pi
				c.add(pat)
			}
		}
	}
	return c, nil
}

func compile(p Phrase) (*pattern, error) {
	w := p.Weight
	switch {
	case w == 0:
		w = 1
	case w < 0 || math.IsNaN(w) || math.IsInf(w, 0):
		return nil, fmt.Errorf("weight %v must be a positive number (negatives subtract on their own)", p.Weight)
	}
	f := tokenize(p.Text)
	if len(f.toks) == 0 {
		return nil, fmt.Errorf("no words to match")
	}
	pat := &pattern{weight: w, words: f.toks, group: p.Group}
	switch p.Fold {
	case "":
		pat.fold = foldASCII
		if f.marked {
			pat.fold = foldAuto
		}
	case "auto":
		pat.fold = foldAuto
	case "ascii":
		pat.fold = foldASCII
	case "marks":
		pat.fold = foldMarks
	case "exact":
		pat.fold = foldExact
	case "plain":
		pat.fold = foldPlain
	default:
		return nil, fmt.Errorf("fold %q: want auto, ascii, marks, exact or plain", p.Fold)
	}
	return pat, nil
}

// Themes returns the configured themes in order.
func (c *Classifier) Themes() []Theme { return c.cur.Load().themes }

// Fingerprint identifies the rules: it changes when any key, threshold,
// bonus, phrase, weight, fold or group changes (names do not count). Store it
// with each classification to find the items to re-classify after staff
// edit the rules.
func (c *Classifier) Fingerprint() string {
	r := c.cur.Load()
	h := sha256.New()
	for ti, t := range r.themes {
		fmt.Fprintf(h, "theme %q %v %v\n", t.Key, r.thr[ti], t.TitleBonus)
		for kind, list := range [3][]Phrase{t.Phrases, t.Cues, t.Negatives} {
			for _, p := range list {
				fmt.Fprintf(h, "%d %q %v %q %q\n", kind, p.Text, p.Weight, p.Fold, p.Group)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func wordEq(pat, text string, prefix bool) bool {
	if prefix {
		return strings.HasPrefix(text, pat)
	}
	return pat == text
}

func (p *pattern) wordOK(w, t token) bool {
	switch p.fold {
	case foldASCII:
		return wordEq(w.ascii, t.ascii, w.star)
	case foldAuto:
		return wordEq(w.tone, t.tone, w.star) || (!t.marked && wordEq(w.ascii, t.ascii, w.star))
	case foldMarks:
		return wordEq(w.tone, t.tone, w.star)
	case foldPlain:
		return !t.marked && wordEq(w.ascii, t.ascii, w.star)
	default: // foldExact
		return wordEq(w.tone, t.tone, w.star) && w.tid == t.tid
	}
}

// matchAt reports whether p matches the tokens of f starting at i.
func (p *pattern) matchAt(f *field, i int) bool {
	if (p.fold == foldMarks || p.fold == foldExact) && !f.marked {
		return false // typed without marks: cannot tell "Nam Ninh" from "năm Ninh"
	}
	if i+len(p.words) > len(f.toks) {
		return false
	}
	for j, w := range p.words {
		t := f.toks[i+j]
		if j > 0 && t.brk && !w.brk {
			return false // the text has punctuation where the phrase has none
		}
		if !p.wordOK(w, t) {
			return false
		}
	}
	return true
}

type hit struct {
	pat        *pattern
	title      bool
	start, end int
}

func (c *ruleSet) find(f *field, title bool, out []hit) []hit {
	c.scan(f, func(p *pattern, i int) {
		out = append(out, hit{p, title, i, i + len(p.words)})
	})
	return out
}

// MaxBodyWords is how much of the body is read: news puts its subject in
// the title and lead (the first paragraph or two), while a full article also
// mentions in passing everything else (a diaspora story listing "Taiwan
// (China), and China" among host countries is not about China).
const MaxBodyWords = 120

// Classify sorts one item by its title and body text (plain text or HTML).
// It is deterministic: the same rules and text give the same Result.
func (c *Classifier) Classify(title, body string) Result { return c.cur.Load().classify(title, body) }

func (c *ruleSet) classify(title, body string) Result {
	tf := tokenize(plainText(title))
	bf := tokenize(plainText(body))
	if len(bf.toks) > MaxBodyWords {
		bf.toks = bf.toks[:MaxBodyWords]
	}
	hits := c.find(&tf, true, nil)
	hits = c.find(&bf, false, hits)

	// Drop a match lying inside a longer match of the same theme and field.
	kept := hits[:0:0]
	for i, h := range hits {
		inside := false
		for j, o := range hits {
			if i != j && o.pat.theme == h.pat.theme && o.title == h.title &&
				o.start <= h.start && h.end <= o.end && o.end-o.start > h.end-h.start {
				inside = true
				break
			}
		}
		if !inside {
			kept = append(kept, h)
		}
	}
	// Sort by theme, kind, config order; a title hit first so it wins.
	sort.Slice(kept, func(i, j int) bool {
		a, b := kept[i], kept[j]
		if a.pat.theme != b.pat.theme {
			return a.pat.theme < b.pat.theme
		}
		if a.pat.kind != b.pat.kind {
			return a.pat.kind < b.pat.kind
		}
		if a.pat.idx != b.pat.idx {
			return a.pat.idx < b.pat.idx
		}
		return a.title && !b.title
	})

	res := Result{Scores: make(map[string]float64, len(c.themes))}
	k := 0
	for ti, t := range c.themes {
		ts := ThemeScore{Key: t.Key, Threshold: c.thr[ti]}
		var cues []Hit
		anchored := false
		best := map[string]int{} // kind+group -> index in ts.Hits or cues
		for ; k < len(kept) && kept[k].pat.theme == ti; k++ {
			h := kept[k]
			if k > 0 && kept[k-1].pat == h.pat {
				continue // each rule counts once
			}
			list := [3][]Phrase{t.Phrases, t.Cues, t.Negatives}[h.pat.kind]
			s := h.pat.weight
			if h.title {
				s *= 1 + c.bonus[ti]
			}
			if h.pat.kind == kindNegative {
				s = -s
			}
			x := Hit{Phrase: list[h.pat.idx].Text, Kind: kindNames[h.pat.kind], InTitle: h.title, Score: s}
			dst := &ts.Hits
			if h.pat.kind == kindCue {
				dst = &cues
			}
			if h.pat.kind == kindPhrase {
				anchored = true
			}
			if g := h.pat.group; g != "" {
				gk := kindNames[h.pat.kind] + "\x00" + g
				if i, ok := best[gk]; ok {
					// Only the best of a group counts.
					if math.Abs(x.Score) > math.Abs((*dst)[i].Score) {
						(*dst)[i] = x
					}
					continue
				}
				best[gk] = len(*dst)
			}
			*dst = append(*dst, x)
		}
		if anchored {
			// Cues go after phrases, before negatives.
			n := 0
			for n < len(ts.Hits) && ts.Hits[n].Kind == "phrase" {
				n++
			}
			ts.Hits = append(ts.Hits[:n], append(cues, ts.Hits[n:]...)...)
		} else {
			for _, x := range cues {
				ts.IgnoredCues = append(ts.IgnoredCues, x.Phrase)
			}
		}
		for _, x := range ts.Hits {
			ts.Score += x.Score
		}
		ts.Score = math.Round(ts.Score*1e6) / 1e6
		ts.Matched = ts.Score >= ts.Threshold
		res.Scores[t.Key] = ts.Score
		if ts.Matched {
			res.Themes = append(res.Themes, t.Key)
		}
		res.Details = append(res.Details, ts)
	}
	res.Explanation = explain(res)
	return res
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func explain(r Result) string {
	var b strings.Builder
	if len(r.Themes) == 0 {
		b.WriteString("themes: other (no theme reached its threshold)")
	} else {
		b.WriteString("themes: " + strings.Join(r.Themes, ", "))
	}
	for _, d := range r.Details {
		mark, cmp := "no", "<"
		if d.Matched {
			mark, cmp = "YES", ">="
		}
		fmt.Fprintf(&b, "\n  %s %s: score %s %s threshold %s", d.Key, mark, num(d.Score), cmp, num(d.Threshold))
		if len(d.Hits) == 0 {
			b.WriteString("; no phrase found")
		}
		for i, h := range d.Hits {
			sep := ", "
			if i == 0 {
				sep = "; "
			}
			sign := "+"
			if h.Score < 0 {
				sign = ""
			}
			fmt.Fprintf(&b, "%s%q %s%s", sep, h.Phrase, sign, num(h.Score))
			var notes []string
			if h.Kind != "phrase" {
				notes = append(notes, h.Kind)
			}
			if h.InTitle {
				notes = append(notes, "title")
			}
			if len(notes) > 0 {
				b.WriteString(" (" + strings.Join(notes, ", ") + ")")
			}
		}
		if len(d.IgnoredCues) > 0 {
			fmt.Fprintf(&b, "; cues ignored without a phrase: %s", strings.Join(quoteAll(d.IgnoredCues), ", "))
		}
	}
	return b.String()
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strconv.Quote(x)
	}
	return out
}
