package theme

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/haiphong/hpdigest/feeds/htmltext"
	"github.com/haiphong/hpdigest/internal/textfold"
)

// Text is matched on words (tokens), each seen in two normalised views:
//
//   - the tone view: lower case, Unicode NFD, with only the five Vietnamese
//     tone marks (grave, acute, hook above, tilde, dot below) removed. The
//     vowel-shape marks (ă â ê ô ơ ư) and đ stay, so "hoà" = "hòa" (old and
//     new tone placement), "thuỷ" = "thủy", but "năm" ≠ "nam".
//   - the ASCII view: every mark removed and đ folded to d, for English text
//     and for headlines typed without marks ("Kieu bao Hai Phong").
//
// Each token also remembers its tone (so a phrase can ask for the exact tone,
// wherever it was placed), whether it carried any mark at all, and whether
// punctuation separates it from the previous token (phrases never match
// across a full stop, comma, bracket, tag and so on: "Việt Nam. Ninh Bình"
// does not contain "Nam Ninh").

// tone ids; 0 means no tone mark.
const (
	toneNone uint8 = iota
	toneGrave
	toneAcute
	toneHook
	toneTilde
	toneDot
)

func toneOf(r rune) uint8 {
	switch r {
	case '\u0300', '\u0340':
		return toneGrave
	case '\u0301', '\u0341':
		return toneAcute
	case '\u0309':
		return toneHook
	case '\u0303':
		return toneTilde
	case '\u0323':
		return toneDot
	}
	return toneNone
}

// token is one word; its views are slices of the shared buffers of a text.
type token struct {
	tone, ascii string
	tid         uint8 // tone mark of the word (the last one seen)
	marked      bool  // the word as written carried a mark or đ
	brk         bool  // punctuation separates it from the previous token
	star        bool  // written with a trailing '*' (phrases only: prefix match)
	title       bool  // written with a capital first letter
	lower       bool  // some letter written in lower case
	start, end  int32 // byte offsets of the word in the (NFD) text
}

// field is the tokenised form of a title or a body.
type field struct {
	toks   []token
	marked bool   // some word carries Vietnamese marks: the text was typed with them
	src    string // the text the tokens' offsets point into (NFD)
}

func isJoiner(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\'', '\u2019':
		return true
	}
	return false
}

// tokenize splits plain text into tokens. Phrases use the same function, so
// both sides are normalised identically.
func tokenize(s string) field {
	if !isASCII(s) {
		s = norm.NFD.String(s)
	}
	est := len(s)/5 + 1 // words are rarely shorter on average
	var (
		f         = field{toks: make([]token, 0, est), src: s}
		toneBuf   = make([]byte, 0, len(s))
		asciiBuf  = make([]byte, 0, len(s))
		spans     = make([][4]int, 0, est) // tone start/end, ascii start/end
		in        bool
		cur       token
		pendBreak bool
		prevRune  rune
		wordEnd   int
	)
	end := func() {
		if !in {
			return
		}
		in = false
		spans[len(spans)-1][1] = len(toneBuf)
		spans[len(spans)-1][3] = len(asciiBuf)
		cur.end = int32(wordEnd)
		f.toks = append(f.toks, cur)
		cur = token{}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		at := i
		i += size
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if !in {
				in = true
				cur = token{brk: pendBreak && len(f.toks) > 0, title: unicode.IsUpper(r), start: int32(at)}
				pendBreak = false
				spans = append(spans, [4]int{len(toneBuf), 0, len(asciiBuf), 0})
			}
			if unicode.IsLower(r) {
				cur.lower = true
			}
			wordEnd = i
			r = textfold.Letter(r)
			toneBuf = utf8.AppendRune(toneBuf, r)
			switch {
			case r == 'đ':
				asciiBuf = append(asciiBuf, 'd')
				cur.marked = true
			case r < utf8.RuneSelf:
				asciiBuf = append(asciiBuf, byte(r))
			default:
				asciiBuf = utf8.AppendRune(asciiBuf, r)
				cur.marked = true
			}
		case unicode.Is(unicode.Mn, r):
			if !in {
				break // a stray mark outside a word
			}
			cur.marked = true
			wordEnd = i
			if t := toneOf(r); t != toneNone {
				cur.tid = t
			} else {
				toneBuf = utf8.AppendRune(toneBuf, r)
			}
		case r == '\u200b': // zero-width space: a word break
			end()
		case unicode.Is(unicode.Cf, r):
			// Soft hyphens, zero-width joiners, BOMs, direction marks:
			// invisible, they must not split "kiều\u00adbào".
			continue
		default:
			if r == '*' && in {
				cur.star = true
			}
			end()
			switch {
			case unicode.IsSpace(r) && r != '\n' && r != '\r':
			case isJoiner(r):
				// A hyphen or apostrophe inside a word ("DEEP-C",
				// "Hai Phong's") joins; a spaced dash ("Hà Nam - Ninh
				// Bình") separates.
				next, _ := utf8.DecodeRuneInString(s[i:])
				if !(unicode.IsLetter(prevRune) || unicode.IsDigit(prevRune) || unicode.Is(unicode.Mn, prevRune)) ||
					!(unicode.IsLetter(next) || unicode.IsDigit(next)) {
					pendBreak = true
				}
			case r == '*':
			default:
				pendBreak = true
			}
		}
		prevRune = r
	}
	end()
	tone, ascii := string(toneBuf), string(asciiBuf)
	for i := range f.toks {
		sp := spans[i]
		f.toks[i].tone = tone[sp[0]:sp[1]]
		f.toks[i].ascii = ascii[sp[2]:sp[3]]
		if f.toks[i].marked {
			f.marked = true
		}
	}
	return f
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// maxText bounds the text looked at per field so that one huge body cannot
// make classification expensive; feed leads are far shorter.
const maxText = 32 << 10

// plainText turns feed text (plain or HTML, entities possibly encoded twice)
// into plain text, through the project's one HTML-to-text conversion:
// block-level tags become line breaks (which phrases do not cross), inline
// tags vanish.
func plainText(s string) string {
	if len(s) > maxText {
		cut := maxText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return htmltext.String(s)
}
