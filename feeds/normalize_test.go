package feeds

import (
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func rss(items string) string {
	return `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title><link>https://portal.example.vn/</link>` + items + `</channel></rss>`
}

func mustParse(t *testing.T, body []byte, contentType string) []Item {
	t.Helper()
	p, err := parseFeed(body, contentType, "https://portal.example.vn/rss/home.rss", "vi", loadLoc(""), testNow)
	if err != nil {
		t.Fatalf("parseFeed: %v", err)
	}
	return p.Items
}

func TestEncodings(t *testing.T) {
	const vi = "Hải Phòng thu hút đầu tư nước ngoài, kiều bào Việt Nam"
	enc := func(cm *charmap.Charmap, s string) []byte {
		return encodeCharmap(t, cm, s)
	}
	feed := func(decl, title string) []byte {
		return []byte(`<?xml version="1.0" encoding="` + decl + `"?><rss version="2.0"><channel><title>x</title><item><title>` + title + `</title><link>https://a.vn/1</link></item></channel></rss>`)
	}
	cases := []struct {
		name, ctype string
		body        []byte
		want        string
	}{
		{"utf-8", "", feed("utf-8", vi), vi},
		{"utf-8 behind a lying ISO-8859-1 prolog", "", feed("ISO-8859-1", vi), vi},
		{"utf-8 behind a windows-1258 prolog", "", feed("windows-1258", vi), vi},
		{"utf-8 decomposed (NFD) becomes NFC", "", feed("utf-8", norm.NFD.String(vi)), vi},
		// windows-1258 keeps some tone marks as combining characters: the
		// decoded text must be recomposed.
		{"windows-1258", "", []byte(strings.Replace(string(feed("windows-1258", "")), "<title></title>", "<title>"+string(enc(charmap.Windows1258, vi))+"</title>", 1)), vi},
		{"windows-1251 from Content-Type", "application/rss+xml; charset=windows-1251", []byte(`<rss version="2.0"><channel><title>x</title><item><title>` + string(enc(charmap.Windows1251, "Привет мир")) + `</title><link>https://a.vn/1</link></item></channel></rss>`), "Привет мир"},
		{"koi8-r", "", []byte(`<?xml version="1.0" encoding="KOI8-R"?><rss version="2.0"><channel><title>x</title><item><title>` + string(enc(charmap.KOI8R, "Первая новость")) + `</title><link>https://a.vn/1</link></item></channel></rss>`), "Первая новость"},
		{"no declaration, latin-1 bytes", "", []byte("<rss version=\"2.0\"><channel><title>x</title><item><title>Caf\xe9 cr\xe8me</title><link>https://a.vn/1</link></item></channel></rss>"), "Café crème"},
		{"declared latin-1", "", []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>x</title><item><title>J\xfcrgen</title><link>https://a.vn/1</link></item></channel></rss>"), "Jürgen"},
		{"utf-8 BOM", "", append([]byte{0xEF, 0xBB, 0xBF}, feed("utf-8", vi)...), vi},
		{"double-escaped entity in title", "", feed("utf-8", "Hải Ph&amp;#242;ng &amp;amp; Đ&amp;#7891; Sơn"), "Hải Phòng & Đồ Sơn"},
		{"named entities", "", feed("utf-8", "&lt;b&gt;Tin n&amp;oacute;ng&lt;/b&gt; v&#7873; FDI"), "Tin nóng về FDI"},
		{"one stray bad byte in a UTF-8 feed", "", []byte(strings.Replace(string(feed("utf-8", vi+" \xff")), "", "", 1)), vi},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items := mustParse(t, c.body, c.ctype)
			if len(items) != 1 {
				t.Fatalf("got %d items, want 1", len(items))
			}
			got := items[0].Title
			if got != c.want {
				t.Errorf("title = %q, want %q", got, c.want)
			}
			if !utf8.ValidString(got) || !norm.NFC.IsNormalString(got) {
				t.Errorf("title %q is not valid NFC UTF-8", got)
			}
		})
	}
}

// encodeCharmap encodes s, decomposing characters the charset lacks as far
// as needed (how windows-1258 writes Vietnamese: base letter + tone mark).
func encodeCharmap(t *testing.T, cm *charmap.Charmap, s string) []byte {
	t.Helper()
	e := cm.NewEncoder()
	var out []byte
	for _, r := range s {
		if b, err := e.Bytes([]byte(string(r))); err == nil {
			out = append(out, b...)
			continue
		}
		// base letter with one mark precomposed, the other marks combining
		// (ệ = ê + dot below)
		d := []rune(norm.NFD.String(string(r)))
		done := false
		for k := 0; k < len(d) && !done; k++ {
			head := []rune{d[0]}
			if k > 0 {
				head = append(head, d[k])
			}
			var rest []rune
			for j := 1; j < len(d); j++ {
				if j != k {
					rest = append(rest, d[j])
				}
			}
			h, err1 := e.Bytes([]byte(norm.NFC.String(string(head))))
			tl, err2 := e.Bytes([]byte(string(rest)))
			if err1 == nil && err2 == nil {
				out, done = append(append(out, h...), tl...), true
			}
		}
		if !done {
			t.Fatalf("cannot encode %q in %v", r, cm)
		}
	}
	return out
}

func TestJunkBeforeTheDocument(t *testing.T) {
	body := "\nWarning: mysql_connect(): Too many connections in /var/www/rss.php on line 12\n" + rss(`<item><title>Tin</title><link>https://a.vn/1</link></item>`)
	items := mustParse(t, []byte(body), "")
	if len(items) != 1 || items[0].Title != "Tin" {
		t.Fatalf("items %+v", items)
	}
}

func TestUnknownCharsetIsAClearError(t *testing.T) {
	body := []byte("<?xml version=\"1.0\" encoding=\"x-no-such-charset\"?><rss version=\"2.0\"><channel><item><title>\xe9\xe9</title></item></channel></rss>")
	_, err := parseFeed(body, "", "https://a.vn/rss", "vi", nil, testNow)
	if err == nil || !strings.Contains(err.Error(), "x-no-such-charset") {
		t.Fatalf("err = %v, want one naming the charset", err)
	}
}

func TestNormalizeURL(t *testing.T) {
	base, _ := url.Parse("https://Portal.Example.vn/tin-tuc/")
	cases := []struct{ in, want string }{
		{"HTTPS://WWW.Example.VN/a/b.html", "https://www.example.vn/a/b.html"},
		{"https://example.vn:443/a", "https://example.vn/a"},
		{"http://example.vn:80/a", "http://example.vn/a"},
		{"http://example.vn:8080/a", "http://example.vn:8080/a"},
		{"https://example.vn", "https://example.vn/"},
		{"https://example.vn/a?utm_source=rss&utm_medium=feed&id=5#comments", "https://example.vn/a?id=5"},
		{"https://example.vn/a?fbclid=x&zarsrc=31&gidzl=y&b=2&a=1", "https://example.vn/a?a=1&b=2"},
		{"https://example.vn/a?utm_campaign=x", "https://example.vn/a"},
		{"bai-viet-123.html", "https://portal.example.vn/tin-tuc/bai-viet-123.html"},
		{"/bai-viet-123.html?utm_source=x", "https://portal.example.vn/bai-viet-123.html"},
		{"//cdn.example.vn/x", "https://cdn.example.vn/x"},
		{"javascript:alert(1)", ""},
		{"mailto:a@b.vn", ""},
		{"", ""},
		{"https://example.vn/Đà-Nẵng", "https://example.vn/%C4%90%C3%A0-N%E1%BA%B5ng"},
	}
	for _, c := range cases {
		if got := NormalizeURL(c.in, base); got != c.want {
			t.Errorf("NormalizeURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if storyKey("https://www.example.vn/a?id=5") != storyKey("http://example.vn/a?id=5") {
		t.Error("http/https and www/non-www copies of one article must share a story key")
	}
	if storyKey("https://example.vn/") != "" {
		t.Error("a home page is not a story")
	}
}

func TestIdentity(t *testing.T) {
	items := mustParse(t, []byte(rss(`
		<item><guid>g-1</guid><title>A</title><link>https://a.vn/1</link></item>
		<item><guid>g-1</guid><title>A</title><link>https://a.vn/1</link></item>
		<item><title>B</title><link>https://a.vn/2?utm_source=rss</link></item>
		<item><guid isPermaLink="false">same</guid><title>C</title><link>https://a.vn/3</link></item>
		<item><guid isPermaLink="false">same</guid><title>D</title><link>https://a.vn/4</link></item>
		<item><title>E</title><description>no link, no guid</description></item>
		<item><title>F</title><link>https://a.vn/</link></item>
		<item><title>G</title><link>https://a.vn/</link></item>
	`)), "")
	var ids []string
	for _, it := range items {
		ids = append(ids, it.Title+"="+it.GUID)
	}
	if len(items) != 7 {
		t.Fatalf("got %d items %v, want 7 (the exact repeat of A dropped)", len(items), ids)
	}
	want := map[string]string{"A": "g-1", "B": "https://a.vn/2", "C": "https://a.vn/3", "D": "https://a.vn/4"}
	seen := map[string]bool{}
	for _, it := range items {
		if w, ok := want[it.Title]; ok && it.GUID != w {
			t.Errorf("%s: identity %q, want %q", it.Title, it.GUID, w)
		}
		if seen[it.GUID] {
			t.Errorf("identity %q used twice: %v", it.GUID, ids)
		}
		seen[it.GUID] = true
		if it.Title == "E" && !strings.HasPrefix(it.GUID, "sha256:") {
			t.Errorf("E: identity %q, want a content hash", it.GUID)
		}
	}
	// A content hash is stable: the same item parsed again has the same identity.
	again := mustParse(t, []byte(rss(`<item><title>E</title><description>no link, no guid</description></item>`)), "")
	for _, it := range items {
		if it.Title == "E" && it.GUID != again[0].GUID {
			t.Errorf("hash identity not stable: %q vs %q", it.GUID, again[0].GUID)
		}
	}
}

func TestContentSanitising(t *testing.T) {
	desc := `<![CDATA[<p>Thành phố<br>Hải Phòng</p><div>đón</div><div>nhà đầu tư</div>
		<script>alert('x')</script><style>p{color:red}</style><iframe src="https://evil.example/"></iframe>
		<p onclick="steal()" style="color:red">Xem <a href="/tin/chi-tiet.html" onmouseover="x()">chi tiết</a></p>
		<img src="https://track.example/pixel.gif" width="1" height="1">
		<img src="anh/cang.jpg" alt="Cảng" width="600">
		<a href="javascript:alert(1)">bad</a>]]>`
	items := mustParse(t, []byte(rss(`<item><title>T</title><link>https://portal.example.vn/tin/bai-1.html</link><description>`+desc+`</description></item>`)), "")
	it := items[0]
	h := it.SummaryHTML
	for _, bad := range []string{"<script", "alert(", "<style", "color:red", "<iframe", "evil.example", "onclick", "onmouseover", "pixel.gif", "javascript:", "style="} {
		if strings.Contains(h, bad) {
			t.Errorf("SummaryHTML contains %q:\n%s", bad, h)
		}
	}
	for _, good := range []string{`href="https://portal.example.vn/tin/chi-tiet.html"`, `src="https://portal.example.vn/tin/anh/cang.jpg"`, "nhà đầu tư"} {
		if !strings.Contains(h, good) {
			t.Errorf("SummaryHTML lacks %q:\n%s", good, h)
		}
	}
	txt := it.SummaryText
	for _, want := range []string{"Thành phố Hải Phòng đón nhà đầu tư", "Xem chi tiết"} {
		if !strings.Contains(txt, want) {
			t.Errorf("SummaryText = %q, want it to contain %q (no glued words)", txt, want)
		}
	}
	if strings.Contains(txt, "alert") || strings.Contains(txt, "color") {
		t.Errorf("SummaryText has script/style text: %q", txt)
	}
	if it.ImageURL != "https://portal.example.vn/tin/anh/cang.jpg" {
		t.Errorf("ImageURL = %q, want the first real image, absolute", it.ImageURL)
	}
}

func TestDoubleEscapedDescription(t *testing.T) {
	items := mustParse(t, []byte(rss(`<item><title>T</title><link>https://a.vn/1</link><description>&lt;p&gt;Kinh t&amp;amp;#7871; bi&amp;amp;#7875;n&lt;/p&gt;</description></item>`)), "")
	if got := items[0].SummaryText; got != "Kinh tế biển" {
		t.Errorf("SummaryText = %q, want %q", got, "Kinh tế biển")
	}
	if got := items[0].SummaryHTML; got != "<p>Kinh tế biển</p>" {
		t.Errorf("SummaryHTML = %q", got)
	}
}

func TestSummaryBounded(t *testing.T) {
	long := strings.Repeat("Hải Phòng phát triển kinh tế biển. ", 200)
	items := mustParse(t, []byte(rss(`<item><title>T</title><link>https://a.vn/1</link><description>`+long+`</description></item>`)), "")
	if n := utf8.RuneCountInString(items[0].SummaryText); n > maxSummaryRunes {
		t.Errorf("SummaryText has %d runes, want at most %d", n, maxSummaryRunes)
	}
	if !strings.HasSuffix(items[0].SummaryText, "…") {
		t.Errorf("a cut summary should end with an ellipsis: %q", items[0].SummaryText[len(items[0].SummaryText)-20:])
	}
}

func TestLeadImage(t *testing.T) {
	items := mustParse(t, []byte(`<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>x</title><link>https://a.vn/</link>
		<item><title>media</title><link>https://a.vn/1</link><media:content url="https://img.a.vn/1.jpg" medium="image"/><description>&lt;img src="/other.jpg"&gt;</description></item>
		<item><title>thumb</title><link>https://a.vn/2</link><media:thumbnail url="/t/2.jpg"/></item>
		<item><title>enclosure</title><link>https://a.vn/3</link><enclosure url="https://img.a.vn/3.png" type="image/png" length="1"/></item>
		<item><title>audio enclosure</title><link>https://a.vn/4</link><enclosure url="https://a.vn/4.mp3" type="audio/mpeg" length="1"/></item>
		<item><title>img</title><link>https://a.vn/x/5</link><description>&lt;img src="p.gif" width="1" height="1"&gt;&lt;img src="5.jpg"&gt;</description></item>
	</channel></rss>`), "")
	want := map[string]string{"media": "https://img.a.vn/1.jpg", "thumb": "https://a.vn/t/2.jpg", "enclosure": "https://img.a.vn/3.png", "audio enclosure": "", "img": "https://a.vn/x/5.jpg"}
	for _, it := range items {
		if it.ImageURL != want[it.Title] {
			t.Errorf("%s: ImageURL = %q, want %q", it.Title, it.ImageURL, want[it.Title])
		}
	}
}

func TestHTMLWall(t *testing.T) {
	for _, body := range []string{
		"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>",
		"\n\n<html lang=\"vi\"><body>Vui lòng bật cookie</body></html>",
		"<?xml version=\"1.0\"?>\n<!-- x --><html xmlns=\"http://www.w3.org/1999/xhtml\"><body/></html>",
	} {
		if _, err := parseFeed([]byte(body), "text/html", "https://a.vn/rss", "vi", nil, testNow); err != ErrNotAFeed {
			t.Errorf("body %.40q: err = %v, want ErrNotAFeed", body, err)
		}
	}
	// An RSS document served as text/html is still a feed.
	if _, err := parseFeed([]byte(rss(`<item><title>a</title><link>https://a.vn/1</link></item>`)), "text/html", "https://a.vn/rss", "vi", nil, testNow); err != nil {
		t.Errorf("RSS served as text/html: %v", err)
	}
}
