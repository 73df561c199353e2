package story

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func day(d int) time.Time { return time.Date(2026, 10, d, 9, 0, 0, 0, vietnamTime) }

func vi(id, title, summary string) Item {
	return Item{ID: id, Lang: "vi", Title: title, Summary: summary, Published: day(8)}
}

func en(id, title, summary string) Item {
	return Item{ID: id, Lang: "en", Title: title, Summary: summary, Published: day(8)}
}

// shared lists the evidence for a decision as "kind:text".
func shared(dec Decision) []string {
	var out []string
	for _, e := range dec.For {
		out = append(out, e.Kind+":"+e.Text)
	}
	return out
}

func against(dec Decision) []string {
	var out []string
	for _, e := range dec.Against {
		out = append(out, e.Kind+":"+e.Text)
	}
	return out
}

func TestNamesComparedFolded(t *testing.T) {
	d := Default()
	cases := []struct {
		name  string
		a, b  Item
		want  []string // evidence that must be there
		avoid []string // evidence that must not
	}{
		{"Vietnamese name with and without marks",
			vi("a", "Chủ tịch Nguyễn Văn Tùng tiếp đoàn", ""),
			en("b", "Chairman Nguyen Van Tung receives delegation", ""),
			[]string{"name:Nguyễn Văn Tùng"}, nil},
		{"company name in both languages",
			vi("a", "LG Display tăng vốn", ""), en("b", "LG Display raises capital", ""),
			[]string{"name:LG Display"}, nil},
		{"acronym alone",
			vi("a", "Khai trương nhà máy tại VSIP", ""), en("b", "Plant opens at VSIP", ""),
			[]string{"name:VSIP"}, nil},
		{"industrial zone with a one-letter word",
			vi("a", "Nhà máy mới tại KCN DEEP C", ""), en("b", "New plant in DEEP C zone", ""),
			[]string{"name:DEEP C"}, nil},
		{"same first word, different company: only the acronym",
			en("a", "LG Display expands", ""), en("b", "LG Innotek expands", ""),
			[]string{"name:LG"}, []string{"name:LG Display", "name:LG Innotek"}},
		{"Title Case headline words are not names",
			en("a", "Over 300 Businesses Attend Conference", "More than 300 businesses attended."),
			en("b", "Businesses Attend Workshop On Exports", "Firms attended a workshop."),
			nil, []string{"name:Businesses", "name:Attend", "name:Businesses Attend"}},
		{"an English sentence's first word, when the other item has it as a name",
			en("a", "Japanese printer maker to add 2,500 jobs", "Kyocera's expanded plant will be its largest abroad."),
			vi("b", "Thêm 2.500 việc làm từ dự án của Kyocera", ""),
			[]string{"name:Kyocera"}, nil},
		{"an English sentence's first word in both items is not a name",
			en("a", "Port volume up", "Container volume rose."), en("b", "Airport traffic up", "Container traffic rose."),
			nil, []string{"name:Container"}},
		{"a Roman numeral is not a name",
			vi("a", "Nhà máy đi vào hoạt động từ quý IV/2027", ""), en("b", "Plant to start in Q IV 2027", ""),
			nil, []string{"name:IV"}},
		{"a Vietnamese syllable alone is not a name",
			vi("a", "Phòng họp mới", ""), en("b", "Hai Phong Phong", ""),
			nil, []string{"name:Phòng"}},
	}
	for _, c := range cases {
		got := shared(d.Compare(c.a, c.b))
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: evidence %v lacks %q", c.name, got, w)
			}
		}
		for _, w := range c.avoid {
			if slices.Contains(got, w) {
				t.Errorf("%s: evidence %v has %q", c.name, got, w)
			}
		}
	}
}

func TestGazetteerAcrossLanguages(t *testing.T) {
	d := Default()
	cases := []struct {
		a, b Item
		want string // "kind:text" of the shared entity; "" for none
	}{
		{vi("a", "Đoàn Quảng Tây thăm Hải Phòng", ""), en("b", "Guangxi delegation visits", ""), "place:Quảng Tây = Guangxi"},
		{vi("a", "Đường bay tới Nam Ninh", ""), en("b", "Flights to Nanning", ""), "place:Nam Ninh = Nanning"},
		{vi("a", "Doanh nghiệp Thâm Quyến", ""), en("b", "Shenzhen firms", ""), "place:Thâm Quyến = Shenzhen"},
		{vi("a", "Nhà đầu tư Hàn Quốc", ""), en("b", "Republic of Korea investors", ""), "country:Hàn Quốc = Republic of Korea"},
		{vi("a", "Nhà đầu tư Hàn Quốc", ""), en("b", "RoK investors", ""), "country:Hàn Quốc = RoK"},
		{vi("a", "Doanh nghiệp Nhật Bản", ""), en("b", "Japanese firms", ""), "country:Nhật Bản = Japanese"},
		{vi("a", "Ủy ban Nhà nước về người Việt Nam ở nước ngoài làm việc", ""),
			en("b", "State Committee for Overseas Vietnamese meets", ""),
			"body:Ủy ban Nhà nước về người Việt Nam ở nước ngoài = State Committee for Overseas Vietnamese"},
		{vi("a", "Ban Quản lý Khu kinh tế Hải Phòng trao giấy phép", ""), en("b", "The Economic Zone Authority said", ""),
			"body:Ban Quản lý Khu kinh tế Hải Phòng = Economic Zone Authority"},
		{vi("a", "KCN Đình Vũ", ""), en("b", "Dinh Vu park", ""), "place:Đình Vũ = Dinh Vu"},
		{vi("a", "Khởi công nhà máy", ""), en("b", "Firm breaks ground on plant", ""), "action:Khởi công = breaks ground"},
		{vi("a", "Hạ Long đón khách", ""), vi("b", "Ha Long don khach", ""), "place:Hạ Long = Ha Long"}, // a headline typed without marks
	}
	for _, c := range cases {
		got := shared(d.Compare(c.a, c.b))
		if !slices.Contains(got, c.want) {
			t.Errorf("%q ~ %q: evidence %v lacks %q", c.a.Title, c.b.Title, got, c.want)
		}
	}
	// Look-alikes that are not the entity.
	not := []struct {
		a, b   Item
		unwant string
	}{
		{vi("a", "Vốn đầu tư nước ngoài năm Ninh Bình", ""), vi("b", "Nam Ninh mở đường bay", ""), "place"},
		{vi("a", "Phân cấp thẩm quyền phê duyệt", ""), vi("b", "Thâm Quyến đầu tư", ""), "place"},
		{en("a", "Let us know", ""), en("b", "US investors", ""), "country"},
		{en("a", "a US$5 million grant", ""), en("b", "US investors", ""), "country"},
		{vi("a", "Tư vấn pháp lý cho lao động", ""), vi("b", "Doanh nghiệp Pháp đầu tư", ""), "country"},
		{vi("a", "Gửi quà cho hội cho các em", ""), vi("b", "Hội chợ thương mại", ""), "action"},
		{vi("a", "Đồng bào vùng cao", ""), vi("b", "Cơn bão số 5", ""), "topic"},
	}
	for _, c := range not {
		for _, e := range d.Compare(c.a, c.b).For {
			if e.Kind == c.unwant {
				t.Errorf("%q ~ %q: unexpected shared %s %q", c.a.Title, c.b.Title, e.Kind, e.Text)
			}
		}
	}
}

func TestLinksAndEditions(t *testing.T) {
	d := Default()
	link := func(it Item, url string) Item { it.URL = url; return it }
	cases := []struct {
		name string
		a, b Item
		want string // "kind:text" expected among the evidence; "" for no link evidence
	}{
		{"same link, tracking and www aside",
			link(vi("a", "Tin", ""), "https://www.baohaiphong.vn/tin-123.html?utm_source=rss"),
			link(vi("b", "Tin khác", ""), "http://baohaiphong.vn/tin-123.html/"), "link:same link"},
		{"the two editions of one publisher",
			link(vi("a", "Tin", ""), "https://www.vietnamplus.vn/lg-post1071203.vnp"),
			link(en("b", "News", ""), "https://en.vietnamplus.vn/lg-post302115.vnp"), "edition:vi and en editions of vietnamplus"},
		{"one article in both editions (shared number)",
			link(vi("a", "Tin", ""), "https://haiphong.gov.vn/tin-tuc/khanh-thanh-ben-42310.html"),
			link(en("b", "News", ""), "https://haiphong.gov.vn/en/news/berths-inaugurated-42310.html"),
			"edition:one article (42310) in the vi and en editions of haiphong-portal"},
		{"different article numbers: no link",
			link(vi("a", "Tin", ""), "https://haiphong.gov.vn/tin-tuc/khanh-thanh-ben-42310.html"),
			link(en("b", "News", ""), "https://haiphong.gov.vn/en/news/berths-inaugurated-42311.html"), ""},
		{"two publishers: no link",
			link(vi("a", "Tin", ""), "https://www.vietnamplus.vn/lg-post1071203.vnp"),
			link(en("b", "News", ""), "https://en.baoquocte.vn/lg-1.html"), ""},
		{"one edition, two articles: no link",
			link(en("a", "News", ""), "https://en.vietnamplus.vn/a-post1.vnp"),
			link(en("b", "Other", ""), "https://en.vietnamplus.vn/b-post2.vnp"), ""},
	}
	for _, c := range cases {
		var got []string
		for _, e := range d.Compare(c.a, c.b).For {
			if e.Kind == "link" || e.Kind == "edition" {
				got = append(got, e.Kind+":"+e.Text)
			}
		}
		if (c.want == "" && len(got) > 0) || (c.want != "" && !slices.Contains(got, c.want)) {
			t.Errorf("%s: link evidence %v, want %q", c.name, got, c.want)
		}
	}
	if dec := d.Compare(link(vi("a", "Tin", ""), "https://haiphong.gov.vn/tin-tuc/a-42310.html"),
		link(en("b", "News", ""), "https://haiphong.gov.vn/en/news/b-42310.html")); !dec.Same {
		t.Errorf("one article in both editions is not the same story: %s", dec.Explanation)
	}
}

func TestNormalizeURL(t *testing.T) {
	cases := map[string]string{
		"https://www.VietnamPlus.vn/Tin-1.vnp":                 "vietnamplus.vn/tin-1.vnp",
		"http://m.baohaiphong.vn/tin/?utm_source=x&fbclid=y#c": "baohaiphong.vn/tin",
		"https://haiphong.gov.vn/tin?id=5&utm_medium=rss":      "haiphong.gov.vn/tin?id=5",
		"not a url":   "",
		"":            "",
		"/relative/1": "",
	}
	for in, want := range cases {
		if got := normalizeURL(in); got != want {
			t.Errorf("normalizeURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// lgd is a Vietnamese and an English version of one event.
func lgd() (Item, Item) {
	a := vi("d001", "LG Display tăng vốn đầu tư thêm 1,4 tỷ USD tại Hải Phòng",
		"Ban Quản lý Khu kinh tế Hải Phòng trao giấy chứng nhận điều chỉnh đầu tư cho LG Display tại Khu công nghiệp Tràng Duệ.")
	b := en("d002", "LG Display pours additional 1.4 billion USD into Hai Phong plant",
		"The Hai Phong Economic Zone Authority handed an amended investment certificate to LG Display at Trang Due Industrial Park.")
	return a, b
}

func TestDateWindow(t *testing.T) {
	d := Default()
	a, b := lgd()
	for _, c := range []struct {
		days int
		same bool
		veto string
	}{
		{0, true, ""}, {1, true, ""}, {3, true, ""},
		{6, false, ""}, // allowed, but six days apart weighs against
		{8, false, "published 8 days apart (more than 7)"},
	} {
		b.Published = a.Published.AddDate(0, 0, c.days)
		dec := d.Compare(a, b)
		if dec.Same != c.same || dec.Veto != c.veto || dec.DaysApart != c.days {
			t.Errorf("%d days apart: same %v, veto %q, days %d; want %v, %q\n%s", c.days, dec.Same, dec.Veto, dec.DaysApart, c.same, c.veto, dec.Explanation)
		}
	}
	// The further apart, the less likely one event: never more against
	// two days apart than three.
	prev := math.Inf(1)
	for days := range 8 {
		b.Published = a.Published.AddDate(0, 0, days)
		dec := d.Compare(a, b)
		if dec.Score > prev {
			t.Errorf("%d days apart score %v, more than %d days apart (%v)", days, dec.Score, days-1, prev)
		}
		prev = dec.Score
	}
	b.Published = time.Time{}
	if dec := d.Compare(a, b); dec.DaysApart != -1 || !strings.Contains(dec.Explanation, "date unknown") || !dec.Same {
		t.Errorf("unknown date: %+v", dec)
	}
	short, err := newDetector(Config{MaxDaysApart: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Published = a.Published.AddDate(0, 0, 3)
	if dec := short.Compare(a, b); dec.Veto != "published 3 days apart (more than 2)" {
		t.Errorf("max_days_apart 2: veto %q", dec.Veto)
	}
}

func TestExplanations(t *testing.T) {
	d := Default()
	a, b := lgd()
	dec := d.Compare(b, a) // either order gives the same decision
	want := "same story: shared 1.4 billion USD, LG Display, Tràng Duệ = Trang Due, " +
		"Ban Quản lý Khu kinh tế Hải Phòng = Economic Zone Authority, trao giấy chứng nhận = amended investment certificate, " +
		"Hải Phòng = Hai Phong; 0 days apart; score 8.75 ≥ 5"
	if dec.A != "d001" || dec.B != "d002" || dec.Explanation != want {
		t.Errorf("got  %s %s %q\nwant d001 d002 %q", dec.A, dec.B, dec.Explanation, want)
	}
	if dec.Score != 8.75 || len(dec.Against) != 0 || dec.For[0].Kind != "amount" || dec.For[0].Weight != 3 {
		t.Errorf("decision as data: %+v", dec)
	}

	// A follow-up: same company, days later, another amount and event.
	c := vi("d004", "LG Display khởi công nhà máy thứ hai, vốn 750 triệu USD", "Lễ khởi công diễn ra tại KCN Tràng Duệ.")
	c.Published = day(12)
	dec = d.Compare(a, c)
	want = "different stories: shared LG Display, Tràng Duệ, similar wording (titles 12%, texts 10%); " +
		"against: different events (trao giấy chứng nhận / khởi công), different amounts (1.4 billion USD / 750 million USD); " +
		"4 days apart; score -4.21 < 5"
	if dec.Same || dec.Explanation != want {
		t.Errorf("got  %q\nwant %q", dec.Explanation, want)
	}
	if got := against(dec); !slices.Contains(got, "figures:different amounts (1.4 billion USD / 750 million USD)") {
		t.Errorf("against: %v", got)
	}

	// Ruled out whatever the score: one feed does not publish an event twice.
	x, y := lgd()
	y.Lang, y.Title, y.Source, x.Source = "vi", "LG Display nhận giấy chứng nhận 1,4 tỷ USD", "Báo Hải Phòng", "Báo Hải Phòng"
	dec = d.Compare(x, y)
	if dec.Same || dec.Veto != "same feed (Báo Hải Phòng) and language, different wording" ||
		!strings.HasPrefix(dec.Explanation, "different stories: same feed (Báo Hải Phòng) and language, different wording; shared 1.4 billion USD") {
		t.Errorf("same feed: %q", dec.Explanation)
	}
}

func TestEvidenceAgainst(t *testing.T) {
	d := Default()
	cases := []struct {
		a, b Item
		want string
	}{
		{vi("a", "Xuân Quê hương 2027 tổ chức tại Hải Phòng", ""), vi("b", "Xuân Quê hương 2026: hơn 1.000 kiều bào về quê", ""),
			"figures:different years (2027 / 2026)"},
		{vi("a", "Hội nghị doanh nhân kiều bào lần thứ 3", ""), en("b", "Second overseas business conference, the 2nd edition", ""),
			"figures:different editions (3rd / 2nd)"},
		{vi("a", "9 tháng, thu hút 2,8 tỷ USD FDI", ""), en("b", "FDI in ten months hits 3.2 billion USD", ""),
			"figures:different periods (9 months / 10 months)"},
		{en("a", "Vietnamese class opens in Osaka", ""), en("b", "Vietnamese class opens in Fukuoka", ""),
			"place:different places (Osaka / Fukuoka)"},
		{vi("a", "Hải Phòng – Quảng Đông ký kết hợp tác", ""), vi("b", "Hải Phòng – Quảng Tây ký kết hợp tác", ""),
			"place:different places (Quảng Đông / Quảng Tây)"},
		{en("a", "Korean investors tour Hai Phong", ""), en("b", "Japanese investors tour Hai Phong", ""),
			"partner:different partners (Korean / Japanese)"},
		// Two donors of one amount: the amount is another's.
		{vi("a", "Doanh nghiệp Hàn Quốc ủng hộ 2,5 tỷ đồng khắc phục hậu quả bão", ""),
			vi("b", "Kiều bào ủng hộ 2,5 tỷ đồng khắc phục hậu quả bão", "Cộng đồng người Việt tại Séc và Ba Lan quyên góp."),
			"amount:the amount in common is another partner's"},
		// Two companies, one amount: the title that names a country is
		// held to the company its lead names.
		{vi("a", "Pegatron tăng vốn thêm 300 triệu USD", "Pegatron nhận giấy chứng nhận điều chỉnh."),
			vi("b", "Khu công nghiệp đón dự án 300 triệu USD của Nhật Bản", "Công ty Kanemitsu Automotive nhận giấy chứng nhận."),
			"partner:different partners (Pegatron / Kanemitsu Automotive)"},
		// A statistic against an event that quotes the same figure.
		{vi("a", "Vốn đầu tư của Nhật Bản vào Hải Phòng đạt 5,2 tỷ USD", "Nhật Bản có 280 dự án."),
			en("b", "Hai Phong meets Japanese businesses at Hanoi conference", "Japan is the third largest investor with 280 projects worth 5.2 billion USD."),
			"action:different events (đạt / conference, meets)"},
		// One official, one day, two audiences.
		{vi("a", "Thành phố gặp mặt kiều bào tiêu biểu cuối năm", ""), vi("b", "Thành phố gặp mặt doanh nghiệp FDI cuối năm", ""),
			"partner:different partners (kiều bào / doanh nghiệp FDI)"},
	}
	for _, c := range cases {
		if got := against(d.Compare(c.a, c.b)); !slices.Contains(got, c.want) {
			t.Errorf("%q ~ %q: against %v lacks %q", c.a.Title, c.b.Title, got, c.want)
		}
	}
	// Not different partners: a company against the country it comes
	// from (a name of Vietnamese syllables may be another spelling of
	// the company), and a foreign name after "in", "tại" (a place).
	for _, c := range [][2]Item{
		{vi("a", "Khởi công nhà máy lốp xe Hằng Phong", "Công ty Lốp xe Hằng Phong khởi công nhà máy 750 triệu USD."),
			en("b", "Construction starts on 750 million USD Chinese tyre plant", "Work began on the Hengfeng Tyre factory.")},
		{en("a", "Vietnamese in Poland open cultural centre in Warsaw", ""), vi("b", "Khai trương trung tâm văn hóa Việt Nam tại Warszawa", "")},
	} {
		if got := against(d.Compare(c[0], c[1])); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "partner:") }) {
			t.Errorf("%q ~ %q: against %v", c[0].Title, c[1].Title, got)
		}
	}
}

func TestStaffGazetteerExtendsTheShippedOne(t *testing.T) {
	a := vi("a", "Tập đoàn Hoa Sen Phương Nam mở nhà máy", "")
	b := en("b", "Southern Lotus Group opens plant", "")
	if got := shared(Default().Compare(a, b)); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "company:") }) {
		t.Fatalf("shipped gazetteer already knows the company: %v", got)
	}
	d, err := newDetector(Config{Gazetteer: "staff.txt"}, []byte(
		"# staff additions\ncompany hoa-sen 2: Tập đoàn Hoa Sen Phương Nam | Southern Lotus Group\n"+
			"country korea: Đại Hàn\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := shared(d.Compare(a, b)); !slices.Contains(got, "company:Tập đoàn Hoa Sen Phương Nam = Southern Lotus Group") {
		t.Errorf("staff entry not used: %v", got)
	}
	// A variant added to a shipped entry joins it.
	if got := shared(d.Compare(vi("a", "Doanh nghiệp Đại Hàn", ""), en("b", "Korean firms", ""))); !slices.Contains(got, "country:Đại Hàn = Korean") {
		t.Errorf("added variant not used: %v", got)
	}
	if d.Fingerprint() == Default().Fingerprint() {
		t.Error("the fingerprint does not change with the staff gazetteer")
	}
}

func TestGazetteerErrorsNameTheLine(t *testing.T) {
	cases := []struct{ text, want string }{
		{"place x: A\nplaces y: B\n", "gazetteer staff.txt: line 2: unknown kind \"places\" (want one of common, country, place, body, company, event, action, topic, unit, edition, community, term, sector)"},
		{"# c\n\nplace y B\n", "gazetteer staff.txt: line 3: want KIND KEY [WEIGHT]: VARIANT | VARIANT ..., found no colon"},
		{"place y: A || B\n", "gazetteer staff.txt: line 1: variant 2 is empty"},
		{"place y:\n", "gazetteer staff.txt: line 1: place \"y\" has no variants after the colon"},
		{"place y: Nam Ninh [tones]\n", "gazetteer staff.txt: line 1: variant \"Nam Ninh [tones]\": fold [tones]: want [marks], [exact], [plain], [ascii] or [auto]"},
		{"place y 11: A\n", "gazetteer staff.txt: line 1: weight 11 must be between 0 and 10"},
		{"unit y 2: A\n", "gazetteer staff.txt: line 1: a unit entry takes no weight"},
		{"edition y: fr example.fr/*\n", "gazetteer staff.txt: line 1: edition \"fr example.fr/*\": want the language (vi or en), a space and a URL pattern such as en.vietnamplus.vn/*"},
		{"edition y: vi a.vn/{id}/{id}\n", "gazetteer staff.txt: line 1: edition \"vi a.vn/{id}/{id}\": {id} may appear once"},
		{"place y: ---\n", "gazetteer staff.txt: line 1: variant \"---\": no words to match"},
		{"place y\n", "gazetteer staff.txt: line 1: want KIND KEY [WEIGHT]: VARIANT | VARIANT ..., found no colon"},
		{"place: A\n", "gazetteer staff.txt: line 1: want KIND KEY [WEIGHT] before the colon, found \"place\""},
	}
	for _, c := range cases {
		_, err := newDetector(Config{Gazetteer: "staff.txt"}, []byte(c.text))
		if err == nil || err.Error() != "stories.gazetteer: "+c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.text, err, c.want)
		}
	}
	if _, err := New(Config{Gazetteer: "/nonexistent/staff.txt"}); err == nil || !strings.HasPrefix(err.Error(), "stories.gazetteer: open /nonexistent/staff.txt") {
		t.Errorf("missing file: %v", err)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Threshold: -1}, "stories.threshold: must be a positive number, got -1"},
		{Config{Threshold: 4, Suggest: 5}, "stories.suggest: must be between 0 and the threshold (4), got 5"},
		{Config{Suggest: 6}, "stories.suggest: must be between 0 and the threshold (5), got 6"},
		{Config{MaxDaysApart: -2}, "stories.max_days_apart: must be 0 (the default, 7) or more, got -2"},
	} {
		if _, err := newDetector(c.cfg, nil); err == nil || err.Error() != c.want {
			t.Errorf("config %+v: %v, want %s", c.cfg, err, c.want)
		}
		if err := c.cfg.Validate(); err == nil || err.Error() != c.want {
			t.Errorf("Validate %+v: %v, want %s", c.cfg, err, c.want)
		}
	}
	if err := (Config{Threshold: 2}).Validate(); err != nil {
		t.Errorf("a threshold under the default suggestion: %v (the suggestion follows it down)", err)
	}
}

// What happened is read from the titles: a title that names no action
// stands for its lead's against a title that names one, but two leads
// alone do not count against a pair (a lead mentions several things).
func TestActionsFromTitlesAndLeads(t *testing.T) {
	d := Default()
	week := vi("a", "Tuần Văn hóa Nhật Bản tại Hải Phòng", "Tuần Văn hóa Nhật Bản đã khai mạc tại Nhà hát thành phố.")
	weekEn := en("b", "Japan Culture Week in Hai Phong", "The week features a Japanese film festival and a photo exhibition.")
	if got := against(d.Compare(week, weekEn)); len(got) != 0 {
		t.Errorf("two leads naming different actions count against: %v", got)
	}
	licence := vi("c", "LG Display tăng vốn thêm 1,4 tỷ USD", "Ban Quản lý Khu kinh tế trao giấy chứng nhận đăng ký đầu tư điều chỉnh.")
	application := vi("d", "LG Display xin tăng vốn thêm 1,4 tỷ USD", "Doanh nghiệp đã nộp hồ sơ.")
	if got := against(d.Compare(licence, application)); !slices.Contains(got, "action:different events (giấy chứng nhận đăng ký đầu tư / xin tăng vốn)") {
		t.Errorf("a title's action against the other's lead: %v", got)
	}
}

func TestCountsOfDifferentThings(t *testing.T) {
	d := Default()
	dec := d.Compare(vi("a", "Gặp mặt 200 kiều bào", ""), vi("b", "Gặp mặt 200 doanh nghiệp", ""))
	for _, e := range dec.For {
		if e.Kind == "number" {
			t.Errorf("200 overseas Vietnamese and 200 businesses counted as one figure: %s", dec.Explanation)
		}
	}
	dec = d.Compare(vi("a", "Nhà máy sử dụng 1.500 lao động", ""), en("b", "The plant has 1,500 staff", ""))
	if !slices.Contains(shared(dec), "number:1,500 workers") {
		t.Errorf("a count and the same number of things not named: %v", shared(dec))
	}
}
