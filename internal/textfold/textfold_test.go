package textfold

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestASCII(t *testing.T) {
	for in, want := range map[string]string{
		"Nguyễn Văn Đức":     "nguyen van duc",
		"NGUYỄN THỊ HOA":     "nguyen thi hoa",
		"đỗ":                 "do",
		"ðình vũ":            "dinh vu",  // a look-alike of đ
		"Hải\u200bPhòng":     "haiphong", // a zero-width space is dropped
		"John@Example.COM":   "john@example.com",
		"Müller":             "muller",
		"Nguye\u0302\u0303n": "nguyen", // already decomposed
		"Ἀθῆναι":             "αθηναι", // past the table
		"":                   "",
	} {
		if got := ASCII(in); got != want {
			t.Errorf("ASCII(%q) = %q, want %q", in, got, want)
		}
	}
}

// The table gives every rune what decomposing it gives, composed or
// decomposed.
func TestTableAgreesWithDecomposing(t *testing.T) {
	for r := rune(0x80); r < tableEnd; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := "A" + string(r) + "b"
		want := strings.ToLower("A") + string(appendSlow(nil, r)) + "b"
		if got := ASCII(s); got != want {
			t.Fatalf("ASCII(%q) = %q, want %q", s, got, want)
		}
		if got := ASCII(norm.NFD.String(s)); got != want {
			t.Fatalf("ASCII(NFD %q) = %q, want %q", s, got, want)
		}
	}
}
