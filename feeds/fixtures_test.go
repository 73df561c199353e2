package feeds

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The project's own portal-shaped fixtures (testdata/feeds/README.md) go
// through fetch, decode, parse, normalise, sanitise and SQLite; what a reader
// would see is asserted field by field.
func TestPortalFixtures(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir("../testdata/feeds")))
	defer srv.Close()
	st := newTestStore(t)
	sync1(t, st,
		Source{Name: "portal", URL: srv.URL + "/portal-windows-1258.xml"},
		Source{Name: "news", URL: srv.URL + "/news-utf8.rss"},
		Source{Name: "en", URL: srv.URL + "/english-atom.xml", Language: "en"})
	before := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	p := NewPoller(Config{}, st, nil)
	p.now = func() time.Time { return before }
	rep := p.FetchAll(context.Background())
	if f := rep.Failed(); len(f) > 0 {
		t.Fatalf("failures: %v", f[0].Err)
	}
	byURL := map[string]Item{}
	count := map[string]int{}
	for _, it := range rep.NewItems() {
		byURL[it.URL] = it
		count[it.FeedName]++
	}
	if count["portal"] != 3 || count["news"] != 3 || count["en"] != 2 {
		t.Fatalf("items per feed %v, want portal 3 (GUID \"0\" shared by all), news 3 (one exact repeat), en 2", count)
	}
	utc := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, time.UTC) }
	want := []fixtureItem{
		{
			url:   "https://congthongtin.example.vn/tin-tuc/kieu-bao-ve-que-don-tet-1001.html",
			title: "Thành phố tiếp đoàn kiều bào về quê đón Tết", text: "Sáng 25/11, lãnh đạo thành phố đã gặp mặt đoàn kiều bào.",
			image: "https://congthongtin.example.vn/upload/anh-kieu-bao.jpg", published: utc(2026, 11, 25, 1, 30),
			htmlNot: []string{"pixel.gif"},
		},
		{
			url:   "https://congthongtin.example.vn/tin-tuc/dinh-vu-cat-hai-fdi-1002.html",
			title: "Khu kinh tế Đình Vũ – Cát Hải thu hút thêm dự án FDI", text: "Vốn đầu tư nước ngoài tăng mạnh.",
			published: utc(2026, 11, 24, 12, 41),
		},
		{
			url:   "https://congthongtin.example.vn/tin-tuc/hop-tac-trung-quoc-logistics-1003.html",
			title: "Hợp tác với địa phương Trung Quốc về logistics", text: "Hai bên ký biên bản ghi nhớ ủng hộ kết nối cảng biển.",
			published: utc(2026, 11, 23, 12, 41),
		},
		{
			url:   "https://bao.example.vn/thoi-su/cang-lach-huyen-don-tau-lon-4821.html",
			title: "Cảng Lạch Huyện đón tàu container lớn nhất từ trước đến nay",
			text:  "Tàu có sức chở hơn 17.000 TEU cập cảng sáng nay, mở ra tuyến mới đi châu Âu.",
			image: "https://cdn.example.vn/2026/11/25/cang-lon.jpg", published: utc(2026, 11, 25, 2, 15),
		},
		{
			url:   "https://bao.example.vn/kinh-te/han-quoc-khao-sat-kcn-4822.html",
			title: "Nhà đầu tư Hàn Quốc khảo sát khu công nghiệp", text: "Đoàn doanh nghiệp đã làm việc với ban quản lý.",
			published: utc(2026, 11, 24, 9, 0), htmlNot: []string{"script", "ads"},
		},
		{
			url:   "https://bao.example.vn/kieu-bao/kieu-bao-tai-sec-trao-hoc-bong-4823.html",
			title: "Kiều bào Hải Phòng tại Séc trao học bổng", text: "Không có ngày đăng.",
		},
		{
			url:   "https://en.example.vn/news/hai-phong-nanning-logistics-901.html",
			title: "Hai Phong & Nanning sign logistics MoU", text: "Read the full text.",
			image: "https://en.example.vn/media/901.jpg", published: utc(2026, 11, 25, 1, 0),
			htmlHas: []string{`href="https://en.example.vn/news/mou-text.html"`}, htmlNot: []string{"iframe", "video.example"},
		},
		{
			url:   "http://www.bao.example.vn/thoi-su/cang-lach-huyen-don-tau-lon-4821.html",
			title: "Record Korean investment in Lach Huyen port area", text: "The same story as the Vietnamese news feed carries.",
			published: utc(2026, 11, 25, 9, 30),
		},
	}
	checkFixtureItems(t, byURL, want)
	if it := byURL["https://bao.example.vn/kieu-bao/kieu-bao-tai-sec-trao-hoc-bong-4823.html"]; it.Published().Before(before.Add(-time.Second)) {
		t.Errorf("undated item published %v, want first seen (now)", it.Published())
	}
	vi, en := byURL["https://bao.example.vn/thoi-su/cang-lach-huyen-don-tau-lon-4821.html"], byURL["http://www.bao.example.vn/thoi-su/cang-lach-huyen-don-tau-lon-4821.html"]
	if vi.StoryID == 0 || vi.StoryID != en.StoryID {
		t.Errorf("the port story in two feeds: story ids %d and %d, want one story", vi.StoryID, en.StoryID)
	}
	window, err := st.ItemsPublishedBetween(context.Background(), utc(2026, 11, 20, 0, 0), before.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(window) != 7 {
		t.Errorf("ItemsPublishedBetween: %d items, want 7 (8 stored, the port story once)", len(window))
	}
	if h := healthOf(t, st, "news"); h.NextFetchAt.Before(before.Add(60 * time.Minute)) {
		t.Errorf("news feed has <ttl>60</ttl>: next fetch %v is sooner than an hour", h.NextFetchAt)
	}
}

// The portal quirks (testdata/feeds/README.md) go through fetch, decode,
// parse, normalise, sanitise and SQLite; what a reader would see is read
// back from the store and asserted field by field.
func TestPortalQuirkFixtures(t *testing.T) {
	srv := httptest.NewServer(http.FileServer(http.Dir("../testdata/feeds")))
	defer srv.Close()
	st := newTestStore(t)
	feedsByFile := map[string]string{"word": "portal-word-paste.xml", "escaped": "portal-double-escaped.xml", "dates": "portal-long-dates.xml", "controls": "portal-control-chars.xml"}
	var srcs []Source
	for name, file := range feedsByFile {
		srcs = append(srcs, Source{Name: name, URL: srv.URL + "/" + file})
	}
	sync1(t, st, srcs...)
	p := NewPoller(Config{}, st, nil)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	rep := p.FetchAll(context.Background())
	if f := rep.Failed(); len(f) > 0 {
		t.Fatalf("%s failed: %v", f[0].Name, f[0].Err)
	}
	var ids []int64
	count := map[string]int{}
	for _, it := range rep.NewItems() {
		ids = append(ids, it.ID)
		count[it.FeedName]++
	}
	if count["word"] != 4 || count["escaped"] != 3 || count["dates"] != 6 || count["controls"] != 2 {
		t.Fatalf("items per feed %v, want word 4, escaped 3, dates 6, controls 2", count)
	}
	stored, err := st.ItemsByID(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	byURL := map[string]Item{}
	for _, it := range stored {
		byURL[it.URL] = it
	}
	utc := func(d, h, mi int) time.Time { return time.Date(2026, 11, d, h, mi, 0, 0, time.UTC) }
	wordLeaks := []string{"Normal", "false", "EN-US", "X-NONE", "Cambria", "mso", "Mso", "Style Definitions", "o:p", "w:", "v:", "xml", "if gte", "supportLists"}
	escapeLeaks := []string{"&lt;", "&amp;", "&quot;", "script", "track()"}
	want := []fixtureItem{
		// Pasted from Microsoft Word.
		{
			url:   "https://songoaivu.example.vn/tin/kieu-bao-ba-lan-2101.html",
			title: "Đoàn kiều bào tại Ba Lan thăm Hải Phòng", text: "Ngày 22/11, đoàn kiều bào tại Ba Lan đã thăm Hải Phòng. Đoàn làm việc với Sở Ngoại vụ.",
			published: utc(22, 3, 0), htmlNot: wordLeaks,
		},
		{
			url:   "https://songoaivu.example.vn/tin/xuc-tien-dau-tu-seoul-2102.html",
			title: "Hội nghị xúc tiến đầu tư tại Seoul", text: "Thành phố giới thiệu các khu công nghiệp với nhà đầu tư Hàn Quốc.",
			published: utc(21, 8, 30), htmlNot: wordLeaks,
		},
		{
			url:   "https://songoaivu.example.vn/tin/hoc-bong-kieu-bao-2103.html",
			title: "Trao học bổng cho con em kiều bào", text: "Quỹ học bổng trao 20 suất cho học sinh.",
			published: utc(20, 2, 0), htmlNot: wordLeaks,
		},
		{
			url:   "https://songoaivu.example.vn/tin/giao-luu-nhat-ban-2104.html",
			title: "Giao lưu văn hóa với người Việt tại Nhật Bản", text: "Buổi giao lưu có hơn 200 người tham dự.",
			image: "https://songoaivu.example.vn/upload/giao-luu.jpg", published: utc(19, 7, 0), htmlNot: wordLeaks,
		},
		// HTML-escaped twice.
		{
			url:   "https://quan.example.vn/tin-tuc/kieu-bao-le-hoi-3101.html",
			title: "Kiều bào về quê dự lễ hội", text: "Ngày 22/11, kiều bào về quê dự lễ hội.",
			image: "https://quan.example.vn/uploads/le-hoi.jpg", published: utc(22, 1, 0),
			htmlHas: []string{"<strong>kiều bào</strong>", `<img src="https://quan.example.vn/uploads/le-hoi.jpg"`}, htmlNot: escapeLeaks,
		},
		{
			url:   "https://quan.example.vn/tin-tuc/nhat-ban-nha-may-3102.html",
			title: "Doanh nghiệp Nhật Bản mở rộng nhà máy", text: "Nhà máy thứ hai khởi công tháng 12. Xem chi tiết",
			published: utc(21, 1, 0),
			htmlHas:   []string{`href="https://quan.example.vn/tin-tuc/chi-tiet-3102.html"`}, htmlNot: escapeLeaks,
		},
		{
			url:   "https://quan.example.vn/tin-tuc/quang-tay-du-lich-3103.html",
			title: "Hợp tác với Quảng Tây về du lịch", text: "Kinh tế biển và du lịch.",
			published: utc(20, 1, 0), htmlNot: escapeLeaks,
		},
		// Vietnamese long dates (Asia/Ho_Chi_Minh, UTC+7, unless the feed says otherwise).
		{url: "https://huyen.example.vn/bai/nam-ninh-4101.html", title: "Lễ ký kết hợp tác với Nam Ninh", text: "Hai bên ký biên bản ghi nhớ.", published: utc(27, 1, 0)},
		{url: "https://huyen.example.vn/bai/trung-tam-kieu-bao-4102.html", title: "Khai trương trung tâm hỗ trợ kiều bào", text: "Trung tâm mở cửa từ hôm nay.", published: utc(25, 17, 0)},
		{url: "https://huyen.example.vn/bai/fdi-moi-4103.html", title: "Dự án FDI mới tại khu kinh tế", text: "Tổng vốn 120 triệu USD.", published: utc(24, 17, 0)},
		{url: "https://huyen.example.vn/bai/han-quoc-cang-4104.html", title: "Đoàn doanh nghiệp Hàn Quốc thăm cảng", text: "Đoàn làm việc với ban quản lý cảng.", published: utc(24, 7, 30)},
		{url: "https://huyen.example.vn/bai/hoi-nghi-4105.html", title: "Hội nghị người Hải Phòng ở nước ngoài", text: "Hội nghị thường niên.", published: utc(23, 9, 45)},
		{url: "https://huyen.example.vn/bai/khong-pubdate-4106.html", title: "Tin đăng không có pubDate", text: "Chỉ có dc:date.", published: utc(22, 0, 15)},
		// Control characters between words.
		{
			url:   "https://tinh.example.vn/tin/ba-lan-ao-am-5101.html",
			title: "Kiều bào Ba Lan quyên góp áo ấm", text: "Hội người Việt tại Ba Lan quyên góp 500 áo ấm cho trẻ em vùng cao.",
			published: utc(22, 1, 0), htmlHas: []string{"Ba Lan quyên góp 500 áo"},
		},
		{
			url:   "https://tinh.example.vn/tin/singapore-kcn-5102.html",
			title: "Nhà đầu tư Singapore khảo sát khu công nghiệp", text: "Đoàn làm việc với ban quản lý các khu công nghiệp.",
			published: utc(21, 1, 0),
		},
	}
	checkFixtureItems(t, byURL, want)
}

// fixtureItem is what a reader sees of one item of a fixture feed.
type fixtureItem struct {
	url, title, text, image string
	published               time.Time // zero: undated (first seen)
	htmlHas, htmlNot        []string
}

// checkFixtureItems compares items, by URL, with what a reader should see.
func checkFixtureItems(t *testing.T, byURL map[string]Item, want []fixtureItem) {
	t.Helper()
	for _, w := range want {
		it, ok := byURL[w.url]
		if !ok {
			t.Errorf("no item with URL %s", w.url)
			continue
		}
		if it.Title != w.title {
			t.Errorf("%s: title %q, want %q", w.url, it.Title, w.title)
		}
		if it.SummaryText != w.text {
			t.Errorf("%s: text %q, want %q", w.url, it.SummaryText, w.text)
		}
		if it.ImageURL != w.image {
			t.Errorf("%s: image %q, want %q", w.url, it.ImageURL, w.image)
		}
		if !it.PublishedAt.Equal(w.published) {
			t.Errorf("%s: published %v, want %v", w.url, it.PublishedAt, w.published)
		}
		for _, s := range w.htmlHas {
			if !strings.Contains(it.SummaryHTML, s) {
				t.Errorf("%s: HTML lacks %s: %s", w.url, s, it.SummaryHTML)
			}
		}
		for _, s := range w.htmlNot {
			if strings.Contains(it.SummaryHTML, s) {
				t.Errorf("%s: HTML has %s: %s", w.url, s, it.SummaryHTML)
			}
		}
	}
}
