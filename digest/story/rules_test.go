package story

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// hasKind reports whether some evidence of the list ("kind:text") has
// the kind and contains text.
func hasKind(list []string, kind, text string) bool {
	return slices.ContainsFunc(list, func(s string) bool {
		return strings.HasPrefix(s, kind+":") && strings.Contains(s, text)
	})
}

// A country a lead names as an export market is not who acts: the
// Taiwanese plant whose output goes to the US is not a US investor's, so
// the amount and the company both versions name still count.
func TestExportMarketIsNotAPartner(t *testing.T) {
	d := Default()
	plant := vi("a", "Nhà máy Delta Bright Textile chính thức đi vào hoạt động",
		"Dự án có tổng vốn đầu tư 150 triệu USD, phần lớn sản phẩm xuất khẩu sang Mỹ và châu Âu.")
	report := en("b", "Taiwanese-invested textile plant inaugurated in Hai Phong",
		"Delta Bright Textile Vietnam put into operation its US$150 million yarn and fabric factory.")
	dec := d.Compare(plant, report)
	if hasKind(against(dec), "partner", "") || hasKind(against(dec), "amount", "") || !dec.Same {
		t.Errorf("an export market counted as the investor: %s", dec.Explanation)
	}
	// The same country as the investor still counts against another one.
	investor := vi("c", "Nhà máy 150 triệu USD chính thức đi vào hoạt động", "Dự án của nhà đầu tư Mỹ tại KCN Deep C.")
	if got := against(d.Compare(investor, report)); !hasKind(got, "partner", "Mỹ") {
		t.Errorf("a US investor against a Taiwanese one: against %v", got)
	}
	for _, c := range []struct{ text, country string }{
		{"xuất khẩu sang Mỹ và châu Âu", "Mỹ"},
		{"exports to the US and Europe", "US"},
		{"hàng hóa vào thị trường Nhật Bản", "Nhật Bản"},
		{"products for the Japanese market", "Japanese"},
	} {
		x := d.prepare(Item{ID: "x", Lang: map[bool]string{true: "vi", false: "en"}[strings.ContainsAny(c.text, "ấẩạ")], Title: "Nhà máy mới", Summary: c.text})
		if !x.partners[partnerCountry].empty() {
			t.Errorf("%q: %s is a partner", c.text, c.country)
		}
	}
}

// A zone's acronym and a name before "Industrial Zones" are places, not
// who acts; the free trade zone is one place in both languages.
func TestZonesAreNotPartners(t *testing.T) {
	d := Default()
	ftz := en("a", "Hai Phong FTZ hands out its first investment certificates",
		"The Hai Phong Economic Zone Authority licensed three projects with combined capital of $2.1 billion in the free trade zone.")
	lands := en("b", "Hai Phong free trade zone lands first three investors worth $2.1 billion",
		"A Singaporean logistics firm, a Japanese data centre consortium and a Chinese warehouse operator became the first investors.")
	dec := d.Compare(ftz, lands)
	if hasKind(against(dec), "partner", "") || !hasKind(shared(dec), "place", "FTZ = free trade zone") || !dec.Same {
		t.Errorf("a zone's acronym is a partner: %s", dec.Explanation)
	}
	x := d.prepare(en("c", "Water reuse plant opens", "The plant at DEEP C Industrial Zones recycles wastewater."))
	if !x.partners[partnerName].empty() {
		t.Errorf("a zone's name is who acts: %s", x.partnerList(partnerName))
	}
}

// A signing happens at a working session, a visit, a meeting or a
// conference: they are one event, not two.
func TestSigningIsOneEventWithItsMeeting(t *testing.T) {
	d := Default()
	signed := en("a", "Hai Phong, China's Guangxi sign cooperation plan for 2027-2028", "The plan covers logistics and tourism.")
	session := vi("b", "Hải Phòng và Quảng Tây ký kế hoạch hợp tác giai đoạn 2027 – 2028",
		"Chiều 13/4, lãnh đạo thành phố tiếp và làm việc với đoàn đại biểu Quảng Tây (Trung Quốc).")
	if got := against(d.Compare(signed, session)); hasKind(got, "action", "") {
		t.Errorf("a signing against the working session it happened at: %v", got)
	}
	lead := vi("c", "Hải Phòng và Quảng Tây ký kế hoạch hợp tác", "")
	if x := d.prepare(lead); !x.titleAction {
		t.Error("'ký' does not name the signing")
	}
	if x := d.prepare(vi("d", "Vốn đăng ký đạt 2 tỷ USD", "")); slices.ContainsFunc(x.ents, func(h entHit) bool { return d.gaz.entries[h.entry].key == "signing" }) {
		t.Error("'đăng ký' (registered) names a signing")
	}
}

// Dates of the event: "on Thursday" is the last Thursday up to the day
// the item was published; "until 11 December" ends a period and does not
// name the day of the event; two items naming different days of their
// events count that against.
func TestEventDates(t *testing.T) {
	d := Default()
	thursday := time.Date(2027, 2, 18, 10, 0, 0, 0, vietnamTime) // a Thursday
	lands := en("a", "Free trade zone lands first three investors", "Three firms became the first investors in the zone on Thursday.")
	lands.Published = thursday.AddDate(0, 0, 1)
	handed := vi("b", "Khu thương mại tự do trao chứng nhận cho 3 nhà đầu tư đầu tiên", "Sáng 18/2, ba dự án đầu tiên nhận giấy chứng nhận.")
	handed.Published = thursday
	if dec := d.Compare(lands, handed); !hasKind(shared(dec), "date mentioned", "18 Feb") {
		t.Errorf("'on Thursday' published on Friday 19 Feb is not 18/2: %v", shared(dec))
	}
	if got := figures(d, "vi", "Ngày 26-27/12, hội nghị diễn ra"); got != "date 26 Dec; date 27 Dec" {
		t.Errorf("a range of days: %s", got)
	}
	if got := figures(d, "en", "on December 26-27"); got != "date 26 Dec; date 27 Dec" {
		t.Errorf("a range of days: %s", got)
	}
	if got := figures(d, "en", "licensed on Oct. 15, 2026"); got != "date 15 Oct; year 2026" {
		t.Errorf("an abbreviated month: %s", got)
	}
	if got := figures(d, "vi", "Sáng 14-3-2027, tại Seoul, tỷ số 2-1"); got != "date 14 Mar; date morning 14 Mar; number 2; number 1" {
		t.Errorf("a hyphenated date: %s", got)
	}

	opens := vi("c", "Tuần Văn hóa Nhật Bản khai mạc", "Tối 5/12, Tuần Văn hóa Nhật Bản đã khai mạc tại Nhà hát thành phố.")
	runs := en("d", "Japan Culture Week in Hai Phong", "The week, running until December 11, features tea ceremony demonstrations.")
	if got := against(d.Compare(opens, runs)); hasKind(got, "figures", "dates") {
		t.Errorf("the end of the week against its opening day: %v", got)
	}
	other := vi("e", "Ngày hội Văn hóa Hàn Quốc khai mạc", "Tối 8/12, Ngày hội Văn hóa Hàn Quốc khai mạc tại Nhà hát thành phố.")
	if got := against(d.Compare(opens, other)); !slices.Contains(got, "figures:different dates (5 Dec / 8 Dec)") {
		t.Errorf("two events on different days: against %v", got)
	}
}

// An action a lead announces for later is not what the item reports.
func TestPlannedActionsAreNotEvents(t *testing.T) {
	d := Default()
	follow := vi("a", "Doanh nghiệp Đài Loan quan tâm lĩnh vực bán dẫn tại Hải Phòng",
		"Sau hội nghị tại Đài Bắc, nhiều nhà đầu tư đã đặt lịch khảo sát khu công nghiệp DEEP C trong quý tới.")
	survey := vi("b", "Đoàn doanh nghiệp Đài Loan khảo sát KCN DEEP C", "Đoàn 35 doanh nghiệp đã khảo sát quỹ đất tại DEEP C.")
	dec := d.Compare(follow, survey)
	if hasKind(shared(dec), "action", "khảo sát") || dec.Same {
		t.Errorf("a planned survey counted as the survey: %s", dec.Explanation)
	}
}

// Titles that say the same who and what, with nothing against them,
// count for; the words of the news count across languages; titles naming
// different products, counts or cities, or different events even where
// one lead recalls the other's, count against.
func TestTitlesAndTerms(t *testing.T) {
	d := Default()
	club := vi("a", "Ra mắt Câu lạc bộ Doanh nhân Hải Phòng tại Hàn Quốc", "Câu lạc bộ có 45 thành viên sáng lập.")
	clubEn := en("b", "Hai Phong business club launched in RoK", "A club of entrepreneurs from Hai Phong made its debut with 45 founding members.")
	dec := d.Compare(club, clubEn)
	for _, want := range []string{"titles:both titles: Ra mắt, Hàn Quốc", "term:club", "term:members"} {
		if !slices.Contains(shared(dec), want) {
			t.Errorf("club: %v lacks %q", shared(dec), want)
		}
	}
	if !dec.Same {
		t.Errorf("club: %s", dec.Explanation)
	}
	// Same language: terms count half as much (wording counts there).
	sameLang := d.Compare(en("c", "Business club launched", "The club has founding members."), en("d", "New club for entrepreneurs", "Members of the club met."))
	total := 0.0
	for _, e := range sameLang.For {
		if e.Kind == "term" {
			total += e.Weight
		}
	}
	if total > maxTerms/2 {
		t.Errorf("terms in one language count %v, more than %v", total, maxTerms/2)
	}

	for _, c := range []struct {
		a, b Item
		want string
	}{
		{vi("a", "Động thổ nhà máy lốp xe vốn Trung Quốc 750 triệu USD", ""), en("b", "Chinese solar glass maker picks Hai Phong for $750 million plant", ""),
			"sector:different products (lốp xe / solar)"},
		{vi("a", "Hải Phòng hỗ trợ 150 lao động về nước tìm việc làm", ""), vi("b", "Tuyển 300 lao động đi làm việc tại Hàn Quốc", ""),
			"figures:different counts (150 workers / 300 workers)"},
		{vi("a", "Thanh niên Hải Phòng giao lưu hữu nghị tại Bắc Hải (Quảng Tây)", ""), en("b", "Youth of Hai Phong and Fangchenggang strengthen friendship", "Young people from Guangxi."),
			"place:different places (Bắc Hải / Fangchenggang)"},
		{vi("a", "Động thổ dự án lốp xe 750 triệu USD", "Dự án được trao giấy chứng nhận đầu tư tháng 10."), vi("b", "Trao giấy chứng nhận đầu tư dự án lốp xe 750 triệu USD", ""),
			"action:titles name different events (Động thổ / giấy chứng nhận đầu tư)"},
	} {
		if got := against(d.Compare(c.a, c.b)); !slices.Contains(got, c.want) {
			t.Errorf("%q ~ %q: against %v lacks %q", c.a.Title, c.b.Title, got, c.want)
		}
	}
	// A company's name keeps the common noun that ends it.
	if x := d.prepare(vi("e", "Nhà máy mới", "Công ty TNHH Delta Bright Textile Việt Nam khánh thành nhà máy.")); !strings.Contains(x.partnerList(partnerName), "Delta Bright Textile") {
		t.Errorf("'Textile' cut from the company's name: %q", x.partnerList(partnerName))
	}
}

// The vi and en editions of more publishers are known by their links.
func TestMoreEditions(t *testing.T) {
	d := Default()
	for _, c := range [][2]string{
		{"https://nhandan.vn/hai-phong-abc-post1.html", "https://en.nhandan.vn/hai-phong-xyz-post2.html"},
		{"https://vov.vn/kinh-te/abc-post1.vov", "https://english.vov.vn/en/economy/xyz-post2.vov"},
		{"https://tuoitre.vn/abc-2027.htm", "https://news.tuoitre.vn/xyz-2027.htm"},
		{"https://vnexpress.net/abc-1.html", "https://e.vnexpress.net/news/xyz-2.html"},
	} {
		a, b := vi("a", "Tin Hải Phòng", ""), en("b", "Hai Phong news", "")
		a.URL, b.URL = c[0], c[1]
		if !hasKind(shared(d.Compare(a, b)), "edition", "vi and en editions") {
			t.Errorf("%s ~ %s: not the two editions of one publisher", c[0], c[1])
		}
	}
	a, b := vi("a", "Gặp mặt kiều bào", ""), en("b", "Hai Phong meets overseas Vietnamese", "")
	a.URL = "https://haiphong.gov.vn/tin-tuc-su-kien/gap-mat-kieu-bao-812419.html"
	b.URL = "https://haiphong.gov.vn/en/news/hai-phong-meets-overseas-vietnamese-812419.html"
	if !hasKind(shared(d.Compare(a, b)), "edition", "one article (812419)") {
		t.Error("the portal's news pages in both languages are not one article")
	}
}

func on(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, vietnamTime) }

// Another occurrence of what recurs is another story whatever else the
// items share: another day (or time of one day) of one trip, another year
// of a summer camp, another edition of a fair, another period of the
// statistics. The pair is ruled out, with the reason; the same occurrence
// told in each language's way is not.
func TestAnotherOccurrenceIsAnotherStory(t *testing.T) {
	d := Default()
	dated := func(it Item, t time.Time) Item { it.Published = t; return it }
	undated := func(it Item) Item { it.Published = time.Time{}; return it }
	meeting := dated(vi("m", "Bí thư Thành ủy Hải Phòng hội kiến Bí thư Khu ủy Quảng Tây",
		"Chiều 17/9, nhân dịp dự Hội chợ Trung Quốc – ASEAN lần thứ 24 tại Nam Ninh, hai bên nhất trí thúc đẩy kết nối đường sắt, đường biển."), on(2027, 9, 17))
	signing := dated(vi("s", "Hải Phòng trao 9 thỏa thuận hợp tác trị giá 1,2 tỷ USD tại Nam Ninh",
		"Chiều 18/9, bên lề Hội chợ Trung Quốc – ASEAN lần thứ 24, thành phố tổ chức hội nghị xúc tiến đầu tư tại Nam Ninh (Quảng Tây)."), on(2027, 9, 18))
	camp2026 := undated(vi("c6", "Trại sinh Trại hè Việt Nam 2026 trải nghiệm tại Hải Phòng",
		"Khoảng 120 thanh thiếu niên kiều bào tham gia Trại hè Việt Nam 2026 đã đến thăm cảng Lạch Huyện và đảo Cát Bà."))
	camp := func(year string) Item {
		return dated(en("c7", "Overseas Vietnamese youths explore Hai Phong during summer camp",
			"Some 130 young overseas Vietnamese taking part in the "+year+" Vietnam Summer Camp visited Lach Huyen deep-water port and the Cat Ba archipelago."), on(2027, 7, 25))
	}
	licence := undated(vi("l", "Trao giấy chứng nhận đầu tư dự án lốp xe 750 triệu USD tại KCN Nam Đình Vũ",
		"Ngày 8/10, Ban Quản lý Khu kinh tế Hải Phòng trao giấy chứng nhận đầu tư cho dự án lốp xe vốn Trung Quốc."))
	groundbreaking := func(t time.Time) Item {
		return dated(vi("g", "Động thổ dự án lốp xe vốn Trung Quốc 750 triệu USD", "Dự án tại KCN Nam Đình Vũ có công suất 12 triệu lốp mỗi năm."), t)
	}
	cases := []struct {
		name string
		a, b Item
		veto string // "" when the pair must not be ruled out
	}{
		{"a meeting and the signing of the next day, on one trip", meeting, signing, "they report different dates (17 Sep / 18 Sep)"},
		{"a working session in the afternoon, a meeting that evening",
			vi("w", "Lãnh đạo thành phố làm việc với Tập đoàn LG tại Seoul", "Chiều 9/6, đoàn công tác thành phố đã làm việc với lãnh đạo Tập đoàn LG."),
			vi("e", "Lãnh đạo Hải Phòng gặp mặt cộng đồng người Việt tại Hàn Quốc", "Tối 9/6, đoàn công tác thành phố đã gặp mặt đại diện cộng đồng người Việt tại Seoul."),
			"they report different times of day (evening 9 Jun / afternoon 9 Jun)"},
		{"one evening in each language's words",
			vi("e", "Lãnh đạo Hải Phòng gặp mặt cộng đồng người Việt tại Hàn Quốc", "Tối 9/6, đoàn công tác thành phố đã gặp mặt đại diện cộng đồng người Việt tại Seoul."),
			en("f", "Hai Phong delegation meets Vietnamese community in RoK", "On the evening of June 9, the delegation met representatives of the Vietnamese community in Seoul."), ""},
		{"an undated camp of 2026 against the 2027 camp its lead names", camp2026, camp("2027"), "they report different years (2026 / 2027)"},
		{"the same camp", camp2026, camp("2026"), ""},
		{"a year of comparison in a lead is not the year of the event",
			vi("x8", "Xuất khẩu 8 tháng năm 2027 của Hải Phòng tăng 13,8%", ""),
			en("e8", "Hai Phong's exports up 13.8% in eight months", "Exports reached 38 billion USD, up 13.8% from the same period of 2026."), ""},
		{"two editions of the fair",
			vi("x", "Hải Phòng quảng bá sản phẩm tại Hội chợ Trung Quốc – ASEAN lần thứ 23", "Gian hàng của thành phố giới thiệu nước mắm Cát Hải."),
			en("y", "Hai Phong showcases products at 24th China-ASEAN Expo", "The city promotes Cat Hai fish sauce."), "they report different editions (23rd / 24th)"},
		{"two periods of the statistics",
			vi("h", "6 tháng, Hải Phòng thu hút 2,46 tỷ USD vốn FDI", ""), en("p", "Hai Phong's FDI tops 3.6 billion USD in eight months", ""),
			"they report different periods (6 months / 8 months)"},
		{"the first half in each language's words",
			vi("h", "6 tháng, Hải Phòng thu hút 2,46 tỷ USD vốn FDI", ""), en("q", "Chinese investors lead FDI inflows into Hai Phong in H1", ""), ""},
		{"an undated licence of 8 October against a groundbreaking reported in November",
			licence, groundbreaking(on(2026, 11, 12)), "l has no date; its event (8 Oct) and the publication of g are 35 days apart (more than 7)"},
		{"an undated report of 8 October against a report of 10 October", licence, groundbreaking(on(2026, 10, 10)), ""},
	}
	for _, c := range cases {
		dec := d.Compare(c.a, c.b)
		if dec.Veto != c.veto || c.veto != "" && (dec.Same || !strings.Contains(dec.Explanation, c.veto)) {
			t.Errorf("%s: veto %q, want %q\n  %s", c.name, dec.Veto, c.veto, dec.Explanation)
		}
	}
	// The different days keep the different events: a signing is one event
	// with a meeting only on one day.
	if got := against(d.Compare(meeting, signing)); !hasKind(got, "action", "different events") {
		t.Errorf("a meeting and the next day's signing are sides of one event: %v", got)
	}
	if got := shared(d.Compare(vi("h", "6 tháng, Hải Phòng thu hút 2,46 tỷ USD vốn FDI", ""), en("q", "Chinese investors lead FDI inflows into Hai Phong in H1", ""))); !slices.Contains(got, "number:6 months") {
		t.Errorf("'6 tháng' and 'H1' are not one period: %v", got)
	}
}

// A join never bridges two occurrences: a version that names no day of its
// event, close to both the meeting and the next day's signing of one trip,
// joins at most one of them, and the two stay apart.
func TestGroupNeverBridgesOccurrences(t *testing.T) {
	d := Default()
	meeting := vi("m", "Bí thư Thành ủy Hải Phòng hội kiến Bí thư Khu ủy Quảng Tây",
		"Chiều 17/9, nhân dịp dự Hội chợ Trung Quốc – ASEAN lần thứ 24 tại Nam Ninh, Bí thư Thành ủy Hải Phòng hội kiến Bí thư Khu ủy Quảng Tây; hai bên nhất trí thúc đẩy kết nối đường sắt và hợp tác công nghiệp điện tử.")
	signing := vi("s", "Hải Phòng trao 9 thỏa thuận hợp tác trị giá 1,2 tỷ USD tại Nam Ninh",
		"Chiều 18/9, bên lề Hội chợ Trung Quốc – ASEAN lần thứ 24, UBND thành phố tổ chức hội nghị xúc tiến đầu tư tại Nam Ninh (Quảng Tây, Trung Quốc).")
	vague := en("v", "Hai Phong, Guangxi Party chiefs agree to boost rail and sea links",
		"Nanning (VNA) – The Secretary of the Hai Phong Party Committee met the Secretary of the Guangxi Party Committee on the sidelines of the 24th China-ASEAN Expo in Nanning, agreeing to boost rail and sea connectivity and cooperation in electronics.")
	meeting.Published, signing.Published, vague.Published = on(2027, 9, 17), on(2027, 9, 18), on(2027, 9, 19)
	if dec := d.Compare(vague, signing); !dec.Same {
		t.Fatalf("setup: the vague version should match the signing by itself: %s", dec.Explanation)
	}
	if dec := d.Compare(vague, meeting); !dec.Same {
		t.Fatalf("setup: the vague version should match the meeting: %s", dec.Explanation)
	}
	g := mustGroup(t, d, []Item{signing, vague, meeting}, Constraints{})
	if s, _ := g.StoryOf("m"); slices.Contains(s.Items, "s") {
		t.Errorf("the meeting and the next day's signing joined: %v", storiesOf(g))
	}
	for _, s := range g.Suggestions {
		if s.A == "m" && s.B == "s" {
			t.Errorf("two days of one trip suggested as one story: %s", s.Explanation)
		}
	}
}

// A named recurring event is the setting of every event of one trip or
// programme, not one of them: sharing it alone does not make a weak pair
// plausible for a join. News agencies' credits are not who acts.
func TestNamedEventsAndCreditsAreSetting(t *testing.T) {
	d := Default()
	booth := d.prepare(vi("b", "Gian hàng Hải Phòng thu hút khách tại Hội chợ Trung Quốc – ASEAN", "Gian hàng giới thiệu nước mắm Cát Hải tại Nam Ninh."))
	talks := d.prepare(en("t", "Hai Phong leaders in Nanning for China-ASEAN Expo", "City leaders are in Nanning for the expo."))
	if s := d.score(booth, talks); s.specific {
		t.Errorf("the expo's name is specific to one of its events: %+v", s)
	}
	x := d.prepare(en("a", "Hai Phong lures nearly 2.5 billion USD in FDI in first half",
		"Hai Phong (VNA) – The northern port city attracted 2.46 billion USD in foreign direct investment in the first six months."))
	if !x.partners[partnerName].empty() {
		t.Errorf("the agency's credit is who acts: %s", x.partnerList(partnerName))
	}
	wvr := d.prepare(en("w", "Overseas Vietnamese in Poland visit Hai Phong", "WVR - A delegation of overseas Vietnamese businesspeople from Poland visited the city."))
	if !wvr.partners[partnerName].empty() {
		t.Errorf("the outlet's credit is who acts: %s", wvr.partnerList(partnerName))
	}
}

// "Hà" is one of the commonest syllables of Vietnamese names (Thanh Hà,
// Hà Nội, Thu Hà), not the hectare's abbreviation: a name that ends with
// it is compared whole.
func TestNamesEndingInHa(t *testing.T) {
	d := Default()
	dec := d.Compare(vi("a", "Xuất khẩu lô vải thiều Thanh Hà đầu tiên sang Nhật Bản", ""), en("b", "First batch of Thanh Ha lychees shipped to Japan", ""))
	if !slices.Contains(shared(dec), "name:Thanh Hà") {
		t.Errorf("'Thanh Hà' = 'Thanh Ha' not shared: %s", dec.Explanation)
	}
}

// Amounts in different currencies are amounts of different things (the
// economy's size in VND, the income per head in USD): they do not count
// against a pair. Amounts of one currency that differ still do.
func TestAmountsInDifferentCurrencies(t *testing.T) {
	d := Default()
	size := vi("a", "Kinh tế Hải Phòng năm 2027 tăng trưởng 11,6%",
		"GRDP năm 2027 ước tăng 11,6%, khu vực công nghiệp – xây dựng tăng 15,2%; quy mô GRDP đạt khoảng 760.000 tỷ đồng.")
	perHead := vi("b", "GRDP Hải Phòng năm 2027 ước tăng 11,6%",
		"Công nghiệp – xây dựng tăng 15,2%; GRDP bình quân đầu người ước đạt 7.900 USD.")
	otherSize := vi("c", "GRDP Hải Phòng năm 2027 ước tăng 11,6%",
		"Công nghiệp – xây dựng tăng 15,2%; quy mô GRDP đạt khoảng 690.000 tỷ đồng.")
	cases := []struct {
		name    string
		a, b    Item
		against bool // "different amounts" must be among the evidence against
	}{
		{"VND against USD in the leads", size, perHead, false},
		{"VND against VND in the leads", size, otherSize, true},
		{"USD against VND in the titles",
			en("d", "Hai Phong licenses 5.6 billion USD in new projects", ""),
			vi("e", "Hải Phòng cấp phép dự án mới 130.000 tỷ đồng", ""), false},
		{"USD against USD in the titles",
			en("d", "Hai Phong licenses 5.6 billion USD in new projects", ""),
			vi("f", "Hải Phòng cấp phép dự án mới 2,1 tỷ USD", ""), true},
	}
	for _, c := range cases {
		dec := d.Compare(c.a, c.b)
		if got := hasKind(against(dec), "figures", "different amounts"); got != c.against {
			t.Errorf("%s: different amounts %v, want %v: %s", c.name, got, c.against, dec.Explanation)
		}
	}
	if dec := d.Compare(size, perHead); !dec.Same {
		t.Errorf("one year's GRDP report with its size and its income per head: %s", dec.Explanation)
	}
}

// The Tet of a year has two names: the Gregorian year of its first day
// ("Xuân Quê hương 2028", "Lunar New Year 2028") and the lunar year's
// ("Xuân Mậu Thân", "Tết Nguyên đán Mậu Thân"). Both read as the year of
// that Tet; a lunar year's name is a date, not a proper name.
func TestTetYears(t *testing.T) {
	d := Default()
	cases := []struct {
		lang, text string
		published  time.Time
		want       []float64 // the years of Tet, in order
	}{
		{"vi", "Ấm áp chương trình gặp mặt kiều bào đón Xuân Mậu Thân", on(2028, 1, 17), []float64{2028}},
		{"vi", "Gặp mặt kiều bào về quê đón Tết Nguyên đán Mậu Thân 2028", on(2028, 1, 15), []float64{2028}},
		{"vi", "Kiều bào về quê đón Tết Mậu Thân", on(2027, 12, 20), []float64{2028}}, // published before that Tet
		{"vi", "Hải Phòng đón khách dịp Tết Đinh Mùi", on(2027, 2, 12), []float64{2027}},
		{"vi", "Gặp mặt đầu xuân Bính Ngọ", on(2026, 2, 20), nil}, // "xuân" not capitalised: the season
		{"vi", "Gặp mặt đầu năm, đón Xuân Bính Ngọ", on(2026, 2, 20), []float64{2026}},
		{"vi", "Vui Xuân Giáp Tý", on(2044, 1, 30), []float64{2044}},
		{"vi", "Hơn 200 kiều bào dự chương trình Xuân quê hương Hải Phòng 2028", on(2028, 1, 16), []float64{2028}},
		{"en", "Hai Phong to host Homeland Spring 2027", on(2026, 12, 1), []float64{2027}},
		{"en", "Hai Phong meets overseas Vietnamese ahead of Lunar New Year 2027", on(2027, 2, 1), []float64{2027}},
		{"vi", "Xuân Mậu Thân", time.Time{}, nil}, // undated: a lunar name repeats every 60 years
		{"vi", "Tết Trung thu 2027 cho thiếu nhi", on(2027, 9, 10), nil},
		{"vi", "Tết Dương lịch 2028", on(2027, 12, 30), nil},
		{"vi", "Thủ tướng Nguyễn Xuân Phúc thăm Nhật Bản 2022", on(2022, 5, 1), nil},
		{"vi", "Tân Thân", on(2028, 1, 1), nil}, // no such year: stems and branches of one parity
		{"vi", "Xuân Mau Than đến với Hải Phòng", on(2028, 1, 1), nil},
	}
	for _, c := range cases {
		x := d.prepare(Item{ID: "x", Lang: c.lang, Title: c.text, Published: c.published})
		var got []float64
		for _, q := range x.quants {
			if q.kind == qYear && q.unit == yearTet {
				got = append(got, q.value)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: Tet of %v, want %v", c.text, got, c.want)
		}
	}

	dated := func(it Item, t time.Time) Item { it.Published = t; return it }
	lunar := dated(vi("a", "Hải Phòng: Ấm áp chương trình gặp mặt kiều bào đón Xuân Mậu Thân",
		"Chương trình gặp mặt kiều bào do UBND thành phố tổ chức đã quy tụ hơn 200 bà con từ 18 quốc gia và vùng lãnh thổ."), on(2028, 1, 17))
	written := dated(vi("b", "Hơn 200 kiều bào dự chương trình Xuân quê hương Hải Phòng 2028",
		"Phát biểu tại chương trình, Chủ tịch UBND thành phố ghi nhận những đóng góp của cộng đồng người Hải Phòng ở nước ngoài."), on(2028, 1, 16))
	if dec := d.Compare(lunar, written); !hasKind(shared(dec), "date mentioned", "Tết 2028") {
		t.Errorf("Xuân Mậu Thân and Xuân 2028 are not one Tet: %s", dec.Explanation)
	}
	lastYear := dated(vi("c", "Thành phố gặp mặt kiều bào nhân dịp Xuân Đinh Mùi",
		"Chương trình gặp mặt kiều bào do UBND thành phố tổ chức đã quy tụ hơn 200 bà con từ 18 quốc gia và vùng lãnh thổ."), on(2028, 1, 17))
	if dec := d.Compare(lastYear, written); !strings.Contains(dec.Veto, "different years") {
		t.Errorf("Xuân Đinh Mùi and Xuân 2028 are one Tet: %s", dec.Explanation)
	}
	for _, r := range d.prepare(lunar).runs {
		if strings.Contains(r.text, "Mậu") {
			t.Errorf("a lunar year's name is a proper name: %q", r.text)
		}
	}
}

// readsAs reports whether prepare finds the gazetteer entry kind/key in
// the item.
func readsAs(d *Detector, it Item, k kind, key string) bool {
	x := d.prepare(it)
	return slices.ContainsFunc(x.ents, func(h entHit) bool {
		e := d.gaz.entries[h.entry]
		return e.kind == k && e.key == key
	})
}

// "Meet" is a meeting only when people meet: to meet a demand, a need, a
// requirement or a standard is to satisfy it.
func TestMeetIsAMeetingOnlyWithPeople(t *testing.T) {
	d := Default()
	for _, c := range []struct {
		title   string
		meeting bool
	}{
		{"Hai Phong leaders meet overseas Vietnamese ahead of Tet", true},
		{"Chairman meets Japanese ambassador", true},
		{"Hai Phong delegation meets Vietnamese community in RoK", true},
		{"Party chief meets investors to discuss demand for power", true},
		{"New berths to meet growing demand at Lach Huyen port", false},
		{"Exporters race to meet EU requirements on traceability", false},
		{"Vocational schools meet the needs of FDI firms", false},
		{"Hai Phong seafood meets international standards", false},
		{"City meets its FDI target two months early", false},
		{"Suppliers struggle to meet rising demand for chips", false},
		{"Training programme meets investors' demand for skilled workers", false},
		{"Lychees are treated to meet the market's quarantine requirements", false},
	} {
		if got := readsAs(d, en("a", c.title, ""), kindAction, "meeting"); got != c.meeting {
			t.Errorf("%q: a meeting %v, want %v", c.title, got, c.meeting)
		}
	}
}

// The Vietnamese community abroad ("cộng đồng người Việt", "Vietnamese
// community") is the people involved, as "kiều bào" and "overseas
// Vietnamese" are: a community that acts, not an organisation (an
// association of Vietnamese, "Hội người Việt Nam", is one).
func TestVietnameseCommunityIsACommunity(t *testing.T) {
	d := Default()
	for _, c := range []struct {
		it              Item
		community, body bool
	}{
		{vi("a", "Lãnh đạo Hải Phòng gặp mặt cộng đồng người Việt tại Hàn Quốc", ""), true, false},
		{en("b", "Hai Phong delegation meets Vietnamese community in RoK", ""), true, false},
		{en("c", "Vietnamese communities in Europe raise funds for storm victims", ""), true, false},
		{vi("d", "Hội người Việt Nam tại Séc tặng quà học sinh vùng bão", ""), false, true},
		{en("e", "Association of Vietnamese in Germany marks 20 years", ""), false, true},
	} {
		community := readsAs(d, c.it, kindCommunity, "diaspora")
		body := readsAs(d, c.it, kindBody, "association")
		if community != c.community || body != c.body {
			t.Errorf("%q: community %v, body %v; want %v, %v", c.it.Title, community, body, c.community, c.body)
		}
	}
	// Who acts: the community one title names is the overseas Vietnamese
	// another names.
	vn := vi("f", "Kiều bào tại Đức quyên góp ủng hộ đồng bào vùng bão", "")
	en := en("g", "Vietnamese community in Germany raises funds for storm victims", "")
	if dec := d.Compare(vn, en); !hasKind(shared(dec), "community", "") || hasKind(against(dec), "partner", "") {
		t.Errorf("kiều bào and the Vietnamese community are different partners: %s", dec.Explanation)
	}
	if x := d.prepare(en); x.partners[partnerCommunity].empty() {
		t.Error("the Vietnamese community is not who acts")
	}
}

// amountCase is a text and the one amount it states, as read.
type amountCase struct{ lang, text, want string }

// checkAmounts reads each text as a lead and wants its one amount.
func checkAmounts(t *testing.T, d *Detector, title string, cases []amountCase) {
	t.Helper()
	for _, c := range cases {
		x := d.prepare(Item{ID: "x", Lang: c.lang, Title: title, Summary: c.text})
		if len(x.money) != 1 || x.money[0].String() != c.want {
			t.Errorf("%q: amounts %s, want %s", c.text, quantityList(x.money), c.want)
		}
	}
}

// checkKindsOfAmounts wants no different amounts between a total and a
// part (of another kind), and different amounts between two parts of one
// kind.
func checkKindsOfAmounts(t *testing.T, d *Detector, total, part, otherPart Item, kind string) {
	t.Helper()
	if got := against(d.Compare(total, part)); hasKind(got, "figures", "different amounts") {
		t.Errorf("a total and an amount %s are different amounts: %v", kind, got)
	}
	if got := against(d.Compare(part, otherPart)); !hasKind(got, "figures", "different amounts") {
		t.Errorf("two amounts %s are not different amounts: %v", kind, got)
	}
}

// An amount per person is of another kind than a total: the income per
// head and the economy's size, in one currency, are not different
// amounts; two incomes per head are.
func TestAmountsPerHead(t *testing.T) {
	d := Default()
	checkAmounts(t, d, "Kinh tế", []amountCase{
		{"vi", "GRDP bình quân đầu người ước đạt 7.900 USD.", "7,900 USD/head"},
		{"vi", "Thu nhập bình quân 120 triệu đồng/người mỗi năm.", "120 million VND/head"},
		{"en", "Per capita GRDP reached US$7,900.", "7,900 USD/head"},
		{"en", "GRDP reached US$7,900 per capita.", "7,900 USD/head"},
		{"vi", "Quy mô GRDP đạt khoảng 760.000 tỷ đồng.", "760 trillion VND"},
		{"en", "The capital per project is US$12 million.", "12 million USD"},
	})
	size := vi("a", "Kinh tế Hải Phòng năm 2027 tăng trưởng 11,6%", "Quy mô GRDP đạt khoảng 760.000 tỷ đồng.")
	income := vi("b", "Kinh tế Hải Phòng năm 2027 tăng trưởng 11,6%", "Thu nhập bình quân đầu người đạt 180 triệu đồng.")
	otherIncome := vi("c", "Kinh tế Hải Phòng năm 2027 tăng trưởng 11,6%", "Thu nhập bình quân đầu người đạt 150 triệu đồng.")
	checkKindsOfAmounts(t, d, size, income, otherIncome, "per head")
}

// The amount of each of several things is of another kind than the
// total: "120 suất học bổng, mỗi suất 5 triệu đồng" and "600 million VND"
// are not different amounts; the amounts of each in two items are
// compared, and "mới" (new), which folds like "mỗi", makes no part.
func TestAmountsPerItem(t *testing.T) {
	d := Default()
	checkAmounts(t, d, "Học bổng", []amountCase{
		{"vi", "Mỗi suất học bổng 5 triệu đồng được trao tận tay 120 học sinh.", "5 million VND/each"},
		{"vi", "Hội trao 120 suất học bổng, trị giá 5 triệu đồng mỗi suất.", "5 million VND/each"},
		{"vi", "Hội trao 120 suất học bổng, mỗi suất trị giá 5 triệu đồng.", "5 million VND/each"},
		{"vi", "Học bổng trị giá 5 triệu đồng/suất.", "5 million VND/each"},
		{"en", "It presented 120 scholarships of VND5 million each.", "5 million VND/each"},
		{"en", "It presented 120 scholarships worth VND5 million per scholarship.", "5 million VND/each"},
		{"en", "Each scholarship is worth VND5 million.", "5 million VND/each"},
		{"vi", "Có thêm 9 dự án cấp mới và dự án tăng vốn 1 tỷ USD.", "1 billion USD"},
		{"vi", "Mỗi năm, thành phố chi 500 tỷ đồng.", "500 billion VND"},
		{"vi", "Thành phố chi 500 tỷ đồng mỗi năm.", "500 billion VND"},
		{"en", "The city spends VND500 billion per year.", "500 billion VND"},
		{"vi", "Thu nhập 120 triệu đồng mỗi người.", "120 million VND/head"},
		{"en", "The capital per project is US$12 million.", "12 million USD"},
	})
	total := vi("a", "Hội người Hải Phòng tại CHLB Đức trao 120 suất học bổng",
		"Ngày 5/3, Hội người Hải Phòng tại CHLB Đức trao 120 suất học bổng trị giá 600 triệu đồng cho học sinh nghèo.")
	each := vi("b", "Kiều bào tại Đức tiếp sức học sinh nghèo",
		"Mỗi suất học bổng 5 triệu đồng được Hội người Hải Phòng tại CHLB Đức trao tận tay 120 học sinh hôm 5/3.")
	otherEach := vi("c", "Kiều bào tại Đức tiếp sức học sinh nghèo",
		"Mỗi suất học bổng 3 triệu đồng được Hội người Hải Phòng tại CHLB Đức trao tận tay 120 học sinh hôm 5/3.")
	checkKindsOfAmounts(t, d, total, each, otherEach, "of each")
}

// Who acts is not read into a unit or a body of the city: "TEUs" after a
// number is a unit, and a name just after the home city's ("Hai Phong
// Maritime Administration", "Hai Phong Children's Hospital") is the
// English name of one of the city's own bodies, which the Vietnamese
// version words its own way, not a foreign partner.
func TestUnitsAndCityBodiesAreNotPartners(t *testing.T) {
	d := Default()
	for _, it := range []Item{
		en("a", "Cargo Through Hai Phong Seaports Up 14 Percent in Q1",
			"Seaports in Hai Phong handled 52.4 million tonnes of cargo, including 1.9 million TEUs of containers, the Hai Phong Maritime Administration reported."),
		en("b", "Businessman Donates Medical Equipment to Hai Phong Children's Hospital",
			"He handed over ventilators worth VND5 billion to Hai Phong Children's Hospital."),
	} {
		if x := d.prepare(it); !x.partners[partnerName].empty() {
			t.Errorf("%q: partners %s", it.Title, x.partnerList(partnerName))
		}
	}
	// A foreign company stays who acts, before or after the city's name.
	for _, it := range []Item{
		en("c", "Pegatron Opens Second Plant in Hai Phong", "Taiwan's Pegatron opened its second plant in Hai Phong."),
		en("d", "Kyocera Hai Phong Expands Plant", "The plant of Kyocera Hai Phong will grow."),
	} {
		if x := d.prepare(it); x.partners[partnerName].empty() {
			t.Errorf("%q: no partner", it.Title)
		}
	}
	port := vi("e", "Sản lượng hàng qua cảng Hải Phòng quý I đạt 52,4 triệu tấn",
		"Quý I/2028, sản lượng hàng hóa thông qua các cảng biển Hải Phòng đạt 52,4 triệu tấn, tăng 14% so với cùng kỳ; hàng container đạt 1,9 triệu TEU.")
	portEn := en("f", "Cargo Through Hai Phong Seaports Up 14 Percent in Q1",
		"Seaports in Hai Phong handled 52.4 million tonnes of cargo in the first quarter, including 1.9 million TEUs of containers, up 14 percent from a year earlier, the Hai Phong Maritime Administration reported.")
	gift := vi("g", "Doanh nhân kiều bào Úc trao tặng thiết bị y tế 5 tỷ đồng cho Bệnh viện Trẻ em",
		"Sáng 3/4, ông Nguyễn Đức Thành trao tặng Bệnh viện Trẻ em Hải Phòng 2 máy thở trị giá 5 tỷ đồng.")
	giftEn := en("h", "Overseas Vietnamese Businessman Donates Medical Equipment to Hai Phong Children's Hospital",
		"Nguyen Duc Thanh, an overseas Vietnamese businessman in Australia, handed over ventilators worth VND5 billion (US$196,000) to Hai Phong Children's Hospital.")
	for _, p := range [][2]Item{{port, portEn}, {gift, giftEn}} {
		if dec := d.Compare(p[0], p[1]); hasKind(against(dec), "partner", "") || hasKind(against(dec), "amount", "") {
			t.Errorf("%s ~ %s: %s", p[0].Title, p[1].Title, dec.Explanation)
		}
	}
}

// Statistics of one period rewritten: two precise figures or more in
// common, a period in common and nothing against make one report, though
// the versions share little else. Round figures ("14%", "600 million")
// are shared by chance and do not count so.
func TestPreciseFiguresOfOnePeriod(t *testing.T) {
	for _, c := range []struct {
		q    quantity
		want bool
	}{
		{quantity{kind: qPercent, value: 11.2}, true},
		{quantity{kind: qPercent, value: 14}, false},
		{quantity{kind: qCount, unit: "tonnes", value: 52.4e6}, true},
		{quantity{kind: qCount, unit: "TEU", value: 1.9e6}, true},
		{quantity{kind: qMoney, unit: "VND", value: 600e6}, false},
		{quantity{kind: qMoney, unit: "USD", value: 4.41e9}, true},
		{quantity{kind: qCount, unit: "projects", value: 123}, true},
		{quantity{kind: qCount, unit: "businesses", value: 180}, false},
		{quantity{kind: qCount, unit: "staff", value: 1500}, false},
		{quantity{kind: qPeriod, unit: "months", value: 3}, false},
	} {
		if got := c.q.precise(); got != c.want {
			t.Errorf("%s: precise %v, want %v", c.q, got, c.want)
		}
	}
	d := Default()
	grdp := vi("a", "Tăng trưởng GRDP quý I của Hải Phòng đạt 11,2%",
		"Theo Cục Thống kê thành phố, tổng sản phẩm trên địa bàn (GRDP) quý I/2028 của Hải Phòng tăng 11,2% so với cùng kỳ, trong đó công nghiệp chế biến, chế tạo tăng 16,4%.")
	grdpEn := en("b", "Hai Phong Posts 11.2 Percent Growth in First Quarter",
		"The northern port city's gross regional domestic product grew 11.2 percent in the first quarter, driven by processing and manufacturing, which expanded 16.4 percent, according to the city's statistics office.")
	const bonus = "precise figures of one period"
	checkNumberEvidence(t, d, grdp, grdpEn, bonus, true, "the quarter's GRDP in two languages")
	round := vi("c", "Xuất khẩu quý I của Hải Phòng tăng 14%", "Quý I, xuất khẩu tăng 14%, nhập khẩu tăng 20%.")
	roundEn := en("d", "Hai Phong's imports up 20 percent in first quarter", "Imports grew 20 percent in the first quarter, exports 14 percent.")
	checkNumberEvidence(t, d, round, roundEn, bonus, false, "round figures count as precise")
	noPeriod := en("e", "Hai Phong Posts 11.2 Percent Growth", "Growth reached 11.2 percent, manufacturing 16.4 percent.")
	checkNumberEvidence(t, d, grdp, noPeriod, bonus, false, "figures of no period in common count")
}

// A span of days written with words: "từ ngày 12 đến 16/5" names the
// first day too (a date mentioned, not the one day of the event: an event
// on another day of the span is not on another day), "from July 10 to 20"
// the last. Blocking picks a pair by the day and a count of things ("12
// May", "180 businesses").
func TestDateSpansWrittenWithWords(t *testing.T) {
	d := Default()
	type date struct {
		tag   string
		value float64
	}
	for _, c := range []struct {
		lang, text string
		want       []date
	}{
		{"vi", "Diễn ra từ ngày 12 đến 16/5, hội chợ thu hút 180 doanh nghiệp.", []date{{dateFrom, 512}, {dateUntil, 516}}},
		{"vi", "Dự kiến đón 60 trại sinh từ ngày 10 đến 20/7.", []date{{dateFrom, 710}, {dateUntil, 720}}},
		{"vi", "Tăng từ 12 đến 16% so với cùng kỳ.", nil},
		{"en", "The camp will bring 60 young people to the city from July 10 to 20 to learn about their roots.", []date{{"", 710}, {dateUntil, 720}}},
		{"en", "Prices rose on July 10 to 20 percent above the average.", []date{{"", 710}}},
		{"en", "The fair runs from July 10 to 20 August.", []date{{"", 710}, {"", 820}}},
	} {
		x := d.prepare(Item{ID: "x", Lang: c.lang, Title: "Hội chợ", Summary: c.text})
		var got []date
		for _, q := range x.quants {
			if q.kind == qDate {
				got = append(got, date{q.unit, q.value})
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: dates %v, want %v", c.text, got, c.want)
		}
	}
	// An event on a day of the span is not on another day.
	visit := vi("a", "Giao lưu hữu nghị thanh niên Hải Phòng – Phòng Thành Cảng",
		"Ngày 5/11, Thành đoàn Hải Phòng tổ chức giao lưu với đoàn 60 thanh niên thành phố Phòng Thành Cảng.")
	span := vi("b", "Giao luu huu nghi thanh nien Hai Phong - Phong Thanh Cang",
		"Doan 60 thanh nien thanh pho Phong Thanh Cang tham va giao luu tai Hai Phong tu ngay 4 den 7/11.")
	if dec := d.Compare(visit, span); dec.Veto != "" {
		t.Errorf("a day inside the span is another day: %s", dec.Explanation)
	}
	opening := vi("c", "Khai mạc Hội chợ Thương mại quốc tế Việt – Trung (Hải Phòng) 2028",
		"Sáng 12/5, Hội chợ Thương mại quốc tế Việt – Trung (Hải Phòng) 2028 khai mạc với 300 gian hàng của 180 doanh nghiệp đến từ Quảng Tây, Quảng Đông, Vân Nam và các tỉnh, thành Việt Nam.")
	openingEn := en("d", "Vietnam-China Trade Fair Opens in Hai Phong",
		"Some 180 businesses from Vietnam and China's Guangxi, Guangdong and Yunnan are showcasing goods at 300 booths at the Vietnam–China International Trade Fair, which opened in Hai Phong on May 12 and runs until May 16.")
	exhibitors := vi("e", "Hội chợ Việt – Trung tại Hải Phòng thu hút 180 doanh nghiệp",
		"Diễn ra từ ngày 12 đến 16/5, hội chợ là dịp để doanh nghiệp hai nước giới thiệu nông sản, máy móc, hàng tiêu dùng và tìm kiếm đối tác xuất nhập khẩu qua cảng Hải Phòng.")
	exhibitors.Published = day(9)
	g, err := d.Group([]Item{opening, openingEn, exhibitors}, Constraints{})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Stories) != 1 {
		t.Errorf("the fair's opening and its exhibitors: %d stories; %s", len(g.Stories), d.Compare(openingEn, exhibitors).Explanation)
	}
}

// "Trại hè" is a summer camp in either language, named or not: the
// registration for one camp in two languages is one story.
func TestSummerCampIsATerm(t *testing.T) {
	d := Default()
	camp := en("a", "Registration Opens for Hai Phong Summer Camp for Overseas Vietnamese Youth",
		"WVR - Hai Phong on Monday began accepting applications for its 2028 summer camp, which will bring 60 young overseas Vietnamese to the city from July 10 to 20 to learn about their roots.")
	trai := vi("b", "Hải Phòng nhận hồ sơ Trại hè kiều bào trẻ năm 2028",
		"Từ ngày 22/5, Sở Ngoại vụ Hải Phòng bắt đầu nhận hồ sơ đăng ký Trại hè thanh thiếu niên kiều bào năm 2028, dự kiến đón 60 trại sinh từ ngày 10 đến 20/7.")
	camp.Published = time.Date(2028, 5, 22, 9, 0, 0, 0, vietnamTime)
	trai.Published = time.Date(2028, 5, 23, 9, 0, 0, 0, vietnamTime)
	dec := d.Compare(camp, trai)
	if !slices.ContainsFunc(shared(dec), func(s string) bool { return strings.Contains(strings.ToLower(s), "camp") }) {
		t.Errorf("the summer camp is not a term in common: %s", dec.Explanation)
	}
	if !dec.Same {
		t.Errorf("one camp's registration in two languages: %s", dec.Explanation)
	}
}

// "chuyên gia" (experts) is no count of trips: folded, "chuyên" is
// "chuyến" (a trip, the unit of flights and train services), so the
// numbers are read from the marked text, as for "mỗi".
func TestExpertsAreNotFlights(t *testing.T) {
	d := Default()
	for _, c := range []struct{ text, want string }{
		{"Hội thảo quy tụ 70 chuyên gia đến từ Mỹ, Nhật Bản, Hàn Quốc.", "70"},
		{"Hội thảo quy tụ 70 Chuyên gia kiều bào.", "70"},
		{"Tàu hàng Hải Phòng - Nam Ninh chạy 24 chuyến trong quý.", "24 flights"},
		{"Vietjet khai thác 70 chuyến bay mỗi tuần.", "70 flights"},
	} {
		x := d.prepare(Item{ID: "x", Lang: "vi", Title: "Hải Phòng", Summary: c.text})
		if got := quantityList(x.distinct); got != c.want {
			t.Errorf("%q: numbers %s, want %s", c.text, got, c.want)
		}
	}
}

// "mỗi" and "chuyên" are read as written in the text the feed means:
// its HTML tags and entities are no numbers, and the words count in
// capitals, decomposed or written as entities too.
func TestMarkedWordsReadFromPlainText(t *testing.T) {
	d := Default()
	for _, c := range []struct{ title, summary, want string }{
		{"Hải Phòng", `<p style="margin:0 0 12px"><img width="600" src="a.jpg">Mỗi suất học bổng 5 triệu đồng.</p>`, "5 million VND/each"},
		{"Hải Phòng", "Chương trình &#8220;Tiếp sức&#8221;: mỗi suất học bổng 5 triệu đồng.", "5 million VND/each"},
		{"MỖI SUẤT HỌC BỔNG 5 TRIỆU ĐỒNG", "", "5 million VND/each"},
		{"Hải Phòng", "Mo\u0302\u0303i suất học bổng 5 triệu đồng.", "5 million VND/each"},
		{"Hải Phòng", "M&#7895;i suất học bổng 5 triệu đồng.", "5 million VND/each"},
		{"Hải Phòng", "Hội thảo quy tụ 70 CHUYÊN GIA.", "70"},
		{"Hải Phòng", "<b>Hội thảo</b> quy tụ 70 chuye\u0302n gia &#8211; nhà khoa học.", "70"},
	} {
		x := d.prepare(Item{ID: "x", Lang: "vi", Title: c.title, Summary: c.summary})
		if got := quantityList(x.distinct); got != c.want {
			t.Errorf("%q / %q: numbers %s, want %s", c.title, c.summary, got, c.want)
		}
	}
}

// One event told from other angles: the day of the event and the number
// of those who took part in common ("85 trại sinh" and "85 participants"
// on 7 October, "46 em nhỏ" and "46 children"), and nothing against,
// count +1. Counts of different things ("300 members" of a chamber, "300
// kiều bào" at a conference) on one day do not, nor does the first day of
// a span.
func TestOneDayAndOneCount(t *testing.T) {
	d := Default()
	const bonus = "one day and one count"
	campClose := vi("a", "Bế mạc Trại hè thanh thiếu niên kiều bào: Trao chứng chỉ tiếng Việt cho 85 trại sinh",
		"Chiều 7/10, Trại hè thanh thiếu niên kiều bào Hải Phòng bế mạc sau 10 ngày hoạt động; 85 trại sinh được trao chứng chỉ hoàn thành khóa học tiếng Việt.")
	campCloseEn := en("b", "Hai Phong Summer Camp for Overseas Vietnamese Youth Wraps Up",
		"The 10-day summer camp for young overseas Vietnamese closed in Hai Phong on Wednesday, with all 85 participants receiving Vietnamese-language certificates.")
	checkNumberEvidence(t, d, campClose, campCloseEn, bonus, true, "the camp's close in two languages")
	class := en("c", "Hai Phong Teachers Bring Vietnamese Lessons to Children in Warsaw",
		"Two teachers from Hai Phong have begun a summer Vietnamese course for 46 children of the Hai Phong community in Poland, which opened in Warsaw on October 7.")
	classVi := vi("d", "Khai giảng lớp tiếng Việt cho con em kiều bào Hải Phòng tại Warszawa",
		"Ngày 7/10, Hội đồng hương Hải Phòng tại Ba Lan khai giảng lớp tiếng Việt hè cho 46 em nhỏ, với hai giáo viên được Sở Giáo dục và Đào tạo Hải Phòng cử sang giảng dạy.")
	checkNumberEvidence(t, d, class, classVi, bonus, true, "the Warsaw class in two languages")
	chamber := en("e", "Taiwanese business community in Hai Phong holds year-end gathering",
		"Around 300 members of the Taiwanese Chamber of Commerce in Hai Phong met city leaders on October 7 to review the year.")
	conference := vi("f", "Hơn 300 kiều bào về Hải Phòng dự hội nghị kết nối nguồn lực",
		"Ngày 7/10, UBND thành phố Hải Phòng tổ chức hội nghị kết nối nguồn lực kiều bào, thu hút hơn 300 doanh nhân, trí thức người Việt.")
	checkNumberEvidence(t, d, chamber, conference, bonus, false, "counts of different things are one count")
	span := vi("g", "Trại hè thanh thiếu niên kiều bào Hải Phòng",
		"Trại hè diễn ra từ ngày 7 đến 17/10 với 85 trại sinh.")
	checkNumberEvidence(t, d, span, campCloseEn, bonus, false, "the first day of a span is the day of the event")
}

// Statistics of one period with one precise figure in common and another
// figure: the ports' half year, tonnes in one title and containers in the
// other, share "3.4 million TEU", "8%" and six months. A precise figure
// alone, with no other figure in common, is not enough.
func TestOnePreciseFigureOfOnePeriod(t *testing.T) {
	d := Default()
	const bonus = "precise figures of one period"
	port := vi("a", "Sản lượng hàng hóa qua cảng biển Hải Phòng 6 tháng đạt 92,4 triệu tấn",
		"Theo Cảng vụ Hàng hải Hải Phòng, 6 tháng đầu năm, sản lượng hàng hóa thông qua cảng biển Hải Phòng đạt 92,4 triệu tấn, trong đó hàng container đạt 3,4 triệu TEU, tăng 8% so với cùng kỳ.")
	portEn := en("b", "Hai Phong Seaports Handle 3.4 Million TEUs in First Half",
		"Container volume through Hai Phong's seaports rose 8 percent year on year to 3.4 million TEUs in the first six months, the city's maritime administration said.")
	checkNumberEvidence(t, d, port, portEn, bonus, true, "the ports' half year in two languages")
	alone := en("c", "Hai Phong Seaports Handle 3.4 Million TEUs in First Half",
		"Container volume through Hai Phong's seaports reached 3.4 million TEUs in the first six months.")
	checkNumberEvidence(t, d, port, alone, bonus, false, "one precise figure alone counts")
}

// checkNumberEvidence wants the pair one story with the numbers' evidence
// bonus among what it shares (want), or that evidence absent (!want).
func checkNumberEvidence(t *testing.T, d *Detector, a, b Item, bonus string, want bool, what string) {
	t.Helper()
	dec := d.Compare(a, b)
	if has := hasKind(shared(dec), "number", bonus); has != want || want && !dec.Same {
		t.Errorf("%s: %s", what, dec.Explanation)
	}
}
