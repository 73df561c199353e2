package theme

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func views(s string) (tone, ascii []string) {
	for _, t := range tokenize(s).toks {
		tone = append(tone, norm.NFC.String(t.tone))
		ascii = append(ascii, t.ascii)
	}
	return
}

func TestViews(t *testing.T) {
	cases := []struct {
		in, tone, ascii string
	}{
		{"Hoà bình", "hoa binh", "hoa binh"},
		{"Hòa Bình", "hoa binh", "hoa binh"},
		{"thuỷ sản", "thuy san", "thuy san"},
		{"thủy sản", "thuy san", "thuy san"},
		{"năm Ninh Bình", "năm ninh binh", "nam ninh binh"},
		{"Nam Ninh", "nam ninh", "nam ninh"},
		{"ĐẦU TƯ", "đâu tư", "dau tu"},
		{"Ðầu tư", "đâu tư", "dau tu"}, // U+00D0, the Icelandic look-alike
		{"ðầu tư", "đâu tư", "dau tu"},
		{"Ɖầu tư", "đâu tư", "dau tu"},
		{"Kiều bào", "kiêu bao", "kieu bao"},
		{norm.NFD.String("Kiều bào"), "kiêu bao", "kieu bao"}, // decomposed input
		{"Quảng Tây", "quang tây", "quang tay"},
		{"DEEP-C", "deep c", "deep c"},
		{"Hai Phong's FDI", "hai phong s fdi", "hai phong s fdi"},
		{"", "", ""},
	}
	for _, c := range cases {
		tone, ascii := views(c.in)
		if got := strings.Join(tone, " "); got != c.tone {
			t.Errorf("%q tone view = %q, want %q", c.in, got, c.tone)
		}
		if got := strings.Join(ascii, " "); got != c.ascii {
			t.Errorf("%q ascii view = %q, want %q", c.in, got, c.ascii)
		}
	}
}

func TestToneAndMarks(t *testing.T) {
	a, b := tokenize("thẩm quyền").toks, tokenize("Thâm Quyến").toks
	if a[0].tone != b[0].tone || a[1].tone != b[1].tone {
		t.Fatalf("tone views should agree: %q %q", a[1].tone, b[1].tone)
	}
	if a[0].tid == b[0].tid {
		t.Errorf("thẩm and Thâm should differ in tone")
	}
	// Tone placement: hoà (on a) and hòa (on o) carry the same tone.
	x, y := tokenize("hoà").toks[0], tokenize("hòa").toks[0]
	if x.tone != y.tone || x.tid != y.tid {
		t.Errorf("hoà/hòa differ: %+v %+v", x, y)
	}
	if tokenize("Kieu bao").marked || !tokenize("Kiều bào").marked || !tokenize("đi").marked {
		t.Errorf("marked flag wrong")
	}
}

func TestBreaks(t *testing.T) {
	cases := []struct {
		in   string
		brks string // one char per token: '|' break before it, '.' none
	}{
		{"Việt Nam. Ninh Bình", "..|."},
		{"Hà Nam - Ninh Bình", "..|."},
		{"Hà Nam-Ninh", "..."},
		{"a, b (c) d", ".|||"},
		{"line\nnext", ".|"},
		{"tab\tand\u00a0nbsp", "..."},
	}
	for _, c := range cases {
		var b strings.Builder
		for _, tk := range tokenize(c.in).toks {
			if tk.brk {
				b.WriteByte('|')
			} else {
				b.WriteByte('.')
			}
		}
		if b.String() != c.brks {
			t.Errorf("%q breaks = %s, want %s", c.in, b.String(), c.brks)
		}
	}
}

func TestPlainText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Hai Phong &amp; Guangxi", "Hai Phong & Guangxi"},
		{"H&#7843;i Ph&#242;ng", "Hải Phòng"},
		{"ki&amp;#7873;u b&amp;agrave;o", "kiều bào"}, // encoded twice
		{"<p>Khu c&ocirc;ng nghi&#7879;p</p>", "\nKhu công nghiệp\n"},
		{"<b>kiều</b> bào", "kiều bào"},
		{"Hải Ph<b>òng</b>", "Hải Phòng"}, // an inline tag does not split a word
		{"<script>var FDI = 1</script>kiều bào", "kiều bào"},
		{"a < b and c > d", "a < b and c > d"},
		{"&lt;p&gt;FDI&lt;/p&gt;", "\nFDI\n"},
	}
	for _, c := range cases {
		if got := plainText(c.in); got != c.want {
			t.Errorf("plainText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := strings.Repeat("ả", maxText) // 3 bytes each: the cut lands mid-rune
	if got := plainText(long); len(got) > maxText || !strings.HasPrefix(long, got) || !utf8Valid(got) {
		t.Errorf("long text cut badly: %d bytes", len(got))
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestInvisibleCharacters(t *testing.T) {
	cases := []struct{ in, want string }{
		{"kiều\u00adbào", "kiêubao"},  // a soft hyphen inside one word
		{"kiều\u200bbào", "kiêu bao"}, // a zero-width space is a word break
		{"\ufeffFDI", "fdi"},
		{"Việt\u200d kiều", "viêt kiêu"},
	}
	for _, c := range cases {
		tone, _ := views(c.in)
		if got := strings.Join(tone, " "); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}
