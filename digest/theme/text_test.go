package theme

import (
	"reflect"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestSplitWords(t *testing.T) {
	w := Split("Công ty LG Display tại <b>KCN</b> Đình Vũ, Hải Phòng's")
	var got []Word
	for i := range w.Len() {
		got = append(got, w.At(i))
	}
	want := []Word{
		{Tone: "công", ASCII: "cong", Marked: true, Title: true},
		{Tone: "ty", ASCII: "ty"},
		{Tone: "lg", ASCII: "lg", Title: true, Upper: true},
		{Tone: "display", ASCII: "display", Title: true},
		{Tone: "tai", ASCII: "tai", Marked: true},
		{Tone: "kcn", ASCII: "kcn", Title: true, Upper: true},
		{Tone: "đinh", ASCII: "dinh", Marked: true, Title: true},
		{Tone: "vu", ASCII: "vu", Marked: true, Title: true},
		{Tone: "hai", ASCII: "hai", Marked: true, Break: true, Title: true},
		{Tone: "phong", ASCII: "phong", Marked: true, Title: true},
		{Tone: "s", ASCII: "s"},
	}
	for i := range want {
		want[i].Tone = norm.NFD.String(want[i].Tone) // the tone view is decomposed
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Split:\n got %+v\nwant %+v", got, want)
	}
	if !w.Marked() {
		t.Error("Marked() = false for a text typed with marks")
	}
	if s := w.Text(6, 8); s != "Đình Vũ" {
		t.Errorf("Text(6, 8) = %q, want the words as written", s)
	}
	if s := w.Text(2, 4); s != "LG Display" {
		t.Errorf("Text(2, 4) = %q", s)
	}
}

func TestMatcherUsesClassifierFolds(t *testing.T) {
	m, err := NewMatcher([]Phrase{
		{Text: "Nam Ninh", Fold: "marks"},
		{Text: "Thâm Quyến", Fold: "exact"},
		{Text: "Đình Vũ"},
		{Text: "Economic Zone Authority"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text string
		want []Match
	}{
		{"Đường bay Nam Ninh – Hải Phòng", []Match{{0, 2, 4}}},
		{"duong bay Nam Ninh", nil}, // typed without marks: could be "năm Ninh"
		{"thẩm quyền phê duyệt", nil},
		{"Đoàn doanh nghiệp Thâm Quyến", []Match{{1, 3, 5}}},
		{"KCN Dinh Vu và Đình Vũ", []Match{{2, 1, 3}, {2, 4, 6}}},
		{"the Hai Phong Economic Zone Authority said", []Match{{3, 3, 6}}},
		{"Economic Zone. Authority", nil}, // never across punctuation
	}
	for _, c := range cases {
		if got := m.Find(Split(c.text)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Find(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if _, err := NewMatcher([]Phrase{{Text: "ok"}, {Text: "x", Fold: "loose"}}); err == nil {
		t.Error("a bad fold is accepted")
	}
}

func TestFold(t *testing.T) {
	cases := map[string]string{
		"1,4 tỷ USD":                  "1,4 ty usd",
		"Ðồng &amp; <i>US$</i>1.4 bn": "dong & us$1.4 bn", // inline tags leave nothing, as in "Hải Ph<b>òng</b>"
		"Hoà BÌNH, 12,5%":             "hoa binh, 12,5%",
	}
	for in, want := range cases {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
		if got := Split(in).Fold(); got != want {
			t.Errorf("Split(%q).Fold() = %q, want %q", in, got, want)
		}
	}
}

// The words respelled are found in the text the HTML means, in any case,
// composed or decomposed; other words folding alike keep their fold.
func TestFoldRespelled(t *testing.T) {
	r := NewRespelling(map[string]string{"mỗi": "each"})
	cases := map[string]string{
		"<b>Mỗi</b> suất &#8220;5 triệu&#8221;": "each suat \u201c5 trieu\u201d",
		"MỖI NĂM, mới và mọi":                   "each nam, moi va moi",
		"Mo\u0302\u0303i suất, m&#7895;i năm":   "each suat, each nam",
		"không có gì":                           "khong co gi",
	}
	for in, want := range cases {
		if got := Split(in).FoldRespelled(r); got != want {
			t.Errorf("FoldRespelled(%q) = %q, want %q", in, got, want)
		}
	}
}
