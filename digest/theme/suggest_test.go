package theme

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func learningThemes() []Theme {
	return []Theme{
		{Key: "fdi", Phrases: []Phrase{{Text: "FDI"}, {Text: "đầu tư nước ngoài"}}},
		{Key: "china", Phrases: []Phrase{{Text: "Trung Quốc"}}},
	}
}

// Staff put three LG Display stories in fdi that the rules missed; "nhà
// máy" is in them too, but also in a story staff put in china, so only the
// name is proposed, with the F1 it would bring.
func TestSuggestProposesWhatStaffDecisionsSupport(t *testing.T) {
	c, err := New(learningThemes())
	if err != nil {
		t.Fatal(err)
	}
	items := []Labelled{
		{ID: "1", Title: "LG Display mở rộng nhà máy ở Tràng Duệ", Summary: "Tập đoàn Hàn Quốc tăng vốn.", Labels: []string{"fdi"}},
		{ID: "2", Title: "LG Display tuyển thêm 2.000 lao động", Summary: "Nhà máy cần kỹ sư.", Labels: []string{"fdi"}},
		{ID: "3", Title: "Khánh thành dây chuyền OLED của LG Display", Summary: "", Labels: []string{"fdi"}},
		{ID: "4", Title: "Vốn FDI vào Hải Phòng tăng", Summary: "", Labels: []string{"fdi"}},
		{ID: "5", Title: "Doanh nghiệp Trung Quốc xây nhà máy pin", Summary: "", Labels: []string{"china"}},
		{ID: "6", Title: "Lễ hội hoa phượng đỏ", Summary: "", Labels: nil, Option: []string{"china"}}, // excluded from fdi
	}
	got := Suggest(c, items)
	if len(got) == 0 {
		t.Fatal("no suggestion")
	}
	s := got[0]
	if s.Theme != "fdi" || s.Phrase.Text != "LG Display" || s.Items != 3 || s.Missed != 3 || s.Phrase.Weight != 1 {
		t.Fatalf("first suggestion %+v, want LG Display for fdi in 3 items", s)
	}
	if !(s.Before < s.After) || s.After != 1 {
		t.Errorf("F1 %.2f → %.2f, want a rise to 1", s.Before, s.After)
	}
	for _, x := range got {
		if strings.Contains(strings.ToLower(x.Phrase.Text), "nhà máy") {
			t.Errorf("suggested %q, which is also in a china story", x.Phrase.Text)
		}
		if x.Theme == "fdi" && x.Phrase.Text == "Display" {
			t.Error("suggested both LG Display and Display (the same items)")
		}
	}

	// Once the phrase is in the rules, a new LG Display story is fdi.
	next, err := New(WithPhrase(c.Themes(), s.Theme, s.Phrase))
	if err != nil {
		t.Fatal(err)
	}
	story := "LG Display công bố kế hoạch năm 2027"
	if r := c.Classify(story, ""); len(r.Themes) != 0 {
		t.Fatalf("before: %v", r.Themes)
	}
	if r := next.Classify(story, ""); strings.Join(r.Themes, ",") != "fdi" {
		t.Errorf("after: %v", r.Themes)
	}
	// Nothing more to learn once the rules agree with staff.
	if again := Suggest(next, items); len(again) != 0 {
		t.Errorf("suggestions after the phrase was added: %+v", again)
	}
}

func TestRulesFileRoundTripAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hp.rules.toml")
	if list, err := ReadRulesFile(path); err != nil || list != nil {
		t.Fatalf("a missing file: %v, %v", list, err)
	}
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for _, p := range []AddedPhrase{
		{Theme: "fdi", Text: "LG Display", Weight: 1, AddedBy: "lan@example.org", AddedAt: at},
		{Theme: "gone", Text: "x", Weight: 1, AddedBy: "lan@example.org", AddedAt: at},
	} {
		if err := AddToRulesFile(path, p); err != nil {
			t.Fatal(err)
		}
	}
	list, err := ReadRulesFile(path)
	if err != nil || len(list) != 2 || list[0].Text != "LG Display" || !list[0].AddedAt.Equal(at) {
		t.Fatalf("read back %+v, %v", list, err)
	}
	themes, ignored := WithAdded(learningThemes(), list)
	if len(ignored) != 1 || ignored[0].Theme != "gone" {
		t.Errorf("ignored %+v", ignored)
	}
	if n := len(themes[0].Phrases); n != 3 || len(learningThemes()[0].Phrases) != 2 {
		t.Errorf("fdi has %d phrases (the given themes must stay as they were)", n)
	}
	c, _ := New(learningThemes())
	if r := c.Classify("LG Display tuyển người", ""); len(r.Themes) != 0 {
		t.Fatal(r.Themes)
	}
	if err := c.Reload(themes); err != nil {
		t.Fatal(err)
	}
	if r := c.Classify("LG Display tuyển người", ""); strings.Join(r.Themes, ",") != "fdi" {
		t.Errorf("after Reload: %v", r.Themes)
	}
	if err := c.Reload([]Theme{{Key: "bad"}}); err == nil {
		t.Error("bad rules reloaded")
	} else if r := c.Classify("LG Display", ""); strings.Join(r.Themes, ",") != "fdi" {
		t.Errorf("a failed Reload changed the rules: %v", r.Themes)
	}

	if err := os.WriteFile(path, []byte("[[phrases]]\ntheme = \"fdi\"\ntext = \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRulesFile(path); err == nil || !strings.Contains(err.Error(), "hp.rules.toml:3") {
		t.Errorf("broken file: %v", err)
	}
}
