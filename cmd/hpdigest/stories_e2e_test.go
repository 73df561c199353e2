package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/internal/smtptest"
	"github.com/haiphong/hpdigest/web"
	"github.com/haiphong/hpdigest/web/staff"
)

// Two portals, one in each language: the LG Display story in both (the
// Vietnamese and English editions), the Trang Due expansion only in
// Vietnamese.
const (
	lgdVILink   = "https://www.vietnamplus.example/lg-display-tang-von-14-ty-usd.vnp"
	lgdENLink   = "https://en.vietnamplus.example/lg-display-pours-14-billion-usd.vnp"
	trangDueVI  = "Khu công nghiệp Tràng Duệ mở rộng thêm 200 ha đón dòng vốn FDI"
	trangDueEN  = "Trang Due industrial park grows by 200 ha for new FDI"
	lgdTitleVI  = "LG Display tăng vốn đầu tư FDI thêm 1,4 tỷ USD tại Hải Phòng"
	lgdTitleEN  = "LG Display pours additional 1.4 billion USD of FDI into Hai Phong plant"
	storiesTOML = `
database = %q
outbox_dir = %q

[http]
base_url = "https://digest.example.org"

[sender]
name = "Bản tin Hải Phòng"
address = "digest@haiphong.example.org"
postal_address = "18 Hoàng Diệu, Hải Phòng"

[smtp]
host = %q
port = %d
tls = "none"
timeout = "10s"

[[feeds]]
name = "VietnamPlus"
url = "%[5]s/vi.rss"
language = "vi"
allow_private = true

[[feeds]]
name = "VietnamPlus English"
url = "%[5]s/en.rss"
language = "en"
allow_private = true

[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"
other_language = %[6]q
`
)

func storyPortals(t *testing.T) *httptest.Server {
	t.Helper()
	now := time.Now()
	ago := func(h int) string { return now.Add(-time.Duration(h) * time.Hour).Format(time.RFC1123Z) }
	item := func(title, link, summary string, h int) string {
		return fmt.Sprintf(`<item><title>%s</title><link>%s</link><guid>%s</guid><pubDate>%s</pubDate><description>%s</description></item>`, title, link, link, ago(h), summary)
	}
	vi := item(lgdTitleVI, lgdVILink, "Ban Quản lý Khu kinh tế Hải Phòng trao giấy chứng nhận đăng ký đầu tư điều chỉnh cho Công ty TNHH LG Display Việt Nam Hải Phòng, nâng tổng vốn đầu tư tại Khu công nghiệp Tràng Duệ lên 6,65 tỷ USD.", 3) +
		item(trangDueVI, "https://www.vietnamplus.example/trang-due-mo-rong-200-ha.vnp", "Thành phố chấp thuận mở rộng khu công nghiệp Tràng Duệ thêm 200 ha để đón các dự án đầu tư nước ngoài mới.", 5)
	en := item(lgdTitleEN, lgdENLink, "The Hai Phong Economic Zone Authority handed over an amended investment registration certificate to LG Display Vietnam Hai Phong, raising its total capital at Trang Due Industrial Park to 6.65 billion USD.", 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		body := map[string]string{"/vi.rss": vi, "/en.rss": en}[r.URL.Path]
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>https://portal.example/</link>%s</channel></rss>`, r.URL.Path, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// readerMail is the text and HTML parts of the one message a reader got.
func readerMail(t *testing.T, smtp *smtptest.Server, to string) (text, html string) {
	t.Helper()
	got := smtp.For(to)
	if len(got) != 1 {
		t.Fatalf("%s received %d messages, want 1", to, len(got))
	}
	msg, err := got[0].Parsed()
	if err != nil {
		t.Fatal(err)
	}
	text, html = parts(t, msg)
	// The text part wraps long lines: compare words.
	return strings.Join(strings.Fields(text), " "), html
}

// A story published in both languages reaches each reader in their own,
// linked to the other; a story published only in Vietnamese reaches the
// English reader as the digest's other_language says: with a badge, not at
// all, or in English once staff translated it on the curation page. Real
// parts: the CLI, SQLite files, feeds over HTTP, the in-process SMTP
// server, and the staff area over HTTP.
func TestStoriesReachEachReaderInTheirLanguage(t *testing.T) {
	for _, mode := range []string{"badge", "omit", "translated_only"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			smtp := smtptest.Start(t)
			portals := storyPortals(t)
			cfgPath := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(cfgPath, fmt.Appendf(nil, storiesTOML, filepath.Join(dir, "hp.db"), filepath.Join(dir, "outbox"), smtp.Host, smtp.Port, portals.URL, mode), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, s := range [][]string{{"lan@example.jp", "vi"}, {"david@example.us", "en"}} {
				if code, _, errOut := cli(t, "-config", cfgPath, "-add-subscriber", s[0], "-lang", s[1]); code != 0 {
					t.Fatal(errOut)
				}
			}
			if mode == "translated_only" {
				// Before staff translate it, the English reader would not get it.
				preview := filepath.Join(dir, "preview.html")
				if code, _, errOut := cli(t, "-config", cfgPath, "-fetch-now"); code != 0 {
					t.Fatal(errOut)
				}
				if code, _, errOut := cli(t, "-config", cfgPath, "-preview", preview, "-lang", "en"); code != 0 {
					t.Fatal(errOut)
				}
				if b, _ := os.ReadFile(preview); strings.Contains(string(b), "Tràng Duệ mở rộng") || !strings.Contains(string(b), lgdTitleEN) {
					t.Fatalf("translated_only: the English preview before translation:\n%s", b)
				}
				translateOnTheCurationPage(t, cfgPath, "Tràng Duệ mở rộng", trangDueEN, "The city approved a 200 ha extension of Trang Due industrial park for new foreign investment.")
			}
			if code, out, errOut := cli(t, "-config", cfgPath, "-send-now"); code != 0 || !strings.Contains(out, "2 sent") {
				t.Fatalf("send-now: exit %d: %s %s", code, out, errOut)
			}

			// The paired story, in each reader's language, linked to the other.
			viText, viHTML := readerMail(t, smtp, "lan@example.jp")
			enText, enHTML := readerMail(t, smtp, "david@example.us")
			if !strings.Contains(viText, lgdTitleVI) || strings.Contains(viText, lgdTitleEN) ||
				!strings.Contains(viText, "Also in English: "+lgdENLink) ||
				!strings.Contains(viHTML, `href="`+lgdENLink+`" lang="en" hreflang="en"`) {
				t.Errorf("the Vietnamese reader's LG Display story:\n%s", viText)
			}
			if !strings.Contains(enText, lgdTitleEN) || strings.Contains(enText, lgdTitleVI) ||
				!strings.Contains(enText, "Bản tiếng Việt: "+lgdVILink) ||
				!strings.Contains(enHTML, `href="`+lgdVILink+`" lang="vi" hreflang="vi"`) {
				t.Errorf("the English reader's LG Display story:\n%s", enText)
			}
			if !strings.Contains(viText, trangDueVI) {
				t.Errorf("the Vietnamese reader lacks the Vietnamese-only story")
			}

			// The Vietnamese-only story for the English reader.
			badged := strings.Contains(enText, "[Tiếng Việt] "+trangDueVI) && strings.Contains(enHTML, `>Tiếng Việt</span>`)
			translated := strings.Contains(enText, trangDueEN) && strings.Contains(enText, "Translated by the editors; the original is in Vietnamese.")
			anyVersion := strings.Contains(enText, "Tràng Duệ mở rộng") || strings.Contains(enText, trangDueEN)
			switch mode {
			case "badge":
				if !badged || translated {
					t.Errorf("badge: the English reader should get the Vietnamese story with its badge:\n%s", enText)
				}
			case "omit":
				if anyVersion {
					t.Errorf("omit: the English reader got the Vietnamese-only story:\n%s", enText)
				}
			case "translated_only":
				if !translated || strings.Contains(enText, trangDueVI) {
					t.Errorf("translated_only: the English reader should get the staff translation:\n%s", enText)
				}
				if !strings.Contains(viText, trangDueVI) || strings.Contains(viText, trangDueEN) {
					t.Errorf("translated_only: the Vietnamese reader's version changed:\n%s", viText)
				}
			}
		})
	}
}

// translateOnTheCurationPage assembles the draft and has an editor write
// the English title and summary of the story titled like title, through
// the staff area's translation form.
func translateOnTheCurationPage(t *testing.T, cfgPath, title, en, summary string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, app.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), ThrowawayLinkKey: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.FetchNow(ctx)
	d, _ := cfg.Digest("weekly")
	iss, _, err := a.Assemble(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	var itemID int64
	for _, it := range iss.Items {
		if strings.Contains(it.Item.Title, title) {
			itemID = it.ItemID
		}
	}
	if itemID == 0 {
		t.Fatalf("no %q in the draft", title)
	}
	area, err := staff.New(ctx, a, cfg.Staff)
	if err != nil {
		t.Fatal(err)
	}
	defer area.Wait()
	if err := staff.CreateAccount(ctx, a.DB, "editor@haiphong.example.org", "Biên tập viên", "a long enough password"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Handler(a.DB, a.Log, area))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	page := func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", resp.Request.URL, resp.StatusCode)
		}
		return string(b)
	}
	csrfRe := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	login := csrfRe.FindStringSubmatch(page(c.Get(srv.URL + "/staff/login")))
	page(c.PostForm(srv.URL+"/staff/login", url.Values{"csrf": {login[1]}, "email": {"editor@haiphong.example.org"}, "password": {"a long enough password"}}))
	curation := page(c.Get(fmt.Sprintf("%s/staff/issues/%d", srv.URL, iss.ID)))
	form := regexp.MustCompile(fmt.Sprintf(`(?s)action="/staff/issues/%d/items/%d/translate".*?name="csrf" value="([^"]+)".*?name="version" value="(\d+)".*?name="lang" value="en"`, iss.ID, itemID)).FindStringSubmatch(curation)
	if form == nil {
		t.Fatal("the curation page has no form to translate the story into English")
	}
	done := page(c.PostForm(fmt.Sprintf("%s/staff/issues/%d/items/%d/translate", srv.URL, iss.ID, itemID),
		url.Values{"csrf": {form[1]}, "version": {form[2]}, "lang": {"en"}, "title": {en}, "summary": {summary}}))
	if !strings.Contains(done, en) {
		t.Fatal("the curation page does not show the translation after saving it")
	}
}
