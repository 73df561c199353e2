package render_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/digest/render"
	"github.com/haiphong/hpdigest/digest/theme"
	"github.com/haiphong/hpdigest/templates"
)

var (
	ict     = time.FixedZone("ICT", 7*3600)
	themes  = []theme.Theme{{Key: "diaspora", NameVI: "Kiều bào", NameEN: "Overseas Vietnamese"}, {Key: "fdi", NameVI: "Đầu tư nước ngoài", NameEN: "Foreign investment"}, {Key: "china", NameVI: "Hợp tác với Trung Quốc", NameEN: "Cooperation with China"}, {Key: "other", NameVI: "Tin khác", NameEN: "Other news"}}
	friday  = time.Date(2026, 11, 20, 8, 0, 0, 0, ict)
	sender  = render.Sender{Name: "Sở Ngoại vụ thành phố Hải Phòng", PostalAddress: "Số 18 Hoàng Diệu, phường Hồng Bàng\nThành phố Hải Phòng, Việt Nam", WebsiteURL: "https://songoaivu.haiphong.gov.vn"}
	webBase = "https://digest.example.org/issues/12"
)

func newRenderer(t testing.TB) *render.Renderer {
	t.Helper()
	r, err := render.New(templates.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fixedIssue is the golden issue: both languages' stories, staff overrides,
// a note, an image with and without a known size, an item without a date.
func fixedIssue() *render.Issue {
	return &render.Issue{
		ID: 12, Number: 12, DigestKey: "weekly",
		Title:    render.Localized{VI: "Bản tin Hải Phòng", EN: "Hai Phong Digest"},
		Date:     friday,
		Location: ict,
		Note: render.Localized{
			VI: "Tuần này thành phố đón đoàn kiều bào từ Nhật Bản và Hàn Quốc về thăm quê.\n\nChúc quý độc giả một cuối tuần an lành.",
			EN: "This week the city welcomed overseas Vietnamese from Japan and Korea.\n\nWe wish you a peaceful weekend.",
		},
		Sections: []render.Section{
			{Theme: themes[0], Items: []render.Item{
				{
					Title:     render.Localized{Default: "Hải Phòng gặp mặt kiều bào nhân dịp Tết cổ truyền", EN: "Hai Phong meets overseas Vietnamese ahead of Tet"},
					Summary:   render.Localized{Default: "Ủy ban nhân dân thành phố tổ chức buổi gặp mặt hơn 200 kiều bào đang sinh sống, làm việc tại 15 quốc gia và vùng lãnh thổ.", EN: "The city People's Committee met more than 200 overseas Vietnamese living and working in 15 countries and territories."},
					URL:       "https://haiphong.gov.vn/tin-tuc/gap-mat-kieu-bao-2026.html",
					Source:    "Cổng thông tin Hải Phòng",
					Language:  "vi",
					Published: time.Date(2026, 11, 18, 2, 30, 0, 0, time.UTC),
					ImageURL:  "https://haiphong.gov.vn/images/kieu-bao.jpg", ImageWidth: 1200, ImageHeight: 800,
				},
				{
					Title:     render.Localized{Default: "Vietnamese community in Poland opens a library of Vietnamese books"},
					Summary:   render.Localized{Default: "Books donated by Hai Phong will help children of the community learn their parents' language."},
					URL:       "https://en.vietnamplus.vn/vietnamese-library-poland.vnp",
					Source:    "VietnamPlus",
					Language:  "en",
					Published: time.Date(2026, 11, 17, 23, 0, 0, 0, time.UTC), // 18 Nov in Hai Phong
				},
			}},
			{Theme: themes[1], Items: []render.Item{
				{
					Title:       render.Localized{Default: "Khu công nghiệp DEEP C thu hút thêm 300 triệu USD vốn FDI"},
					SummaryHTML: "<p>Nhà đầu tư Hàn Quốc &amp; Nhật Bản <b>mở rộng</b> nhà máy linh kiện điện tử.</p>",
					URL:         "https://www.vietnamplus.vn/deep-c-fdi.vnp",
					Source:      "VietnamPlus",
					Language:    "vi",
					Published:   time.Date(2026, 11, 16, 9, 0, 0, 0, ict),
					ImageURL:    "https://www.vietnamplus.vn/images/deep-c.jpg",
					ImageAlt:    "Nhà máy trong khu công nghiệp DEEP C",
				},
			}},
			{Theme: themes[2], Items: nil}, // empty: skipped
			{Theme: themes[3], Items: []render.Item{
				{
					Title:  render.Localized{Default: "Hai Phong and Guangxi sign a tourism agreement", VI: "Hải Phòng và Quảng Tây ký thỏa thuận hợp tác du lịch"},
					URL:    "https://baoquocte.vn/hai-phong-guangxi-tourism.html",
					Source: "World & Vietnam Report", Language: "en",
				},
			}},
		},
		WebURL: webBase,
		Sender: sender,
	}
}

// bigIssue has n items spread over the themes, each with a long summary and
// an image, to measure the size budget and the layout under load.
func bigIssue(n int) *render.Issue {
	iss := fixedIssue()
	iss.Sections = nil
	for i := 0; i < n; i++ {
		k := i % 3
		if len(iss.Sections) <= k {
			iss.Sections = append(iss.Sections, render.Section{Theme: themes[k]})
		}
		long := "Thành phố Hải Phòng tiếp tục cải thiện môi trường đầu tư, kinh doanh, thu hút các dự án công nghệ cao và thân thiện với môi trường, đồng thời tăng cường kết nối với cộng đồng người Việt Nam ở nước ngoài để quảng bá hình ảnh quê hương. "
		iss.Sections[k].Items = append(iss.Sections[k].Items, render.Item{
			Title:     render.Localized{Default: fmt.Sprintf("Tin số %d: Hải Phòng đẩy mạnh hợp tác quốc tế và thu hút đầu tư vào các khu kinh tế ven biển", i+1)},
			Summary:   render.Localized{Default: long + long},
			URL:       fmt.Sprintf("https://www.vietnamplus.vn/chuyen-muc/kinh-te/hai-phong-day-manh-hop-tac-quoc-te-va-thu-hut-dau-tu-%d.vnp", i+1),
			Source:    "VietnamPlus",
			Language:  "vi",
			Published: friday.Add(-time.Duration(i) * time.Hour),
			ImageURL:  fmt.Sprintf("https://www.vietnamplus.vn/images/2026/11/20/anh-minh-hoa-%d.jpg", i+1),
		})
	}
	// A long unbreakable word must not widen the layout on a phone.
	iss.Sections[0].Items[0].Summary.Default = "Xem https://www.vietnamplus.vn/chuyen-muc/kinh-te/mot-duong-dan-rat-dai-khong-co-khoang-trang-nao-ca-de-xuong-dong-tren-dien-thoai.vnp"
	return iss
}

var reader = render.Recipient{
	Name:           "Nguyễn Thị Lan",
	Email:          "lan@example.org",
	UnsubscribeURL: "https://digest.example.org/unsubscribe?t=tok.123&x=1",
	PreferencesURL: "https://digest.example.org/preferences?t=tok.123",
}
