// Package textfold gives the ASCII view of a plain text that matchers and
// searches compare: lower case, every mark removed, đ folded to d
// ("Nguyễn Đức" → "nguyen duc").
package textfold

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ASCII returns plain text s (composed or decomposed) in lower case with
// every mark and invisible format character removed, and đ (and its
// look-alikes) folded to d.
func ASCII(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return strings.ToLower(s)
	}
	tableOnce.Do(buildTable)
	b := append(make([]byte, 0, len(s)), strings.ToLower(s[:i])...)
	for _, r := range s[i:] {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b = append(b, byte(r))
		case r < tableEnd:
			b = append(b, table[r]...)
		default:
			b = appendSlow(b, r)
		}
	}
	return string(b)
}

// Letter lowers r and maps look-alikes of đ (Icelandic eth Ð/ð, African
// D Ɖ/ɖ, which some fonts and keyboards produce) to đ.
func Letter(r rune) rune {
	r = unicode.ToLower(r)
	switch r {
	case 'ð', 'ɖ':
		return 'đ'
	}
	return r
}

// table holds the fold of every rune before tableEnd (Latin with
// Vietnamese's precomposed letters, the combining marks, Greek, Cyrillic),
// worked out once by appendSlow.
var (
	tableOnce sync.Once
	table     []string
)

const tableEnd = 0x1F00

func buildTable() {
	table = make([]string, tableEnd)
	for r := rune(0); r < tableEnd; r++ {
		table[r] = string(appendSlow(nil, r))
	}
}

// appendSlow appends the fold of r: its canonical decomposition without
// marks or format characters, each letter lowered, đ as d.
func appendSlow(b []byte, r rune) []byte {
	for _, d := range norm.NFD.String(string(r)) {
		switch {
		case unicode.Is(unicode.Mn, d), unicode.Is(unicode.Cf, d):
		default:
			if d = Letter(d); d == 'đ' {
				d = 'd'
			}
			b = utf8.AppendRune(b, d)
		}
	}
	return b
}
