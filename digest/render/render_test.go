package render_test

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf8"

	"github.com/haiphong/hpdigest/digest/render"
	"github.com/haiphong/hpdigest/templates"
	"golang.org/x/net/html"
	"golang.org/x/text/unicode/norm"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/render")

const goldenDir = "../../testdata/render"

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./digest/render -run Golden -update)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the golden file at line %d:\n got: %q\nwant: %q\n(if the change is intended, rerun with -update and review the diff)", name, i+1, g, w)
			}
		}
	}
}

func TestGolden(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range []string{"vi", "en"} {
		v, err := r.Variant(fixedIssue(), lang, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, txt := v.Personalise(reader)
		golden(t, "issue-"+lang+".html", h)
		golden(t, "issue-"+lang+".txt", txt)
		golden(t, "issue-"+lang+".subject", v.Subject+"\n")
	}
}

func TestSubjectAndDates(t *testing.T) {
	r := newRenderer(t)
	// The subject names the first story the reader gets in their language.
	for lang, want := range map[string]string{
		"vi": "Bản tin Hải Phòng số 12 – Thứ Sáu, 20/11/2026: Hải Phòng gặp mặt kiều bào nhân dịp Tết cổ truyền",
		"en": "Hai Phong Digest #12 – Friday, 20 November 2026: Hai Phong meets overseas Vietnamese ahead of Tet",
	} {
		v, err := r.Variant(fixedIssue(), lang, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v.Subject != want {
			t.Errorf("%s subject = %q, want %q", lang, v.Subject, want)
		}
		if v.Items != 4 {
			t.Errorf("%s items = %d, want 4", lang, v.Items)
		}
		h, txt := v.Personalise(reader)
		// 17 Nov 23:00 UTC is 18 Nov in the digest's time zone.
		day := map[string]string{"vi": "18/11/2026", "en": "18 Nov 2026"}[lang]
		if !strings.Contains(h, "VietnamPlus · "+day) || !strings.Contains(txt, "VietnamPlus · "+day) {
			t.Errorf("%s: item date not shown as %q in the digest's time zone", lang, day)
		}
		if !strings.Contains(h, `<html lang="`+lang+`">`) {
			t.Errorf("%s: no lang attribute on <html>", lang)
		}
	}
	// A Vietnamese reader's issue with the midnight boundary in Hai Phong.
	iss := fixedIssue()
	iss.Date = iss.Date.Add(17 * time.Hour).UTC() // 01:00 Saturday in Hai Phong, Friday in UTC
	if got := r.Subject(iss, "vi"); !strings.Contains(got, "số 12 – Thứ Bảy, 21/11/2026: ") {
		t.Errorf("subject %q: date not in the digest's time zone", got)
	}
	// An issue without stories: the subject with the date alone.
	iss.Sections = nil
	if got := r.Subject(iss, "vi"); !strings.HasSuffix(got, "số 12 – Thứ Bảy, 21/11/2026") {
		t.Errorf("subject of an empty issue %q: want the date, in the digest's time zone", got)
	}
}

func TestThemeSelection(t *testing.T) {
	r := newRenderer(t)
	v, err := r.Variant(fixedIssue(), "en", []string{"fdi"})
	if err != nil {
		t.Fatal(err)
	}
	h, txt := v.Personalise(reader)
	if v.Items != 1 || !strings.Contains(h, "Foreign investment") || strings.Contains(h, "Overseas Vietnamese") || strings.Contains(txt, "Poland") {
		t.Errorf("fdi-only variant: items=%d, wrong sections", v.Items)
	}
	v, err = r.Variant(fixedIssue(), "en", []string{"china"}) // only an empty section
	if err != nil {
		t.Fatal(err)
	}
	if v.Items != 0 {
		t.Errorf("variant with only empty sections has %d items, want 0 (nothing to send)", v.Items)
	}
	if _, err := r.Variant(fixedIssue(), "fr", nil); err == nil {
		t.Error("unsupported language accepted")
	}
}

func TestStaffOverridesAndLanguageMarks(t *testing.T) {
	r := newRenderer(t)
	v, _ := r.Variant(fixedIssue(), "vi", nil)
	h, _ := v.Personalise(reader)
	if !strings.Contains(h, "Hải Phòng và Quảng Tây ký thỏa thuận") || strings.Contains(h, "Guangxi sign") {
		t.Error("staff's Vietnamese title not used")
	}
	// The English story keeps its English title; it is marked lang="en".
	if !strings.Contains(h, `lang="en"><a href="https://en.vietnamplus.vn/vietnamese-library-poland.vnp"`) {
		t.Error("an English title in the Vietnamese issue is not marked lang=en")
	}
	// Sanitised feed HTML becomes a plain summary.
	if !strings.Contains(h, "Nhà đầu tư Hàn Quốc &amp; Nhật Bản mở rộng nhà máy") {
		t.Error("summary from the feed's HTML missing")
	}
}

var placeholder = regexp.MustCompile(`hpd[0-9a-f]{24}[a-z]+`)

func TestPersonaliseEscapes(t *testing.T) {
	r := newRenderer(t)
	v, err := r.Variant(fixedIssue(), "en", nil)
	if err != nil {
		t.Fatal(err)
	}
	hostile := render.Recipient{
		Name:           `<script>alert(1)</script>"><img src=x onerror=alert(2)>` + "\r\nBcc: victim@example.org",
		Email:          `a"<b>@example.org`,
		UnsubscribeURL: `javascript:alert(3)`,
		PreferencesURL: `https://x.example.org/p?a=1&b="><script>`,
	}
	h, txt := v.Personalise(hostile)
	for _, bad := range []string{"<script", "<img src=x", "javascript:", "<b>"} {
		if strings.Contains(h, bad) {
			t.Errorf("HTML part contains %q after personalising with a hostile recipient", bad)
		}
	}
	if !strings.Contains(h, "Dear &lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt; Bcc: victim@example.org,") {
		t.Error("hostile name not shown escaped in the greeting")
	}
	if strings.Contains(txt, "\r") || strings.Contains(txt, "\nBcc:") {
		t.Error("line break from the name reached the text part")
	}
	if placeholder.MatchString(h) || placeholder.MatchString(txt) {
		t.Error("a placeholder survived Personalise")
	}
	// A good recipient: the values appear, escaped for HTML attributes.
	h, txt = v.Personalise(reader)
	if !strings.Contains(h, `href="https://digest.example.org/unsubscribe?t=tok.123&amp;x=1"`) ||
		!strings.Contains(txt, "https://digest.example.org/unsubscribe?t=tok.123&x=1") {
		t.Error("unsubscribe URL not filled in")
	}
	if !strings.Contains(h, "Dear Nguyễn Thị Lan,") || !strings.Contains(h, "because lan@example.org subscribed") {
		t.Error("name or email not filled in")
	}
	// No name: a polite greeting without an empty slot.
	h, _ = v.Personalise(render.Recipient{Email: "x@example.org"})
	if !strings.Contains(h, "Dear reader,") {
		t.Error("anonymous greeting missing")
	}
	// Feed text cannot inject a placeholder: tokens are random per renderer.
	r2 := newRenderer(t)
	iss := fixedIssue()
	v1, _ := r.Variant(iss, "en", nil)
	v2, _ := r2.Variant(iss, "en", nil)
	t1 := placeholder.FindString(v1Raw(v1))
	if t1 == "" || strings.Contains(v1Raw(v2), t1) {
		t.Error("placeholders are not unique per renderer")
	}
}

// v1Raw is a variant's HTML before Personalise.
func v1Raw(v *render.Variant) string { return render.RawHTMLForTest(v) }

func TestTwentyItemIssueBudget(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range []string{"vi", "en"} {
		v, err := r.Variant(bigIssue(20), lang, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, txt := v.Personalise(reader)
		t.Logf("%s: 20-item issue: HTML %d bytes (%.0f%% of 100 KB), text %d bytes", lang, len(h), float64(len(h))*100/102400, len(txt))
		if len(h) >= 100*1024 {
			t.Errorf("%s: HTML is %d bytes, over the 100 KB budget (Gmail clips at ~102 KB)", lang, len(h))
		}
		checkHTML(t, h)
		if !norm.NFC.IsNormalString(h) || !norm.NFC.IsNormalString(txt) {
			t.Error("output not in NFC")
		}
	}
}

// checkHTML parses an email and asserts what mail clients and readers need.
func checkHTML(t *testing.T, h string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(h))
	if err != nil {
		t.Fatal(err)
	}
	imgs, styles := 0, 0
	lastHeading := 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			has := map[string]bool{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
				has[a.Key] = true
			}
			switch n.Data {
			case "script", "iframe", "object", "form":
				t.Errorf("<%s> in the email", n.Data)
			case "link":
				t.Errorf("<link> in the email (external CSS): %v", n.Attr)
			case "style":
				styles++
				// Progressive extras only: every rule in a <style> is an @media rule.
				if n.FirstChild == nil || !strings.HasPrefix(strings.TrimSpace(n.FirstChild.Data), "@media") || strings.Contains(n.FirstChild.Data, "@import") {
					t.Errorf("<style> with more than @media rules: %v", n.FirstChild)
				}
			case "img":
				imgs++
				if attr["width"] == "" || attr["height"] == "" || !has["alt"] {
					t.Errorf("<img> without width, height or alt: %v", n.Attr)
				}
				if strings.HasPrefix(attr["src"], "cid:") || strings.HasPrefix(attr["src"], "data:") {
					t.Errorf("image attached or inlined, not linked: %s", attr["src"])
				}
			case "h1", "h2", "h3", "h4":
				lvl := int(n.Data[1] - '0')
				if lvl > lastHeading+1 {
					t.Errorf("heading <%s> after <h%d>: levels skipped", n.Data, lastHeading)
				}
				lastHeading = lvl
			case "a":
				if strings.TrimSpace(textOf(n)) == "" {
					t.Errorf("link without text: %v", n.Attr)
				}
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("event handler attribute %s", a.Key)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if imgs == 0 {
		t.Error("no images in an issue with images")
	}
	if styles == 0 {
		t.Error("no <style> block for small screens and dark mode")
	}
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

func TestBrokenOverrideFailsAtStartWithFileAndLine(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "email"), 0o755); err != nil {
		t.Fatal(err)
	}
	broken := "<!DOCTYPE html>\n<html>\n<body>\n<p>{{.DigestName}</p>\n</body>\n"
	if err := os.WriteFile(filepath.Join(dir, "email", "issue.html.tmpl"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys, err := templates.FS(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = render.New(fsys)
	if err == nil || !strings.Contains(err.Error(), "email/issue.html.tmpl:4") {
		t.Fatalf("New with a broken override: err = %v, want one naming email/issue.html.tmpl:4", err)
	}

	// Errors that only show when the template runs are caught at New too.
	for name, tc := range map[string]struct{ file, body, want string }{
		"unknown field":   {"email/issue.txt.tmpl", "{{.P.Greeting}}\n{{.NoSuchField}}\n", "email/issue.txt.tmpl:2"},
		"unknown message": {"email/issue.txt.tmpl", "{{t \"no_such_key\"}}\n", "no_such_key"},
		"unknown class":   {"web/archive/index.html.tmpl", "<p {{s \"nope\"}}>x</p>", `class "nope"`},
		"bad catalogue":   {"email/messages.toml", "[vi]\nx = \"a\"\n[en]\ny = = 1\n", "email/messages.toml:4"},
		"missing key":     {"email/messages.toml", "[vi]\nx = \"a\"\n[en]\n", "[en] lacks x"},
		"bad css":         {"email/styles.css", "div .a { color:red }", "email/styles.css"},
	} {
		m := fstest.MapFS{}
		if err := fsCopy(m, templates.Embedded()); err != nil {
			t.Fatal(err)
		}
		m[tc.file] = &fstest.MapFile{Data: []byte(tc.body)}
		_, err := render.New(m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", name, err, tc.want)
		}
	}
	// A missing template is named.
	m := fstest.MapFS{}
	_ = fsCopy(m, templates.Embedded())
	delete(m, "email/issue.txt.tmpl")
	if _, err := render.New(m); err == nil || !strings.Contains(err.Error(), "email/issue.txt.tmpl") {
		t.Errorf("missing template: err = %v", err)
	}
}

func TestOverrideIsUsed(t *testing.T) {
	dir := t.TempDir()
	_ = os.MkdirAll(filepath.Join(dir, "email"), 0o755)
	body := "CUSTOM {{.DigestName}} {{.P.Greeting}}\n{{.P.Preferences}} {{.P.Unsubscribe}}\n{{.Sender.PostalAddress}}\n"
	if err := os.WriteFile(filepath.Join(dir, "email", "issue.txt.tmpl"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys, err := templates.FS(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := render.New(fsys)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := r.Variant(fixedIssue(), "en", nil)
	h, txt := v.Personalise(reader)
	if !strings.HasPrefix(txt, "CUSTOM Hai Phong Digest Dear Nguyễn Thị Lan,\n"+reader.PreferencesURL+" "+reader.UnsubscribeURL+"\n") || !strings.Contains(h, "<h1") {
		t.Errorf("override not applied: %q", txt)
	}
}

// An override that drops the unsubscribe link, the preferences link or the
// postal address, from either part, stops the program at start-up, naming
// the file and what is missing.
func TestOverrideMustKeepLinksAndAddress(t *testing.T) {
	for _, c := range []struct{ file, drop, what string }{
		{"email/issue.html.tmpl", "{{.P.Unsubscribe}}", "unsubscribe link"},
		{"email/issue.html.tmpl", "{{.P.Preferences}}", "preferences link"},
		{"email/issue.html.tmpl", "{{- range lines .Sender.PostalAddress}}<br>{{.}}{{end}}", "postal address"},
		{"email/issue.txt.tmpl", "{{.P.Unsubscribe}}", "unsubscribe link"},
		{"email/issue.txt.tmpl", "{{.P.Preferences}}", "preferences link"},
		{"email/issue.txt.tmpl", "{{.Sender.PostalAddress}}", "postal address"},
	} {
		m := fstest.MapFS{}
		if err := fsCopy(m, templates.Embedded()); err != nil {
			t.Fatal(err)
		}
		src := string(m[c.file].Data)
		if !strings.Contains(src, c.drop) {
			t.Fatalf("%s has no %q to drop", c.file, c.drop)
		}
		m[c.file] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(src, c.drop, ""))}
		_, err := render.New(m)
		if err == nil || !strings.Contains(err.Error(), c.file) || !strings.Contains(err.Error(), c.what) {
			t.Errorf("%s without %s: err = %v", c.file, c.what, err)
		}
	}
}

// fsCopy copies every file of src into m.
func fsCopy(m fstest.MapFS, src fs.FS) error {
	return fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, path)
		if err != nil {
			return err
		}
		m[path] = &fstest.MapFile{Data: b}
		return nil
	})
}

func TestTextPartStandsAlone(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range []string{"vi", "en"} {
		v, err := r.Variant(bigIssue(20), lang, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, txt := v.Personalise(reader)
		if strings.ContainsAny(txt, "<>") || strings.Contains(txt, "&amp;") || strings.Contains(txt, "&#") {
			t.Errorf("%s: markup or HTML entities in the text part", lang)
		}
		for i, line := range strings.Split(txt, "\n") {
			if utf8.RuneCountInString(line) > 72 && !strings.Contains(line, "://") {
				t.Errorf("%s: text line %d is %d characters: %q", lang, i+1, utf8.RuneCountInString(line), line)
			}
		}
		// Every story's title and link, and the reader's links, are there.
		for _, sec := range bigIssue(20).Sections {
			if !strings.Contains(txt, strings.ToUpper(sec.Theme.Name(lang))) {
				t.Errorf("%s: section %s missing from the text part", lang, sec.Theme.Key)
			}
			for _, it := range sec.Items {
				if !strings.Contains(txt, it.URL) {
					t.Errorf("%s: link %s missing from the text part", lang, it.URL)
				}
			}
		}
		for _, u := range []string{reader.UnsubscribeURL, reader.PreferencesURL, webBase + "?lang=" + lang} {
			if !strings.Contains(txt, u) {
				t.Errorf("%s: %s missing from the text part", lang, u)
			}
		}
	}
}

func TestDecomposedFeedTextComesOutNFC(t *testing.T) {
	r := newRenderer(t)
	iss := fixedIssue()
	it := &iss.Sections[0].Items[0]
	it.Title = render.Localized{Default: norm.NFD.String("Hải Phòng đón kiều bào về quê ăn Tết")}
	it.Summary = render.Localized{Default: norm.NFD.String("Người Việt ở nước ngoài")}
	iss.Sections[0].Theme.NameVI = norm.NFD.String("Kiều bào")
	v, err := r.Variant(iss, "vi", nil)
	if err != nil {
		t.Fatal(err)
	}
	h, txt := v.Personalise(render.Recipient{Name: norm.NFD.String("Trần Thị Hồng"), Email: "h@example.org"})
	for _, s := range []string{h, txt} {
		if !norm.NFC.IsNormalString(s) {
			t.Fatal("output not NFC")
		}
		for _, want := range []string{"Hải Phòng đón kiều bào về quê ăn Tết", "Người Việt ở nước ngoài", "Trần Thị Hồng"} {
			if !strings.Contains(s, want) {
				t.Errorf("NFC text %q missing", want)
			}
		}
	}
	if !strings.Contains(txt, "KIỀU BÀO") {
		t.Error("NFC section name missing from the text part")
	}
}

func TestArchivePage(t *testing.T) {
	r := newRenderer(t)
	b, err := r.ArchivePage("vi", []render.ArchiveIssue{
		{Number: 2, Date: friday, Items: 5, URL: "https://d.example.org/issues/2?lang=vi"},
		{Number: 1, Date: friday.AddDate(0, 0, -7), URL: "https://d.example.org/issues/1?lang=vi"},
	}, render.ArchiveOptions{Location: ict, FeedURL: "https://d.example.org/issues/feed.atom?lang=vi"})
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{`<html lang="vi">`, "Số 2 – Thứ Sáu, 20/11/2026", "5 tin", "Số 1 – Thứ Sáu, 13/11/2026", `rel="alternate" type="application/atom+xml"`} {
		if !strings.Contains(page, want) {
			t.Errorf("archive page lacks %q", want)
		}
	}
	if strings.Contains(page, "0 tin") {
		t.Error("unknown item count shown as 0")
	}
	b, _ = r.ArchivePage("en", nil, render.ArchiveOptions{})
	if !strings.Contains(string(b), "No issue has been sent yet.") {
		t.Error("empty archive has no message")
	}
}

func TestHostileFeedContent(t *testing.T) {
	r := newRenderer(t)
	iss := fixedIssue()
	iss.Sections[0].Items = append(iss.Sections[0].Items, render.Item{
		Title:       render.Localized{Default: `<script>alert("t")</script> Tin <b>nóng</b>`},
		SummaryHTML: `<p onclick="x()">Xin chào</p><script>alert("s")</script><iframe src="https://evil.example"></iframe>`,
		URL:         "javascript:alert(1)",
		Source:      `"><img src=x onerror=alert(3)>`,
		Language:    `en" onmouseover="alert(4)`,
		ImageURL:    "javascript:alert(5)",
	})
	for _, lang := range []string{"vi", "en"} {
		v, err := r.Variant(iss, lang, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, txt := v.Personalise(reader)
		checkHTML(t, h)
		for _, bad := range []string{"javascript:", "<script", "<img src=x", `" onmouseover`, "<iframe", "<b>nóng"} {
			if strings.Contains(h, bad) {
				t.Errorf("%s: %q reached the HTML", lang, bad)
			}
		}
		if !strings.Contains(h, "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; Tin &lt;b&gt;nóng&lt;/b&gt;") {
			t.Errorf("%s: hostile title not shown as text", lang)
		}
		if strings.Contains(txt, "javascript:") {
			t.Errorf("%s: javascript: URL in the text part", lang)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	r := newRenderer(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lang := []string{"vi", "en"}[i%2]
			v, err := r.Variant(fixedIssue(), lang, nil)
			if err != nil {
				t.Error(err)
				return
			}
			h, _ := v.Personalise(reader)
			want, _ := os.ReadFile(filepath.Join(goldenDir, "issue-"+lang+".html"))
			if h != string(want) {
				t.Errorf("concurrent render %d differs from the golden file", i)
			}
			if _, err := r.WebPage(fixedIssue(), lang, render.WebOptions{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}
