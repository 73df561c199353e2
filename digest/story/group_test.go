package story

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// storiesOf lists the stories as their item ids.
func storiesOf(g *Grouping) [][]string {
	var out [][]string
	for _, s := range g.Stories {
		out = append(out, s.Items)
	}
	return out
}

func mustGroup(t *testing.T, d *Detector, items []Item, c Constraints) *Grouping {
	t.Helper()
	g, err := d.Group(items, c)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGroupVersionsAndSources(t *testing.T) {
	d := Default()
	a, b := lgd()
	a.Source, b.Source = "VietnamPlus", "VietnamPlus English"
	c := vi("d003", "Trao chứng nhận điều chỉnh dự án LG Display, vốn tăng thêm 1,4 tỷ USD",
		"Dự án của LG Display tại KCN Tràng Duệ được điều chỉnh tăng vốn.")
	c.Source, c.Published = "Báo Hải Phòng", day(9)
	other := en("x1", "Remittances to Hai Phong hit 820 million USD", "Money sent home rose 9.5%.")
	g := mustGroup(t, d, []Item{b, other, c, a}, Constraints{})
	want := [][]string{{"d001", "d003", "d002"}, {"x1"}}
	if got := storiesOf(g); !reflect.DeepEqual(got, want) {
		t.Fatalf("stories %v, want %v", got, want)
	}
	s := g.Stories[0]
	wantVersions := []Version{
		{Lang: "vi", Items: []string{"d001", "d003"}, Sources: []string{"VietnamPlus", "Báo Hải Phòng"}},
		{Lang: "en", Items: []string{"d002"}, Sources: []string{"VietnamPlus English"}},
	}
	if s.Key != "d001" || !reflect.DeepEqual(s.Versions, wantVersions) {
		t.Errorf("key %q, versions %+v", s.Key, s.Versions)
	}
	if len(s.Links) != 2 {
		t.Errorf("a story of 3 items has %d links, want 2", len(s.Links))
	}
	for _, l := range s.Links {
		if !l.Same || !strings.HasPrefix(l.Explanation, "same story: shared ") {
			t.Errorf("link %+v", l)
		}
	}
	if got, ok := g.StoryOf("d003"); !ok || got.Key != "d001" {
		t.Errorf("StoryOf(d003) = %v, %v", got, ok)
	}
	if _, ok := g.StoryOf("nope"); ok {
		t.Error("StoryOf an unknown id found a story")
	}
}

// A round-up names two events; each has its own report. The round-up
// matches both, the two reports match nothing of each other: one story
// must not take in all three.
func TestGroupDoesNotChain(t *testing.T) {
	d := Default()
	roundup := en("r", "LG Display adds 1.4 billion USD as Bridgestone opens 230 million USD plant",
		"LG Display received an amended investment certificate for Trang Due Industrial Park; Bridgestone inaugurated its DEEP C factory.")
	lg := vi("l", "LG Display tăng vốn thêm 1,4 tỷ USD tại Tràng Duệ", "LG Display nhận giấy chứng nhận điều chỉnh tại KCN Tràng Duệ.")
	bs := vi("b", "Bridgestone khánh thành nhà máy 230 triệu USD tại DEEP C", "Nhà máy lốp của Bridgestone tại KCN DEEP C đi vào hoạt động.")
	for _, p := range [][2]Item{{roundup, lg}, {roundup, bs}} {
		if dec := d.Compare(p[0], p[1]); !dec.Same {
			t.Fatalf("setup: %s ~ %s should match: %s", p[0].ID, p[1].ID, dec.Explanation)
		}
	}
	if dec := d.Compare(lg, bs); dec.Score >= d.cfg.Suggest {
		t.Fatalf("setup: the two reports should not match: %s", dec.Explanation)
	}
	g := mustGroup(t, d, []Item{roundup, lg, bs}, Constraints{})
	if len(g.Stories) != 2 {
		t.Fatalf("stories %v: the round-up chained two events", storiesOf(g))
	}
	if len(g.Suggestions) != 1 || !strings.Contains(g.Suggestions[0].Explanation, "not joined: it would put") {
		t.Errorf("the join left out should be suggested with its reason: %+v", g.Suggestions)
	}
}

func TestGroupSameFeedDifferentItems(t *testing.T) {
	d := Default()
	a := vi("a", "LG Display tăng vốn thêm 1,4 tỷ USD", "Ban Quản lý Khu kinh tế trao giấy chứng nhận cho LG Display tại KCN Tràng Duệ.")
	b := vi("b", "LG Display được chấp thuận dự án 1,4 tỷ USD ở Tràng Duệ", "LG Display nhận giấy chứng nhận điều chỉnh của Ban Quản lý Khu kinh tế.")
	a.Source, b.Source = "Báo Hải Phòng", "Báo Hải Phòng"
	if dec := d.Compare(a, b); dec.Same || dec.Veto == "" || dec.Score < d.cfg.Threshold {
		t.Fatalf("setup: a high score ruled out by the feed: %s", dec.Explanation)
	}
	g := mustGroup(t, d, []Item{a, b}, Constraints{})
	if len(g.Stories) != 2 || len(g.Suggestions) != 0 {
		t.Errorf("stories %v, suggestions %d: one feed's two items joined or suggested", storiesOf(g), len(g.Suggestions))
	}
	// The same article carried twice by one feed (same link) is one story.
	b.URL, a.URL = "https://baohaiphong.vn/lg-1.html", "https://baohaiphong.vn/lg-1.html"
	if g := mustGroup(t, d, []Item{a, b}, Constraints{}); len(g.Stories) != 1 {
		t.Errorf("same link in one feed: stories %v", storiesOf(g))
	}
}

func TestGroupHonoursStaffDecisions(t *testing.T) {
	d := Default()
	a, b := lgd()
	c := vi("c", "Kiều hối về Hải Phòng 11 tháng đạt 820 triệu USD", "")
	e := en("e", "Remittances to Hai Phong hit 820 million USD in 11 months", "")
	items := []Item{a, b, c, e}
	if got := storiesOf(mustGroup(t, d, items, Constraints{})); len(got) != 2 {
		t.Fatalf("setup: want two stories, got %v", got)
	}

	// Merging two stories (a pair across them): each keeps its versions.
	g := mustGroup(t, d, items, Constraints{Same: [][2]string{{"d001", "c"}}})
	if want := [][]string{{"d001", "c", "d002", "e"}}; !reflect.DeepEqual(storiesOf(g), want) {
		t.Fatalf("merged stories: %v, want %v", storiesOf(g), want)
	}
	var staff *Decision
	for i, l := range g.Stories[0].Links {
		if l.Staff == "same" {
			staff = &g.Stories[0].Links[i]
		}
	}
	if staff == nil || staff.Explanation != "same story: confirmed by staff" || !staff.Same {
		t.Errorf("staff link: %+v", staff)
	}

	// Splitting an item out of a story the rules would form.
	g = mustGroup(t, d, items, Constraints{Different: [][2]string{{"d002", "d001"}}})
	if want := [][]string{{"d001"}, {"d002"}, {"c", "e"}}; !reflect.DeepEqual(storiesOf(g), want) {
		t.Errorf("split: %v, want %v", storiesOf(g), want)
	}
	for _, s := range g.Suggestions {
		if s.A == "d001" && s.B == "d002" {
			t.Errorf("a pair staff split is suggested again: %s", s.Explanation)
		}
	}

	// Contradicting decisions: keeping apart wins, and it is reported.
	g = mustGroup(t, d, items, Constraints{Same: [][2]string{{"d001", "d002"}}, Different: [][2]string{{"d001", "d002"}}})
	if got := storiesOf(g); len(got) != 3 {
		t.Errorf("contradiction: %v", got)
	}
	if len(g.Conflicts) != 1 || g.Conflicts[0] != "staff pairing d001–d002 not applied: it would join d001 and d002, which staff kept apart" {
		t.Errorf("conflicts %q", g.Conflicts)
	}

	// Items no longer in the window are ignored.
	g = mustGroup(t, d, items, Constraints{Same: [][2]string{{"gone", "d001"}}, Different: [][2]string{{"c", "gone"}}})
	if len(g.Stories) != 2 || len(g.Conflicts) != 0 {
		t.Errorf("unknown ids: %v %v", storiesOf(g), g.Conflicts)
	}
}

func TestGroupRejectsBadIDs(t *testing.T) {
	d := Default()
	a, b := lgd()
	b.ID = a.ID
	if _, err := d.Group([]Item{a, b}, Constraints{}); err == nil || !strings.Contains(err.Error(), `duplicate item id "d001" (items 1 and 2)`) {
		t.Errorf("duplicate: %v", err)
	}
	b.ID = ""
	if _, err := d.Group([]Item{a, b}, Constraints{}); err == nil || !strings.Contains(err.Error(), "item 2 has no id") {
		t.Errorf("empty id: %v", err)
	}
	if g, err := d.Group(nil, Constraints{}); err != nil || len(g.Stories) != 0 {
		t.Errorf("no items: %v %v", g, err)
	}
}

// The blocking that keeps grouping fast must not lose pairs the rules
// would join: on the labelled sets, and on items built to share a name
// only where one of them opens an English sentence with it, every pair
// that scores at least the threshold is among the pairs compared.
func TestBlockingLosesNoStory(t *testing.T) {
	d := Default()
	sets := map[string][]Item{}
	for _, set := range evalSets {
		for _, it := range readSet(t, set.path) {
			sets[set.name] = append(sets[set.name], it.Item)
		}
	}
	// The organisation's name opens a sentence in one item ("AmCham
	// delegation ...", "EuroCham, ..."): the comparison counts it as a
	// name the other item has, so blocking must pick the pair by it.
	opening := en("o1", "AmCham delegation explores opportunities in the port city",
		"AmCham members toured industrial parks on December 3, asking about power supply, customs clearance and chip incentives.")
	inside := en("o2", "US businesses eye the northern port city",
		"A delegation of AmCham members toured industrial parks on December 3, asking about power supply, customs clearance and chip incentives.")
	opening.Published, inside.Published = day(3), day(3)
	if dec := d.Compare(opening, inside); !dec.Same || !slices.Contains(shared(dec), "name:AmCham") {
		t.Fatalf("setup: the two items should be one story through the name: %s", dec.Explanation)
	}
	sets["sentence-start name"] = []Item{opening, inside}
	for name, items := range sets {
		docs := make([]*doc, len(items))
		for i, it := range items {
			docs[i] = d.prepare(it)
		}
		gr := &grouper{d: d, docs: docs, scores: map[uint64]pairScore{}}
		gr.init()
		cands := map[uint64]bool{}
		for _, k := range gr.candidates() {
			cands[k] = true
		}
		for i := range docs {
			for j := i + 1; j < len(docs); j++ {
				if s, vetoed := d.score(docs[i], docs[j]); !vetoed && s >= d.cfg.Threshold && !cands[pairKey(i, j)] {
					t.Errorf("%s: %s ~ %s scores %.2f but is never compared", name, docs[i].ID, docs[j].ID, s)
				}
			}
		}
	}
}

// The rule for joining two groups, on scores set by hand: a join needs
// no pair across ruled out or below zero, and at least half of them at
// least a suggestion.
func TestJoinRule(t *testing.T) {
	d := Default()
	cases := []struct {
		name   string
		groups [2][]int
		scores map[[2]int]float64
		veto   [2]int
		want   string // "" when joined
	}{
		{"a version with its own angle: strong with one version, weak with the other",
			[2][]int{{0, 1}, {2}}, map[[2]int]float64{{0, 2}: 6, {1, 2}: 1}, [2]int{}, ""},
		{"the other version has more against it than for it",
			[2][]int{{0, 1}, {2}}, map[[2]int]float64{{0, 2}: 6, {1, 2}: -0.5}, [2]int{}, "not joined: it would put b with c (score -0.5 < 0)"},
		{"the other version rules it out",
			[2][]int{{0, 1}, {2}}, map[[2]int]float64{{0, 2}: 6, {1, 2}: 4}, [2]int{1, 2}, "not joined: it would put b with c (published 10 days apart (more than 7))"},
		{"one strong pair, two weak ones",
			[2][]int{{0, 1, 3}, {2}}, map[[2]int]float64{{0, 2}: 6, {1, 2}: 1, {3, 2}: 2}, [2]int{}, "not joined: it would put b with c (score 1; 1 of 3 pairs across at least a suggestion)"},
		{"two stories, half the pairs across plausible",
			[2][]int{{0, 1}, {2, 3}}, map[[2]int]float64{{0, 2}: 6, {0, 3}: 4, {1, 2}: 1, {1, 3}: 2}, [2]int{}, ""},
	}
	for _, c := range cases {
		docs := make([]*doc, 4)
		for i := range docs {
			docs[i] = &doc{Item: Item{ID: string(rune('a' + i))}, edition: -1}
		}
		docs[2].day = 10 // what rules a pair out is told from the items
		gr := &grouper{d: d, docs: docs, scores: map[uint64]pairScore{}}
		gr.init()
		for _, g := range c.groups {
			for _, m := range g[1:] {
				gr.union(g[0], m, Decision{})
			}
		}
		for p, s := range c.scores {
			ps := pairScore{score: s}
			if c.veto == p {
				ps.vetoed = true
			}
			gr.scores[pairKey(p[0], p[1])] = ps
		}
		b, blocked := gr.joinBlocked(c.groups[0][0], c.groups[1][0])
		why := ""
		if blocked {
			why = gr.why(b)
		}
		if blocked != (c.want != "") || why != c.want {
			t.Errorf("%s: blocked %v (%q), want %q", c.name, blocked, why, c.want)
		}
	}
}

// A story of three versions where one is a feature on the event's
// activities: it matches the report in its language strongly and the
// English version hardly at all, and still joins.
func TestGroupJoinsVersionWithItsOwnAngle(t *testing.T) {
	d := Default()
	report := vi("r", "Tuần Văn hóa Nhật Bản tại Hải Phòng năm 2026",
		"Tối 5/12, Tuần Văn hóa Nhật Bản tại Hải Phòng năm 2026 đã khai mạc tại Nhà hát thành phố với sự tham dự của Đại sứ Nhật Bản tại Việt Nam Ito Naoki và đại diện thành phố Kitakyushu.")
	feature := vi("f", "Đặc sắc các hoạt động Tuần Văn hóa Nhật Bản",
		"Người dân thành phố được trải nghiệm trà đạo, cắm hoa ikebana, mặc thử kimono và xem các bộ phim Nhật Bản chiếu miễn phí tại Trung tâm Văn hóa thành phố đến hết ngày 11/12.")
	english := en("e", "Japanese culture week opens in port city",
		"HAI PHONG — A week of Japanese culture opened in Hai Phong on Saturday evening with a performance of taiko drums, attended by Japanese Ambassador to Viet Nam Ito Naoki.")
	report.Published, feature.Published, english.Published = day(5), day(6), day(6)
	for _, p := range [][2]Item{{report, feature}, {report, english}} {
		if dec := d.Compare(p[0], p[1]); !dec.Same {
			t.Fatalf("setup: %s ~ %s should match: %s", p[0].ID, p[1].ID, dec.Explanation)
		}
	}
	if dec := d.Compare(feature, english); dec.Score >= d.cfg.Suggest || dec.Score < 0 {
		t.Fatalf("setup: the feature and the English version should match weakly: %s", dec.Explanation)
	}
	g := mustGroup(t, d, []Item{report, feature, english}, Constraints{})
	if want := [][]string{{"r", "f", "e"}}; !reflect.DeepEqual(storiesOf(g), want) {
		t.Errorf("stories %v, want %v", storiesOf(g), want)
	}
}
