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

// wordSettings is what Microsoft Word puts before the text of a pasted
// document: settings, maths settings and style rules.
const wordSettings = `<xml><w:WordDocument><w:View>Normal</w:View><w:Zoom>0</w:Zoom><w:TrackMoves/>` +
	`<w:SaveIfXMLInvalid>false</w:SaveIfXMLInvalid><w:IgnoreMixedContent>false</w:IgnoreMixedContent>` +
	`<w:AlwaysShowPlaceholderText>false</w:AlwaysShowPlaceholderText><w:LidThemeOther>EN-US</w:LidThemeOther>` +
	`<w:LidThemeAsian>X-NONE</w:LidThemeAsian><w:LidThemeComplexScript>X-NONE</w:LidThemeComplexScript></w:WordDocument>` +
	`<m:mathPr><m:mathFont m:val="Cambria Math"/><m:brkBin m:val="before"/></m:mathPr></xml>`

const wordStyles = `<style>/* Style Definitions */ table.MsoNormalTable {mso-style-name:"Table Normal"; mso-tstyle-rowband-size:0; font-family:"Times New Roman";}</style>`

// Descriptions pasted from Microsoft Word: the settings, style rules,
// conditional comments and paragraph marks go; the words stay, not glued.
func TestWordPaste(t *testing.T) {
	const story = "Ngày 22/11, đoàn kiều bào tại Ba Lan thăm Hải Phòng."
	cases := []struct{ name, desc string }{
		{"xml block", wordSettings + `<p class="MsoNormal">Ngày 22/11, đoàn kiều bào tại Ba Lan thăm Hải Phòng.<o:p></o:p></p>`},
		{"conditional comments", `<!--[if gte mso 9]>` + wordSettings + `<![endif]--><!--[if gte mso 10]>` + wordStyles + `<![endif]-->` +
			`<p class="MsoNormal"><span lang="VI" style="mso-ansi-language:VI">Ngày 22/11, đoàn kiều bào tại Ba Lan thăm Hải Phòng.</span></p>`},
		{"style rules", wordStyles + `<p class="MsoNormal" style="mso-margin-top-alt:auto">Ngày 22/11, đoàn kiều bào tại Ba Lan thăm Hải Phòng.<o:p>&nbsp;</o:p></p>`},
		{"w: and m: elements outside an xml block", `<w:LsdException Locked="false" Priority="99" Name="Normal">Normal</w:LsdException><m:oMathPara>false</m:oMathPara>` +
			`<p>Ngày 22/11, đoàn kiều bào tại Ba Lan thăm Hải Phòng.</p>`},
		{"smart tags keep their words", `<p class="MsoNormal">Ngày 22/11, đoàn kiều bào tại <st1:country-region w:st="on">Ba Lan</st1:country-region> thăm <st1:place w:st="on">Hải Phòng</st1:place>.<o:p></o:p></p>`},
		{"drawing", `<p><v:shapetype id="_x0000_t75" coordsize="21600,21600"><v:stroke joinstyle="miter"/><v:formulas><v:f eqn="if lineDrawn pixelLineWidth 0"/></v:formulas></v:shapetype>Ngày 22/11, đoàn kiều bào tại Ba Lan thăm Hải Phòng.</p>`},
		{"tags stripped by the portal, text left", `Normal 0 false false false EN-US X-NONE X-NONE MicrosoftInternetExplorer4 /* Style Definitions */ table.MsoNormalTable {mso-style-name:"Table Normal"; mso-style-parent:""; font-size:10.0pt;} Ngày 22/11, đoàn kiều bào tại Ba Lan thăm Hải Phòng.`},
		{"escaped conditional comment", `&lt;!--[if gte mso 9]&gt;&lt;xml&gt;&lt;w:WordDocument&gt;&lt;w:View&gt;Normal&lt;/w:View&gt;&lt;/w:WordDocument&gt;&lt;/xml&gt;&lt;![endif]--&gt;&lt;p&gt;Ngày 22/11, đoàn kiều bào tại Ba Lan thăm Hải Phòng.&lt;/p&gt;`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items := mustParse(t, []byte(rss(`<item><title>T</title><link>https://a.vn/1</link><description><![CDATA[`+c.desc+`]]></description></item>`)), "")
			it := items[0]
			if it.SummaryText != story {
				t.Errorf("SummaryText = %q, want %q", it.SummaryText, story)
			}
			for _, leak := range []string{"Normal", "false", "EN-US", "X-NONE", "Cambria", "mso-", "MsoNormal", "Style Definitions", "o:p", "w:", "m:", "v:", "xml", "if gte"} {
				if strings.Contains(it.SummaryHTML, leak) {
					t.Errorf("SummaryHTML holds %q: %s", leak, it.SummaryHTML)
				}
			}
		})
	}
	// Words that merely look like Word's settings stay.
	items := mustParse(t, []byte(rss(`<item><title>T</title><link>https://a.vn/1</link><description>Normal 0 goals, false start: EN-US talks.</description></item>`)), "")
	if got := items[0].SummaryText; got != "Normal 0 goals, false start: EN-US talks." {
		t.Errorf("ordinary text changed: %q", got)
	}
}

// Descriptions whose markup was HTML-escaped once too often are parsed and
// sanitised again: no literal tags in the text, nothing unsafe in the HTML.
func TestDoubleEscapedMarkup(t *testing.T) {
	cases := []struct {
		name, desc, text, html, image string
	}{
		{"escaped twice", `&amp;lt;p&amp;gt;Ngày 22/11, &amp;lt;b&amp;gt;kiều bào&amp;lt;/b&amp;gt; về quê.&amp;lt;/p&amp;gt;`,
			"Ngày 22/11, kiều bào về quê.", "<p>Ngày 22/11, <b>kiều bào</b> về quê.</p>", ""},
		{"escaped inside CDATA", `<![CDATA[&lt;p&gt;Ngày 22/11, kiều bào về quê.&lt;/p&gt;]]>`,
			"Ngày 22/11, kiều bào về quê.", "<p>Ngày 22/11, kiều bào về quê.</p>", ""},
		{"escaped three times", `&amp;amp;lt;p&amp;amp;gt;Ngày 22/11, kiều bào về quê.&amp;amp;lt;/p&amp;amp;gt;`,
			"Ngày 22/11, kiều bào về quê.", "<p>Ngày 22/11, kiều bào về quê.</p>", ""},
		{"escaped image and link made absolute", `&amp;lt;p&amp;gt;&amp;lt;img src=&amp;quot;/upload/kieu-bao.jpg&amp;quot;&amp;gt;Xem &amp;lt;a href=&amp;quot;/tin/1.html&amp;quot;&amp;gt;chi tiết&amp;lt;/a&amp;gt;&amp;lt;/p&amp;gt;`,
			"Xem chi tiết", `<p><img src="https://a.vn/upload/kieu-bao.jpg"/>Xem <a href="https://a.vn/tin/1.html" target="_blank" rel="noopener">chi tiết</a></p>`, "https://a.vn/upload/kieu-bao.jpg"},
		{"escaped script and pixel dropped", `&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;&amp;lt;img src=&amp;quot;/p.gif&amp;quot; width=&amp;quot;1&amp;quot; height=&amp;quot;1&amp;quot;&amp;gt;&amp;lt;p onclick=&amp;quot;x()&amp;quot;&amp;gt;Tin&amp;lt;/p&amp;gt;`,
			"Tin", "<p>Tin</p>", ""},
		{"escaped entity inside escaped markup", `&amp;lt;p&amp;gt;Kinh t&amp;amp;#7871; bi&amp;amp;#7875;n&amp;lt;/p&amp;gt;`,
			"Kinh tế biển", "<p>Kinh tế biển</p>", ""},
		{"a comparison is not markup", `GRDP tăng &amp;lt; 10% &amp;gt; 8%`,
			"GRDP tăng < 10% > 8%", "GRDP tăng &lt; 10% &gt; 8%", ""},
		{"an unknown tag name is not markup", `Giá &amp;lt;khoảng&amp;gt; 5 tỷ`,
			"Giá <khoảng> 5 tỷ", "Giá &lt;khoảng&gt; 5 tỷ", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items := mustParse(t, []byte(rss(`<item><title>T</title><link>https://a.vn/tin/1.html</link><description>`+c.desc+`</description></item>`)), "")
			it := items[0]
			if it.SummaryText != c.text {
				t.Errorf("SummaryText = %q, want %q", it.SummaryText, c.text)
			}
			if it.SummaryHTML != c.html {
				t.Errorf("SummaryHTML = %q, want %q", it.SummaryHTML, c.html)
			}
			if it.ImageURL != c.image {
				t.Errorf("ImageURL = %q, want %q", it.ImageURL, c.image)
			}
		})
	}
}

// Control characters between words (raw or as character references) become
// spaces: words stay apart and the feed still parses.
func TestControlCharacters(t *testing.T) {
	cases := []struct{ name, title, desc string }{
		{"vertical tab", "Ba Lan\vquyên góp áo ấm", "Kiều bào Ba Lan\vquyên góp."},
		{"form feed", "Ba Lan\fquyên góp áo ấm", "Kiều bào Ba Lan\fquyên góp."},
		{"unit separator", "Ba Lan\x1fquyên góp áo ấm", "Kiều bào Ba Lan\x1fquyên góp."},
		{"NUL and backspace", "Ba Lan\x00quyên góp\x08áo ấm", "Kiều bào Ba Lan\x00\x08quyên góp."},
		{"decimal reference", "Ba Lan&#11;quyên góp áo ấm", "Kiều bào Ba Lan&#11;quyên góp."},
		{"hex reference", "Ba Lan&#x0C;quyên góp&#x1f;áo ấm", "Kiều bào Ba Lan&#x1F;quyên góp."},
		{"in CDATA", "<![CDATA[Ba Lan\vquyên góp áo ấm]]>", "<![CDATA[<p>Kiều bào Ba Lan\fquyên góp.</p>]]>"},
		{"escaped twice", "Ba Lan&amp;#11;quyên góp áo ấm", "Kiều bào Ba Lan&amp;#31;quyên góp."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items := mustParse(t, []byte(rss(`<item><title>`+c.title+`</title><link>https://a.vn/1</link><description>`+c.desc+`</description></item>`)), "")
			if got := items[0].Title; got != "Ba Lan quyên góp áo ấm" {
				t.Errorf("title = %q, want the words apart", got)
			}
			if got := items[0].SummaryText; got != "Kiều bào Ba Lan quyên góp." {
				t.Errorf("SummaryText = %q, want the words apart", got)
			}
		})
	}
	// References to characters that are not controls are left alone.
	items := mustParse(t, []byte(rss(`<item><title>Gi&#225; &#x20AC;5 &#127;x</title><link>https://a.vn/1</link></item>`)), "")
	if got := items[0].Title; got != "Giá €5 x" {
		t.Errorf("title = %q", got)
	}
}
