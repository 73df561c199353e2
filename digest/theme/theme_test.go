package theme

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/BurntSushi/toml"
)

// one builds a classifier with a single theme holding one phrase.
func one(t *testing.T, p Phrase) *Classifier {
	t.Helper()
	c, err := New([]Theme{{Key: "x", Phrases: []Phrase{p}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWholeWordsAndFolds(t *testing.T) {
	cases := []struct {
		phrase Phrase
		text   string
		want   bool
	}{
		{Phrase{Text: "DEEP C"}, "Khu công nghiệp DEEP C đón dự án mới", true},
		{Phrase{Text: "DEEP C"}, "Deep C Industrial Zones", true},
		{Phrase{Text: "DEEP C"}, "the DEEP-C park", true},
		{Phrase{Text: "DEEP C"}, "Deep cooperation in education", false},
		{Phrase{Text: "DEEP C"}, "DEEPC", false},
		{Phrase{Text: "DEEP C"}, "deep. C", false},
		{Phrase{Text: "FDI"}, "vốn FDI tăng", true},
		{Phrase{Text: "FDI"}, "FDIs", false},
		{Phrase{Text: "investor*"}, "foreign investors", true},
		{Phrase{Text: "investor*"}, "reinvestors", false},
		{Phrase{Text: "China"}, "Chinatown", false},
		// marks: "năm" (year) is not "Nam"; unmarked text cannot tell.
		{Phrase{Text: "Nam Ninh", Fold: "marks"}, "Đường bay Hải Phòng - Nam Ninh", true},
		{Phrase{Text: "Nam Ninh", Fold: "marks"}, "NAM NINH (Quảng Tây)", true},
		{Phrase{Text: "Nam Ninh", Fold: "marks"}, "Năm Ninh Bình đón khách", false},
		{Phrase{Text: "Nam Ninh", Fold: "marks"}, "NĂM NINH BÌNH", false},
		{Phrase{Text: "Nam Ninh", Fold: "marks"}, "du lịch năm Ninh Bình", false},
		{Phrase{Text: "Nam Ninh", Fold: "marks"}, "tại Việt Nam. Ninh Bình", false},
		{Phrase{Text: "Nam Ninh", Fold: "marks"}, "Hà Nam - Ninh Bình", false},
		{Phrase{Text: "Nam Ninh", Fold: "marks"}, "Nam Ninh Binh thu hut du khach", false},
		// auto (default for marked phrases): unmarked words compare folded.
		{Phrase{Text: "Nam Ninh", Fold: "auto"}, "Nam Ninh Binh thu hut du khach", true},
		{Phrase{Text: "Nam Ninh", Fold: "auto"}, "Năm Ninh Bình đón khách", false},
		// A phrase written without marks defaults to ascii: it cannot know
		// it is Vietnamese. That is why the shipped rules spell out a fold.
		{Phrase{Text: "Nam Ninh"}, "Năm Ninh Bình đón khách", true},
		{Phrase{Text: "kiều bào"}, "Kieu bao Hai Phong tai Nhat Ban", true},
		{Phrase{Text: "kiều bào"}, "KIỀU BÀO HẢI PHÒNG", true},
		{Phrase{Text: "kiều bào"}, "ki&#7873;u b&agrave;o", true},
		{Phrase{Text: "Việt kiều"}, "Viet kieu investors from Australia", true},
		{Phrase{Text: "đầu tư"}, "ĐẦU TƯ", true},
		{Phrase{Text: "đầu tư"}, "Ðầu tư", true}, // Icelandic Ð
		{Phrase{Text: "đầu tư"}, "dau tu nuoc ngoai", true},
		{Phrase{Text: "đầu tư"}, "dầu tư", false}, // d with marks elsewhere is not đ
		// tone placement, old and new.
		{Phrase{Text: "hoà bình"}, "Hòa Bình", true},
		{Phrase{Text: "hòa bình"}, "Hoà Bình", true},
		{Phrase{Text: "thuỷ sản"}, "thủy sản", true},
		// exact: tones must agree, wherever placed.
		{Phrase{Text: "Thâm Quyến", Fold: "exact"}, "Thâm Quyến (Trung Quốc)", true},
		{Phrase{Text: "Thâm Quyến", Fold: "exact"}, "thẩm quyền xử phạt", false},
		{Phrase{Text: "Thâm Quyến", Fold: "exact"}, "Tham Quyen", false},
		{Phrase{Text: "Thâm Quyến"}, "thẩm quyền xử phạt", true}, // why "exact" exists
		{Phrase{Text: "hoà", Fold: "exact"}, "hòa", true},
		{Phrase{Text: "hoà", Fold: "exact"}, "hoa", false},
		// plain: only words typed without marks.
		{Phrase{Text: "Thai", Fold: "plain"}, "Thai conglomerate eyes retail", true},
		{Phrase{Text: "Thai", Fold: "plain"}, "tỉnh Thái Bình", false},
		{Phrase{Text: "Thai"}, "tỉnh Thái Bình", true}, // why "plain" exists
		// ascii folds everything.
		{Phrase{Text: "Viet Nam - China"}, "Việt Nam-China trade", true},
		{Phrase{Text: "Quang Tay", Fold: "ascii"}, "Quảng Tây", true},
		// punctuation in the phrase allows punctuation in the text.
		{Phrase{Text: "Việt - Trung"}, "hữu nghị Việt - Trung", true},
		{Phrase{Text: "Việt - Trung"}, "hữu nghị Việt-Trung", true},
		{Phrase{Text: "Việt Trung"}, "Việt - Trung", false},
		{Phrase{Text: "Đài Loan (Trung Quốc)"}, "Đài Loan (Trung Quốc)", true},
		// block tags separate, inline tags do not.
		{Phrase{Text: "Nam Ninh", Fold: "marks"}, "Việt Nam</p><p>Ninh Bình", false},
		{Phrase{Text: "kiều bào"}, "<b>kiều</b> bào", true},
	}
	for _, c := range cases {
		cl := one(t, c.phrase)
		// in the body
		r := cl.Classify("", c.text)
		if got := len(r.Themes) == 1; got != c.want {
			t.Errorf("%q (fold %q) in body %q: matched=%v, want %v\n%s", c.phrase.Text, c.phrase.Fold, c.text, got, c.want, r.Explanation)
		}
		// and in the title
		r = cl.Classify(c.text, "")
		if got := len(r.Themes) == 1; got != c.want {
			t.Errorf("%q (fold %q) in title %q: matched=%v, want %v", c.phrase.Text, c.phrase.Fold, c.text, got, c.want)
		}
	}
}

func TestPhrasesDoNotSpanTitleAndBody(t *testing.T) {
	cl := one(t, Phrase{Text: "Nam Ninh", Fold: "marks"})
	if r := cl.Classify("Du lịch Hà Nam", "Ninh Bình đón khách"); len(r.Themes) != 0 {
		t.Errorf("matched across title and body:\n%s", r.Explanation)
	}
}

func rules(t *testing.T) *Classifier {
	t.Helper()
	c, err := New([]Theme{
		{Key: "fdi", Threshold: 3, TitleBonus: 0.5,
			Phrases: []Phrase{
				{Text: "FDI", Weight: 3},
				{Text: "Japan", Weight: 1.5, Group: "country"},
				{Text: "Korea", Weight: 1.5, Group: "country"},
				{Text: "Singapore", Weight: 1.5, Group: "country"},
			},
			Cues:      []Phrase{{Text: "đầu tư", Weight: 1.5}, {Text: "invest*", Weight: 1.5}},
			Negatives: []Phrase{{Text: "đầu tư công", Weight: 4}},
		},
		{Key: "china", Threshold: 3,
			Phrases:   []Phrase{{Text: "Trung Quốc", Weight: 2}, {Text: "Chinese", Weight: 1.5}},
			Cues:      []Phrase{{Text: "hợp tác", Weight: 1}, {Text: "cooperation", Weight: 1}},
			Negatives: []Phrase{{Text: "football", Weight: 4}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestScoring(t *testing.T) {
	c := rules(t)
	cases := []struct {
		name, title, body string
		themes            []string
		score             map[string]float64
		explain           []string // substrings of the explanation
	}{
		{"title bonus", "FDI rises", "", []string{"fdi"}, map[string]float64{"fdi": 4.5},
			[]string{`"FDI" +4.5 (title)`, "fdi YES: score 4.5 >= threshold 3"}},
		{"body only", "", "FDI rises", []string{"fdi"}, map[string]float64{"fdi": 3}, nil},
		{"rule counted once", "", "FDI, FDI and FDI", []string{"fdi"}, map[string]float64{"fdi": 3}, nil},
		{"cue alone does nothing", "", "investment and more investors", nil, map[string]float64{"fdi": 0},
			[]string{`cues ignored without a phrase: "invest*"`, "themes: other"}},
		{"phrase plus cue", "", "Japan plans new investment", []string{"fdi"}, map[string]float64{"fdi": 3},
			[]string{`"Japan" +1.5`, `"invest*" +1.5 (cue)`}},
		{"group counts once", "", "Remittances from Japan, Korea and Singapore", nil, map[string]float64{"fdi": 1.5}, nil},
		{"negative hides the shorter match", "", "Japan. Vốn đầu tư công tăng", nil, map[string]float64{"fdi": -2.5},
			[]string{`"đầu tư công" -4 (negative)`}},
		{"multi-label in config order", "Trung Quốc hợp tác", "FDI từ Trung Quốc", []string{"fdi", "china"},
			map[string]float64{"fdi": 3, "china": 3}, []string{"themes: fdi, china"}},
		// Chinese 1.5 + cooperation 1 = 2.5: below 3; in the title it passes.
		{"cooperation cue, body", "", "Chinese investors and Hai Phong sign cooperation deal", nil,
			map[string]float64{"china": 2.5}, []string{"china no: score 2.5 < threshold 3"}},
		{"cooperation cue plus China", "", "Chinese investors sign cooperation deal with Trung Quốc", []string{"china"},
			map[string]float64{"china": 4.5}, nil},
		{"sport is not cooperation", "Hai Phong football club beats Chinese side", "cooperation", nil,
			map[string]float64{"china": -1.5}, []string{`"football" -4 (negative, title)`}},
	}
	for _, cs := range cases {
		r := c.Classify(cs.title, cs.body)
		if !reflect.DeepEqual(r.Themes, cs.themes) {
			t.Errorf("%s: themes %v, want %v\n%s", cs.name, r.Themes, cs.themes, r.Explanation)
		}
		for k, v := range cs.score {
			if r.Scores[k] != v {
				t.Errorf("%s: score[%s] = %v, want %v\n%s", cs.name, k, r.Scores[k], v, r.Explanation)
			}
		}
		for _, e := range cs.explain {
			if !strings.Contains(r.Explanation, e) {
				t.Errorf("%s: explanation lacks %q:\n%s", cs.name, e, r.Explanation)
			}
		}
		if len(r.Scores) != 2 || len(r.Details) != 2 {
			t.Errorf("%s: want a score and details for every theme: %v", cs.name, r.Scores)
		}
	}
}

func TestDefaultsDecodeLikeTheConfig(t *testing.T) {
	// The config embeds []theme.Theme under "themes": decoding the shipped
	// file that way must give what Defaults returns.
	var f struct {
		Themes []Theme `toml:"themes"`
	}
	md, err := toml.Decode(DefaultsTOML(), &f)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Fatalf("undecoded keys: %v", u)
	}
	if !reflect.DeepEqual(f.Themes, Defaults()) {
		t.Fatal("decoded TOML differs from Defaults()")
	}
	var keys []string
	for _, th := range f.Themes {
		keys = append(keys, th.Key)
		if th.NameVI == "" || th.NameEN == "" || th.Name("vi") == th.Name("en") {
			t.Errorf("%s: names %q / %q", th.Key, th.NameVI, th.NameEN)
		}
	}
	if strings.Join(keys, ",") != "diaspora,fdi,china" {
		t.Errorf("keys %v", keys)
	}
	c, err := New(f.Themes)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Themes()) != 3 {
		t.Fatal("Themes()")
	}
	// Defaults hands out copies.
	d := Defaults()
	d[0].Phrases[0].Text = "changed"
	if Defaults()[0].Phrases[0].Text == "changed" {
		t.Error("Defaults shares its slices")
	}
}

func TestPhraseTOMLForms(t *testing.T) {
	var f struct {
		Themes []Theme `toml:"themes"`
	}
	_, err := toml.Decode(`
[[themes]]
key = "x"
phrases = ["kiều bào", { text = "Nam Ninh", weight = 3, fold = "marks", group = "g" }, { text = "FDI", weight = 2.5 }]
`, &f)
	if err != nil {
		t.Fatal(err)
	}
	want := []Phrase{{Text: "kiều bào"}, {Text: "Nam Ninh", Weight: 3, Fold: "marks", Group: "g"}, {Text: "FDI", Weight: 2.5}}
	if !reflect.DeepEqual(f.Themes[0].Phrases, want) {
		t.Errorf("got %+v", f.Themes[0].Phrases)
	}
	for _, bad := range []string{
		`phrases = [{ text = "x", wieght = 3 }]`,
		`phrases = [{ text = "x", weight = "3" }]`,
		`phrases = [3]`,
		`phrases = [{ text = 3 }]`,
	} {
		if _, err := toml.Decode("[[themes]]\nkey = \"x\"\n"+bad, &f); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestNewErrors(t *testing.T) {
	ok := []Phrase{{Text: "FDI"}}
	cases := []struct {
		themes []Theme
		want   string
	}{
		{[]Theme{{Key: "", Phrases: ok}}, "themes[0]: key is empty"},
		{[]Theme{{Key: "other", Phrases: ok}}, `theme "other": key "other" is reserved`},
		{[]Theme{{Key: "a", Phrases: ok}, {Key: "a", Phrases: ok}}, `theme "a": key used by two themes`},
		{[]Theme{{Key: "a"}}, `theme "a": no phrases`},
		{[]Theme{{Key: "a", Threshold: -1, Phrases: ok}}, `theme "a": threshold -1`},
		{[]Theme{{Key: "a", TitleBonus: -1, Phrases: ok}}, `theme "a": title_bonus -1`},
		{[]Theme{{Key: "a", Phrases: []Phrase{{Text: "  ,;  "}}}}, `theme "a": phrases[0] "  ,;  ": no words`},
		{[]Theme{{Key: "a", Phrases: ok, Negatives: []Phrase{{Text: "x", Weight: -2}}}}, `theme "a": negatives[0] "x": weight -2`},
		{[]Theme{{Key: "a", Phrases: ok, Cues: []Phrase{{Text: "x", Fold: "tones"}}}}, `theme "a": cues[0] "x": fold "tones": want auto, ascii, marks, exact or plain`},
	}
	for _, c := range cases {
		_, err := New(c.themes)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New: err %v, want %q", err, c.want)
		}
	}
}

func TestDeterministicAndConcurrent(t *testing.T) {
	c, err := New(Defaults())
	if err != nil {
		t.Fatal(err)
	}
	title := "Trung Quốc là nhà đầu tư lớn thứ hai tại Hải Phòng"
	body := "Thành phố có 241 dự án của nhà đầu tư Trung Quốc tại các khu công nghiệp; kiều bào và Việt kiều cũng đầu tư."
	want := c.Classify(title, body)
	if !reflect.DeepEqual(want.Themes, []string{"diaspora", "fdi", "china"}) {
		t.Fatalf("themes %v\n%s", want.Themes, want.Explanation)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if got := c.Classify(title, body); !reflect.DeepEqual(got, want) {
					errs <- fmt.Sprintf("goroutine %d: result differs", g)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestName(t *testing.T) {
	th := Theme{Key: "fdi", NameVI: "Đầu tư nước ngoài", NameEN: "Foreign investment"}
	if th.Name("vi") != "Đầu tư nước ngoài" || th.Name("en") != "Foreign investment" || th.Name("fr") != "Foreign investment" {
		t.Error("names")
	}
	if (Theme{Key: "k"}).Name("vi") != "k" {
		t.Error("fallback to key")
	}
}

func TestFingerprint(t *testing.T) {
	a, _ := New(Defaults())
	b, _ := New(Defaults())
	if a.Fingerprint() != b.Fingerprint() || len(a.Fingerprint()) != 16 {
		t.Fatalf("same rules, fingerprints %q %q", a.Fingerprint(), b.Fingerprint())
	}
	d := Defaults()
	d[1].Phrases[0].Weight = 2.5
	c, _ := New(d)
	if c.Fingerprint() == a.Fingerprint() {
		t.Error("a changed weight keeps the fingerprint")
	}
	d = Defaults()
	d[0].NameEN = "Diaspora"
	c, _ = New(d)
	if c.Fingerprint() != a.Fingerprint() {
		t.Error("a renamed heading changes the fingerprint")
	}
}

func TestPhraseTOMLRoundTrip(t *testing.T) {
	// What the config writes back (e.g. a staff page saving rules) decodes
	// to the same rules.
	var buf strings.Builder
	in := struct {
		Themes []Theme `toml:"themes"`
	}{Defaults()}
	if err := toml.NewEncoder(&buf).Encode(in); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Themes []Theme `toml:"themes"`
	}
	if _, err := toml.Decode(buf.String(), &out); err != nil {
		t.Fatalf("%v\n%s", err, buf.String()[:500])
	}
	if !reflect.DeepEqual(in.Themes, out.Themes) {
		t.Error("round trip changed the rules")
	}
}
