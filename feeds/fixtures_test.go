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
	before := time.Now()
	rep := NewPoller(Config{}, st, nil).FetchAll(context.Background())
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
	want := []struct {
		url, title, text, image string
		published               time.Time
		htmlHas, htmlNot        []string
	}{
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
	if it := byURL["https://bao.example.vn/kieu-bao/kieu-bao-tai-sec-trao-hoc-bong-4823.html"]; it.Published().Before(before.Add(-time.Second)) {
		t.Errorf("undated item published %v, want first seen (now)", it.Published())
	}
	vi, en := byURL["https://bao.example.vn/thoi-su/cang-lach-huyen-don-tau-lon-4821.html"], byURL["http://www.bao.example.vn/thoi-su/cang-lach-huyen-don-tau-lon-4821.html"]
	if vi.StoryID == 0 || vi.StoryID != en.StoryID {
		t.Errorf("the port story in two feeds: story ids %d and %d, want one story", vi.StoryID, en.StoryID)
	}
	window, err := st.ItemsPublishedBetween(context.Background(), utc(2026, 11, 20, 0, 0), time.Now().Add(time.Hour))
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
