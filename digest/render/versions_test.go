package render_test

import (
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/digest/render"
)

// storiesIssue has a story published in both languages, one only in
// Vietnamese, and one only in Vietnamese that staff translated.
func storiesIssue(mode string) *render.Issue {
	day := time.Date(2026, 10, 8, 9, 0, 0, 0, ict)
	return &render.Issue{
		ID: 7, Number: 7, Date: friday, Location: ict, WebURL: webBase, Sender: sender, OtherLanguage: mode,
		Sections: []render.Section{{Theme: themes[1], Items: []render.Item{
			{
				Title:     render.Localized{Default: "LG Display tăng vốn đầu tư thêm 1,4 tỷ USD tại Hải Phòng"},
				Summary:   render.Localized{Default: "Ban Quản lý Khu kinh tế Hải Phòng trao giấy chứng nhận đăng ký đầu tư điều chỉnh cho LG Display."},
				URL:       "https://www.vietnamplus.vn/lg-display-tang-von.vnp",
				Source:    "VietnamPlus",
				Language:  "vi",
				Published: day,
				Versions: []render.Version{
					{Language: "vi", Title: "Trao chứng nhận điều chỉnh dự án LG Display", URL: "https://baohaiphong.vn/lg-display.html", Source: "Báo Hải Phòng", Published: day},
					{Language: "en", Title: "LG Display pours additional 1.4 billion USD into Hai Phong plant",
						Summary: "The Hai Phong Economic Zone Authority handed over an amended investment certificate to LG Display.",
						URL:     "https://en.vietnamplus.vn/lg-display-pours.vnp", Source: "VietnamPlus English", Published: day.Add(2 * time.Hour)},
				},
			},
			{
				Title:     render.Localized{Default: "Khu công nghiệp Tràng Duệ mở rộng thêm 200 ha"},
				Summary:   render.Localized{Default: "Thành phố chấp thuận chủ trương mở rộng khu công nghiệp Tràng Duệ giai đoạn 3."},
				URL:       "https://baohaiphong.vn/trang-due-mo-rong.html",
				Source:    "Báo Hải Phòng",
				Language:  "vi",
				Published: day,
			},
			{
				Title:     render.Localized{Default: "Hải Phòng và Kitakyushu kỷ niệm 12 năm kết nghĩa", EN: "Hai Phong and Kitakyushu mark 12 years as sister cities"},
				Summary:   render.Localized{Default: "Lãnh đạo hai thành phố dự lễ kỷ niệm.", EN: "Leaders of both cities attended the ceremony."},
				URL:       "https://baoquocte.vn/kitakyushu.html",
				Source:    "Thế giới & Việt Nam",
				Language:  "vi",
				Published: day,
			},
		}}},
	}
}

func variant(t *testing.T, iss *render.Issue, lang string) (v *render.Variant, html, text string) {
	t.Helper()
	v, err := newRenderer(t).Variant(iss, lang, nil)
	if err != nil {
		t.Fatal(err)
	}
	html, text = v.Personalise(reader)
	return v, html, text
}

// Each reader gets a story in their language, with the other language's
// version linked; the sources of their language are named.
func TestReaderGetsTheirVersion(t *testing.T) {
	v, h, txt := variant(t, storiesIssue(""), "en")
	if !strings.Contains(h, `href="https://en.vietnamplus.vn/lg-display-pours.vnp"`) || !strings.Contains(h, "LG Display pours additional 1.4 billion USD") {
		t.Error("the English reader does not get the English version")
	}
	if strings.Contains(h, "tăng vốn đầu tư thêm") {
		t.Error("the English reader gets the Vietnamese title of a story published in English")
	}
	if !strings.Contains(h, `<a href="https://www.vietnamplus.vn/lg-display-tang-von.vnp" lang="vi" hreflang="vi"`) || !strings.Contains(h, "Bản tiếng Việt") {
		t.Error("the English version does not link the Vietnamese one")
	}
	if !strings.Contains(txt, "Bản tiếng Việt: https://www.vietnamplus.vn/lg-display-tang-von.vnp") {
		t.Errorf("text part lacks the link to the Vietnamese version:\n%s", txt)
	}
	if !strings.HasSuffix(v.Subject, ": LG Display pours additional 1.4 billion USD into Hai Phong plant") {
		t.Errorf("English subject %q: want the English version's title", v.Subject)
	}

	// A story the reader gets in the other language does not name the issue.
	iss := storiesIssue("")
	items := iss.Sections[0].Items
	items[0], items[1] = items[1], items[0]
	if v, _, _ := variant(t, iss, "en"); !strings.HasSuffix(v.Subject, ": LG Display pours additional 1.4 billion USD into Hai Phong plant") {
		t.Errorf("English subject %q: want the first story in English", v.Subject)
	}

	v, h, txt = variant(t, storiesIssue(""), "vi")
	if !strings.Contains(h, "LG Display tăng vốn đầu tư thêm 1,4 tỷ USD") || strings.Contains(h, "pours additional") {
		t.Error("the Vietnamese reader does not get the Vietnamese version alone")
	}
	if !strings.Contains(h, `lang="en" hreflang="en"`) || !strings.Contains(h, "Also in English") || !strings.Contains(txt, "Also in English: https://en.vietnamplus.vn/lg-display-pours.vnp") {
		t.Error("the Vietnamese version does not link the English one")
	}
	if !strings.Contains(h, "VietnamPlus, Báo Hải Phòng · ") {
		t.Error("the sources of the Vietnamese version are not all named")
	}
	if v.Items != 3 {
		t.Errorf("Vietnamese reader gets %d stories, want 3", v.Items)
	}
}

// What an English reader gets of the Vietnamese-only stories under each
// mode: the original with a badge, the staff translation, or nothing.
func TestOtherLanguageModes(t *testing.T) {
	for _, c := range []struct {
		mode       string
		items      int
		badge      bool // the untranslated story shown with its badge
		translated bool // the translated story shown in English
	}{
		{"", 3, true, true},
		{"badge", 3, true, true},
		{"translated_only", 2, false, true},
		{"omit", 1, false, false},
	} {
		v, h, txt := variant(t, storiesIssue(c.mode), "en")
		if v.Items != c.items {
			t.Errorf("%q: the English reader gets %d stories, want %d", c.mode, v.Items, c.items)
		}
		hasBadge := strings.Contains(h, `lang="vi" title="This story is only available in Vietnamese">Tiếng Việt</span>`) &&
			strings.Contains(h, `lang="vi"><a href="https://baohaiphong.vn/trang-due-mo-rong.html"`) &&
			strings.Contains(txt, "[Tiếng Việt] Khu công nghiệp Tràng Duệ")
		if hasBadge != c.badge {
			t.Errorf("%q: untranslated Vietnamese story shown with its badge: %v, want %v", c.mode, hasBadge, c.badge)
		}
		if !c.badge && strings.Contains(h, "Tràng Duệ mở rộng") {
			t.Errorf("%q: the untranslated Vietnamese story is shown", c.mode)
		}
		hasTranslation := strings.Contains(h, "Hai Phong and Kitakyushu mark 12 years") && strings.Contains(h, "Translated by the editors; the original is in Vietnamese.")
		if hasTranslation != c.translated {
			t.Errorf("%q: staff translation shown: %v, want %v", c.mode, hasTranslation, c.translated)
		}
		if strings.Contains(h, "kỷ niệm 12 năm kết nghĩa") {
			t.Errorf("%q: the translated story's Vietnamese title is shown to the English reader", c.mode)
		}
		// The preheader counts and names only what the reader gets.
		pre := h[strings.Index(h, `class="preheader"`):]
		pre = pre[:strings.Index(pre, "&#847;")]
		if c.mode == "omit" && (!strings.Contains(pre, "1 story") || strings.Contains(pre, "Kitakyushu")) {
			t.Errorf("omit: preheader %q", pre)
		}
		if c.mode == "translated_only" && (!strings.Contains(pre, "2 stories") || strings.Contains(pre, "Tràng Duệ")) {
			t.Errorf("translated_only: preheader %q", pre)
		}
	}
	// The Vietnamese reader gets every story in Vietnamese whatever the mode.
	for _, mode := range []string{"badge", "translated_only", "omit"} {
		if v, h, _ := variant(t, storiesIssue(mode), "vi"); v.Items != 3 || strings.Contains(h, `<span class="lang-badge"`) {
			t.Errorf("%s: Vietnamese reader: %d stories", mode, v.Items)
		}
	}
	// Nothing in the reader's language under omit: nothing to send.
	iss := storiesIssue("omit")
	iss.Sections[0].Items = iss.Sections[0].Items[1:2]
	if v, _, _ := variant(t, iss, "en"); v.Items != 0 {
		t.Errorf("omit: a Vietnamese-only issue has %d stories for the English reader, want 0", v.Items)
	}
}

// The web version follows the same rules as the email.
func TestWebVersionGetsTheReadersVersion(t *testing.T) {
	r := newRenderer(t)
	b, err := r.WebPage(storiesIssue("translated_only"), "en", render.WebOptions{})
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.Contains(page, "LG Display pours additional") || strings.Contains(page, "Tràng Duệ mở rộng") || !strings.Contains(page, "Bản tiếng Việt") {
		t.Error("the English web page does not follow the reader's-version rules")
	}
	o := r.Outline(storiesIssue("badge"), "en")
	if len(o) != 1 || len(o[0].Items) != 3 || o[0].Items[0].Title != "LG Display pours additional 1.4 billion USD into Hai Phong plant" ||
		o[0].Items[0].URL != "https://en.vietnamplus.vn/lg-display-pours.vnp" || o[0].Items[1].Lang != "vi" {
		t.Errorf("outline %+v", o)
	}
}
