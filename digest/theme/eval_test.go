package theme

import (
	"os"
	"strings"
	"testing"
)

// Floors come from the first honest measurement of each set (macro-F1 in the
// comment), set a little below it so that a miss or two is tolerated but a
// regression is not. Protocol (testdata/themes/README.md): labelled.jsonl is
// the tuning set; heldout.jsonl was committed before any rule existed;
// blindN.jsonl was written and committed after round N of the rules and
// measured once before round N+1. Later rounds saw the misses of earlier
// blind sets, so only the newest one (blind4) still measures items the rules
// were not tuned on.
var evalSets = []struct {
	name, path string
	floor      float64 // macro-F1
	themeFloor float64 // F1 of every theme
}{
	{"labelled", "../../testdata/themes/labelled.jsonl", 0.95, 0.9}, // 0.996 (first run)
	{"heldout", "../../testdata/themes/heldout.jsonl", 0.95, 0.9},   // 1.000
	{"dev", "../../testdata/themes/dev.jsonl", 0.90, 0.8},           // 0.952
	{"blind1", "../../testdata/themes/blind.jsonl", 0.80, 0.75},     // 0.826, after round 1
	{"blind2", "../../testdata/themes/blind2.jsonl", 0.83, 0.7},     // 0.863, after round 2
	{"blind3", "../../testdata/themes/blind3.jsonl", 0.88, 0.8},     // 0.908, after round 3
	{"blind4", "../../testdata/themes/blind4.jsonl", 0.90, 0.8},     // 0.943, after round 4
}

func TestEvaluateDefaults(t *testing.T) {
	c, err := New(Defaults())
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range evalSets {
		t.Run(set.name, func(t *testing.T) {
			rep, err := EvaluateFile(c, set.path)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			rep.Print(&b)
			t.Logf("%s\n%s", set.path, b.String())
			if rep.MacroF1 < set.floor {
				t.Errorf("%s: macro-F1 %.3f below the floor %.3f", set.name, rep.MacroF1, set.floor)
			}
			for _, s := range rep.Themes {
				if s.F1 < set.themeFloor {
					t.Errorf("%s: %s F1 %.3f below the floor %.3f", set.name, s.Key, s.F1, set.themeFloor)
				}
			}
		})
	}
}

func TestLabelledSetShape(t *testing.T) {
	// The project's labelled set covers every theme and both languages.
	known := map[string]bool{"diaspora": true, "fdi": true, "china": true}
	f, err := os.Open("../../testdata/themes/labelled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	items, err := ReadLabelled(f, known)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, it := range items {
		count[it.Lang]++
		if len(it.Labels) == 0 {
			count[Other]++
		}
		for _, l := range it.Labels {
			count[l]++
		}
	}
	if len(items) < 150 || count["diaspora"] < 30 || count["fdi"] < 30 || count["china"] < 30 ||
		count[Other] < 40 || count["vi"] < 50 || count["en"] < 50 {
		t.Errorf("labelled set too small: %d items, %v", len(items), count)
	}
}

func TestEvaluateBadInput(t *testing.T) {
	c, err := New(Defaults())
	if err != nil {
		t.Fatal(err)
	}
	good := `{"id": "a", "lang": "en", "title": "FDI", "summary": "", "labels": ["fdi"], "optional": []}`
	cases := []struct{ in, want string }{
		{good + "\n{not json\n", "line 2:"},
		{good + "\n" + good, `line 2: id "a" already used on line 1`},
		{`{"lang": "en", "title": "x", "labels": []}`, "line 1: missing id"},
		{`{"id": "b", "title": "x", "labels": ["sports"]}`, `line 1 (b): unknown theme "sports"`},
		{`{"id": "b", "title": "x", "labels": [], "optional": ["tech"]}`, `line 1 (b): unknown theme "tech"`},
		{`{"id": "b", "title": " ", "summary": "", "labels": []}`, "line 1 (b): no title and no summary"},
		{`{"id": "b", "title": "x", "lable": []}`, `line 1 (b): missing labels`},
		{`{"id": "b", "title": "x", "labels": null}`, `line 1 (b): missing labels`},
		{good + "\n" + `{"id": "c", "url": "https://a.vn/c", "summary": "x"}`, `line 2 (c): missing labels`},
		{`{"id": "b", "title": "x", "labels": "fdi"}`, "line 1:"},
		{"\n\n", "no labelled items"},
		{"", "no labelled items"},
	}
	for _, cs := range cases {
		_, err := Evaluate(c, strings.NewReader(cs.in))
		if err == nil || !strings.Contains(err.Error(), cs.want) {
			t.Errorf("%q: err %v, want %q", cs.in, err, cs.want)
		}
	}
}

// A labelled set exported from elsewhere carries fields the evaluation does
// not use; they are ignored.
func TestEvaluateIgnoresUnknownFields(t *testing.T) {
	c := rules(t) // fdi, china
	in := `{"id": "1", "url": "https://portal.example.vn/tin/1.html", "published": "2026-11-27T08:00:00+07:00", "source": "Cổng Hải Phòng", "lang": "vi", "title": "Vốn FDI tăng", "summary": "", "labels": ["fdi"], "optional": []}
{"id": "2", "feed": {"name": "WVR", "lang": "en"}, "tags": ["port"], "lang": "vi", "title": "Hợp tác với Trung Quốc", "labels": ["china"]}`
	rep, err := Evaluate(c, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Items != 2 || rep.Themes[0].TP != 1 || rep.Themes[1].TP != 1 {
		t.Errorf("items %d, fdi %+v, china %+v: want both items read and classified", rep.Items, rep.Themes[0], rep.Themes[1])
	}
}

func TestEvaluateCountsAndReport(t *testing.T) {
	c := rules(t) // fdi, china
	in := strings.Join([]string{
		`{"id": "1", "lang": "vi", "title": "Vốn FDI tăng", "summary": "", "labels": ["fdi"], "optional": []}`,
		`{"id": "2", "lang": "vi", "title": "Hợp tác với Trung Quốc", "summary": "", "labels": ["china"]}`,
		`{"id": "3", "lang": "en", "title": "Chinese tourists", "summary": "", "labels": ["china"]}`,
		`{"id": "4", "lang": "vi", "title": "FDI của Trung Quốc", "summary": "hợp tác", "labels": ["china"], "optional": ["fdi"]}`,
		`{"id": "5", "lang": "vi", "title": "Đầu tư công FDI", "summary": "", "labels": []}`,
		`{"id": "6", "lang": "en", "title": "Weather", "summary": "rain", "labels": ["other"]}`,
	}, "\n")
	rep, err := Evaluate(c, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	fdi, china := rep.Themes[0], rep.Themes[1]
	// fdi: item 1 right; item 4 optional; item 5 held off by "đầu tư công"
	// (FDI 4.5 in the title, the negative -6 there).
	if fdi.TP != 1 || fdi.Ignored != 1 || fdi.FN != 0 || fdi.FP != 0 {
		t.Errorf("fdi %+v", fdi)
	}
	if china.TP != 2 || china.FN != 1 || china.FP != 0 {
		t.Errorf("china %+v", china)
	}
	if china.Precision != 1 || china.Recall != 2.0/3 {
		t.Errorf("china P/R %v %v", china.Precision, china.Recall)
	}
	wantMacro := (fdi.F1 + china.F1) / 2
	if rep.MacroF1 != wantMacro {
		t.Errorf("macro %v want %v", rep.MacroF1, wantMacro)
	}
	var b strings.Builder
	if err := rep.Print(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"6 items", "precision", "recall", "F1", "macro-F1 (themes, without other):",
		"[3] Chinese tourists", "labels: china; predicted: other; missing: china",
		`china no: score 1.5 < threshold 3; "Chinese" +1.5`, // its explanation
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "[1] ") || strings.Contains(out, "[4] ") || strings.Contains(out, "[6] ") {
		t.Errorf("correct items listed as misclassified:\n%s", out)
	}
}

func TestEvaluateLowScoresAreNotAnError(t *testing.T) {
	c := one(t, Phrase{Text: "zzz"})
	rep, err := Evaluate(c, strings.NewReader(`{"id": "1", "title": "FDI", "labels": ["x"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if rep.MacroF1 != 0 || len(rep.Misses) != 1 {
		t.Errorf("%+v", rep)
	}
}

func TestEvaluateFileNamesTheFile(t *testing.T) {
	c := rules(t)
	dir := t.TempDir()
	bad := dir + "/bad.jsonl"
	if err := os.WriteFile(bad, []byte(`{"id": "1", "title": "x", "labels": ["nope"]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := EvaluateFile(c, bad)
	if err == nil || !strings.Contains(err.Error(), "bad.jsonl: line 1 (1): unknown theme \"nope\"") {
		t.Errorf("err = %v", err)
	}
	if _, err := EvaluateFile(c, dir+"/missing.jsonl"); err == nil {
		t.Error("missing file: no error")
	}
}

// A labelled file from elsewhere with the wrong shape names the line and
// what is wrong, in words rather than Go types.
func TestReadLabelledShapeErrors(t *testing.T) {
	known := map[string]bool{"fdi": true}
	for data, want := range map[string]string{
		`["fdi"]`:                               "line 1: want a JSON object, got array",
		`{"id":"1","title":"A","labels":"fdi"}`: `line 1: field "labels": got string`,
	} {
		if _, err := ReadLabelled(strings.NewReader(data), known); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %q", data, err, want)
		}
	}
}
