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
	// The vi and en editions of one report share the partner city and
	// the day of the reception and little else: blocking must pick the
	// pair by the day with the place (and the publisher).
	hosts := vi("r1", "Phó Chủ tịch UBND thành phố tiếp đoàn công tác thành phố Thâm Quyến",
		"Chiều 17/8, Phó Chủ tịch UBND thành phố tiếp đoàn công tác thành phố Thâm Quyến do Phó Thị trưởng Hoàng Mẫn dẫn đầu; hai bên trao đổi về công nghệ cao và kinh tế số.")
	hosted := en("r2", "Hai Phong, Shenzhen explore cooperation in high-tech sector",
		"A Vice Chairman of the Hai Phong People's Committee on August 17 received a delegation from China's Shenzhen city led by Vice Mayor Huang Min, discussing the digital economy.")
	hosts.URL, hosted.URL = "https://www.vietnamplus.vn/tiep-doan-tham-quyen-post1335777.vnp", "https://en.vietnamplus.vn/hai-phong-shenzhen-explore-cooperation-post375877.vnp"
	hosts.Published, hosted.Published = day(17), day(18)
	if dec := d.Compare(hosts, hosted); !dec.Same {
		t.Fatalf("setup: the two editions should be one story: %s", dec.Explanation)
	}
	sets["day and place"] = []Item{hosts, hosted}
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
				s := d.score(docs[i], docs[j])
				if !s.vetoed && s.score >= d.cfg.Threshold && !cands[pairKey(i, j)] {
					t.Errorf("%s: %s ~ %s scores %.2f but is never compared", name, docs[i].ID, docs[j].ID, s.score)
				}
			}
		}
	}
}

// The rule for joining two groups, on scores set by hand: a join needs
// no pair across ruled out or below zero, none whose titles name
// different events or partners unless it reaches the threshold, and every
// pair across at least a suggestion or, when weaker, sharing something
// specific to the event with nothing against it.
func TestJoinRule(t *testing.T) {
	d := Default()
	weak := pairScore{score: 1}
	cases := []struct {
		name   string
		groups [2][]int
		scores map[[2]int]pairScore
		veto   [2]int
		want   string // "" when joined
	}{
		{"every pair across at least a suggestion",
			[2][]int{{0, 1}, {2, 3}}, map[[2]int]pairScore{{0, 2}: {score: 6}, {0, 3}: {score: 4}, {1, 2}: {score: 3}, {1, 3}: {score: 3.5}}, [2]int{}, ""},
		{"a version with its own angle: weak with the other version, but sharing a name or an amount",
			[2][]int{{0, 1}, {2}}, map[[2]int]pairScore{{0, 2}: {score: 6}, {1, 2}: {score: 1, specific: true}}, [2]int{}, ""},
		{"weak with the other version, sharing only the setting (city, country, topic)",
			[2][]int{{0, 1}, {2}}, map[[2]int]pairScore{{0, 2}: {score: 6}, {1, 2}: weak}, [2]int{},
			"not joined: it would put b with c (score 1 < 3, nothing specific to the event shared)"},
		{"weak with the other version, something specific shared but evidence against",
			[2][]int{{0, 1}, {2}}, map[[2]int]pairScore{{0, 2}: {score: 6}, {1, 2}: {score: 2, specific: true, against: true}}, [2]int{},
			"not joined: it would put b with c (score 2 < 3, with evidence against)"},
		{"the titles of a pair across name different events",
			[2][]int{{0, 1}, {2}}, map[[2]int]pairScore{{0, 2}: {score: 6}, {1, 2}: {score: 4, specific: true, against: true, titles: true}}, [2]int{},
			"not joined: it would put b with c (their titles name different events or partners; score 4 < 5)"},
		{"the titles of a pair across differ, but it is a match by itself",
			[2][]int{{0, 1}, {2}}, map[[2]int]pairScore{{0, 2}: {score: 6}, {1, 2}: {score: 5.5, against: true, titles: true}}, [2]int{}, ""},
		{"the other version has more against it than for it",
			[2][]int{{0, 1}, {2}}, map[[2]int]pairScore{{0, 2}: {score: 6}, {1, 2}: {score: -0.5, specific: true, against: true}}, [2]int{},
			"not joined: it would put b with c (score -0.5 < 0)"},
		{"the other version rules it out",
			[2][]int{{0, 1}, {2}}, map[[2]int]pairScore{{0, 2}: {score: 6}, {1, 2}: {score: 4}}, [2]int{1, 2},
			"not joined: it would put b with c (published 10 days apart (more than 7))"},
		{"one strong pair, two weak ones: the weakest is named",
			[2][]int{{0, 1, 3}, {2}}, map[[2]int]pairScore{{0, 2}: {score: 6}, {1, 2}: weak, {3, 2}: {score: 2}}, [2]int{},
			"not joined: it would put b with c (score 1 < 3, nothing specific to the event shared)"},
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
			if c.veto == p {
				s.vetoed = true
			}
			gr.scores[pairKey(p[0], p[1])] = s
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
// English version only weakly. It joins when what it shares with the
// English version is specific to the event (the films of one studio);
// sharing only the partner country is not enough, and the join is then
// offered to staff with its reason.
func TestGroupJoinsVersionWithItsOwnAngle(t *testing.T) {
	d := Default()
	report := vi("r", "Tuần Văn hóa Nhật Bản tại Hải Phòng năm 2026",
		"Tối 5/12, Tuần Văn hóa Nhật Bản tại Hải Phòng năm 2026 đã khai mạc tại Nhà hát thành phố với sự tham dự của Đại sứ Nhật Bản tại Việt Nam Ito Naoki và đại diện thành phố Kitakyushu.")
	english := en("e", "Taiko drums open Japanese events in port city",
		"HAI PHONG — Taiko drummers and free screenings of Studio Ghibli animations opened a series of Japanese events in Hai Phong on Saturday evening, attended by Japanese Ambassador to Viet Nam Ito Naoki.")
	for _, c := range []struct {
		films  string
		joined bool
	}{
		{"xem các bộ phim hoạt hình của Ghibli", true},
		{"xem các bộ phim hoạt hình Nhật Bản", false},
	} {
		feature := vi("f", "Đặc sắc các hoạt động Tuần Văn hóa Nhật Bản",
			"Trong Tuần Văn hóa Nhật Bản tại Hải Phòng năm 2026, người dân thành phố được trải nghiệm trà đạo, cắm hoa ikebana, mặc thử kimono và "+c.films+" chiếu miễn phí tại Trung tâm Văn hóa thành phố đến hết ngày 11/12.")
		report.Published, feature.Published, english.Published = day(5), day(7), day(6)
		for _, p := range [][2]Item{{report, feature}, {report, english}} {
			if dec := d.Compare(p[0], p[1]); !dec.Same {
				t.Fatalf("setup: %s ~ %s should match: %s", p[0].ID, p[1].ID, dec.Explanation)
			}
		}
		if dec := d.Compare(feature, english); dec.Score >= d.cfg.Suggest || dec.Score < 0 || len(dec.Against) > 0 {
			t.Fatalf("setup: the feature and the English version should match weakly: %s", dec.Explanation)
		}
		g := mustGroup(t, d, []Item{report, feature, english}, Constraints{})
		if c.joined {
			if want := [][]string{{"r", "f", "e"}}; !reflect.DeepEqual(storiesOf(g), want) {
				t.Errorf("%s: stories %v, want %v", c.films, storiesOf(g), want)
			}
			continue
		}
		if len(g.Stories) != 2 {
			t.Errorf("%s: stories %v: a version that shares only the country with the other joined", c.films, storiesOf(g))
		}
		suggested := false
		for _, s := range g.Suggestions {
			suggested = suggested || strings.Contains(s.Explanation, "nothing specific to the event shared")
		}
		if !suggested {
			t.Errorf("%s: the join left out is not suggested with its reason: %+v", c.films, g.Suggestions)
		}
	}
}

// Amounts of different investors or donors, and different events of one
// delegation trip, are different stories, however much else they share.
func TestGroupKeepsCoincidencesApart(t *testing.T) {
	d := Default()
	cases := []struct {
		name  string
		items []Item
		want  [][]string
	}{
		{"two companies licensed for the same amount in one park; one version names no company",
			[]Item{
				vi("a", "Pegatron tăng vốn thêm 300 triệu USD cho nhà máy tại KCN Nam Đình Vũ",
					"Ban Quản lý Khu kinh tế Hải Phòng trao giấy chứng nhận điều chỉnh cho Công ty Pegatron, dự án sản xuất linh kiện điện tử tại KCN Nam Đình Vũ, vốn tăng thêm 300 triệu USD."),
				en("c", "Electronics plant in Hai Phong adds US$300 million",
					"The Economic Zone Authority handed an amended investment certificate to an electronic components plant at Nam Dinh Vu Industrial Park."),
				vi("x", "KCN Nam Đình Vũ đón thêm dự án linh kiện điện tử 300 triệu USD",
					"Ban Quản lý Khu kinh tế Hải Phòng trao giấy chứng nhận đầu tư cho Công ty Kanemitsu Automotive, dự án sản xuất linh kiện điện tử tại KCN Nam Đình Vũ, vốn 300 triệu USD."),
			},
			[][]string{{"a", "c"}, {"x"}}},
		{"two donors of the same amount for one storm",
			[]Item{
				vi("k", "Doanh nghiệp Hàn Quốc ủng hộ 2,5 tỷ đồng khắc phục hậu quả bão số 6",
					"Hiệp hội Doanh nghiệp Hàn Quốc tại Hải Phòng trao 2,5 tỷ đồng hỗ trợ người dân vùng bão."),
				en("ke", "Korean businesses donate 2.5 billion VND to storm victims",
					"The Korean Business Association in Hai Phong handed over 2.5 billion VND to coastal communes hit by the storm."),
				vi("o", "Kiều bào ủng hộ 2,5 tỷ đồng giúp người dân khắc phục hậu quả bão số 6",
					"Cộng đồng người Việt tại Séc, Đức và Ba Lan quyên góp 2,5 tỷ đồng hỗ trợ người dân vùng bão."),
			},
			[][]string{{"k", "ke"}, {"o"}}},
		{"a stand at an expo and the leaders' meeting on the same trip",
			[]Item{
				vi("s", "Gian hàng Hải Phòng thu hút khách tại Hội chợ Trung Quốc – ASEAN lần thứ 23",
					"Khu gian hàng của 22 doanh nghiệp Hải Phòng tại Hội chợ Trung Quốc – ASEAN lần thứ 23 ở Nam Ninh, Quảng Tây thu hút đông đảo khách tham quan."),
				en("se", "Hai Phong firms showcase products at 23rd China-ASEAN Expo",
					"Twenty-two businesses from Hai Phong present their goods at the 23rd China-ASEAN Expo in Nanning, Guangxi."),
				vi("m", "Bí thư Thành ủy Hải Phòng hội kiến Bí thư Khu ủy Quảng Tây",
					"Nhân dịp dự Hội chợ Trung Quốc – ASEAN lần thứ 23 tại Nam Ninh, Bí thư Thành ủy Hải Phòng hội kiến Bí thư Khu ủy Quảng Tây; hai bên nhất trí thúc đẩy kết nối cảng biển."),
				en("me", "Hai Phong, Guangxi leaders agree to boost port links",
					"The Hai Phong Party Secretary met the Guangxi Party Secretary in Nanning on the sidelines of the 23rd China-ASEAN Expo, agreeing to strengthen seaport connectivity."),
			},
			[][]string{{"s", "se"}, {"m", "me"}}},
	}
	for _, c := range cases {
		g := mustGroup(t, d, c.items, Constraints{})
		if got := storiesOf(g); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: stories %v, want %v", c.name, got, c.want)
			for i, a := range c.items {
				for _, b := range c.items[i+1:] {
					t.Logf("  %s", d.Compare(a, b).Explanation)
				}
			}
		}
	}
}
