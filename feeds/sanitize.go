package feeds

import (
	"bytes"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/haiphong/hpdigest/feeds/htmltext"
	"github.com/microcosm-cc/bluemonday"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/unicode/norm"
)

// maxSummaryHTML bounds SummaryHTML; longer content is replaced by the
// plain-text summary in a paragraph (the email must stay under Gmail's
// clipping limit).
const maxSummaryHTML = 12000

var emailPolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "b", "strong", "i", "em", "u", "s", "blockquote", "ul", "ol", "li",
		"h1", "h2", "h3", "h4", "h5", "h6", "pre", "code", "table", "thead", "tbody", "tfoot", "tr",
		"td", "th", "caption", "figure", "figcaption", "hr", "sub", "sup", "small", "span", "div", "q", "cite")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("src", "alt").OnElements("img")
	p.AllowAttrs("width", "height").Matching(regexp.MustCompile(`^\d{1,4}$`)).OnElements("img")
	p.AllowAttrs("colspan", "rowspan").Matching(regexp.MustCompile(`^\d{1,2}$`)).OnElements("td", "th")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false) // made absolute before; what could not be is dropped
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AddSpaceWhenStrippingTag(true)
	return p
}()

// Elements removed with their content before sanitising.
var dropElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Object: true, atom.Embed: true,
	atom.Noscript: true, atom.Form: true, atom.Frame: true, atom.Frameset: true, atom.Template: true,
	atom.Svg: true, atom.Math: true, atom.Audio: true, atom.Video: true, atom.Button: true,
	atom.Select: true, atom.Textarea: true, atom.Input: true, atom.Head: true, atom.Title: true, atom.Link: true, atom.Meta: true,
}

type content struct {
	HTML  string // sanitised, absolute URLs, no pixels
	Text  string // plain text, bounded
	Image string // first real image, absolute
	// Pixels are the tracking images removed (gofeed may offer one as the item's image).
	Pixels map[string]bool
}

// cleanContent sanitises feed HTML for email and derives the text summary.
func cleanContent(raw string, base *url.URL) content {
	raw = strings.ToValidUTF8(raw, "")
	if strings.TrimSpace(raw) == "" {
		return content{}
	}
	ctx := &nethtml.Node{Type: nethtml.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := nethtml.ParseFragment(strings.NewReader(raw), ctx)
	if err != nil {
		t := boundText(collapseSpace(html.UnescapeString(raw)))
		return content{Text: t, HTML: "<p>" + html.EscapeString(t) + "</p>"}
	}
	root := &nethtml.Node{Type: nethtml.ElementNode, Data: "div", DataAtom: atom.Div}
	for _, n := range nodes {
		root.AppendChild(n)
	}
	var c content
	prepare(root, base, &c, 0)
	var buf bytes.Buffer
	for n := root.FirstChild; n != nil; n = n.NextSibling {
		_ = nethtml.Render(&buf, n)
	}
	c.Text = boundText(collapseSpace(htmltext.Node(root)))
	c.HTML = strings.TrimSpace(norm.NFC.String(emailPolicy.Sanitize(buf.String())))
	if len(c.HTML) > maxSummaryHTML {
		c.HTML = "<p>" + html.EscapeString(c.Text) + "</p>"
	}
	return c
}

// maxReparse bounds how many layers of escaping are undone in descriptions
// whose markup was HTML-escaped more than once.
const maxReparse = 3

// prepare removes dangerous elements, Word's document settings and tracking
// pixels, makes links and image sources absolute, and records the first real
// image. Text that turns out to be escaped markup is parsed and prepared in
// its place; depth counts those re-parses.
func prepare(n *nethtml.Node, base *url.URL, c *content, depth int) {
	for ch := n.FirstChild; ch != nil; {
		next := ch.NextSibling
		switch {
		case ch.Type == nethtml.TextNode:
			if strings.Contains(ch.Data, "&") {
				// Double-escaped feeds (&amp;#7911;) leave entities in the text.
				ch.Data = html.UnescapeString(ch.Data)
			}
			ch.Data = dropWordLeftovers(ch.Data)
			if depth < maxReparse && n.DataAtom != atom.Pre && n.DataAtom != atom.Code && looksLikeMarkup(ch.Data) {
				reparse(n, ch, base, c, depth+1)
			}
		case ch.Type == nethtml.CommentNode:
			n.RemoveChild(ch)
		case ch.Type == nethtml.ElementNode && (dropElements[ch.DataAtom] || isOfficeMarkup(ch)):
			n.RemoveChild(ch)
		case ch.Type == nethtml.ElementNode && ch.DataAtom == atom.Img:
			src := absURL(attr(ch, "src"), base)
			if src == "" {
				src = absURL(attr(ch, "data-src"), base) // lazy-loading portals
			}
			if src == "" || isPixel(ch) {
				if src != "" {
					if c.Pixels == nil {
						c.Pixels = map[string]bool{}
					}
					c.Pixels[src] = true
				}
				n.RemoveChild(ch)
				break
			}
			setAttr(ch, "src", src)
			if c.Image == "" {
				c.Image = src
			}
		case ch.Type == nethtml.ElementNode:
			if ch.DataAtom == atom.A {
				if h := absURL(attr(ch, "href"), base); h != "" {
					setAttr(ch, "href", h)
				} else {
					removeAttr(ch, "href")
				}
			}
			prepare(ch, base, c, depth)
		}
		ch = next
	}
}

// reparse replaces the text node ch of n, which holds markup that was
// escaped once too often, by that markup parsed and prepared.
func reparse(n, ch *nethtml.Node, base *url.URL, c *content, depth int) {
	holder := &nethtml.Node{Type: nethtml.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := nethtml.ParseFragment(strings.NewReader(ch.Data), holder)
	if err != nil {
		return
	}
	for _, x := range nodes {
		holder.AppendChild(x)
	}
	prepare(holder, base, c, depth)
	for x := holder.FirstChild; x != nil; x = holder.FirstChild {
		holder.RemoveChild(x)
		n.InsertBefore(x, ch)
	}
	n.RemoveChild(ch)
}

// reTag matches an HTML start or end tag and captures its name.
var reTag = regexp.MustCompile(`</?([a-zA-Z][a-zA-Z0-9]*)(?:\s[^<>]*)?/?>`)

// looksLikeMarkup reports whether text holds HTML tags (of elements HTML
// knows, so "a < b > c" is not markup) or a comment.
func looksLikeMarkup(s string) bool {
	if !strings.Contains(s, "<") || !strings.Contains(s, ">") {
		return false
	}
	if strings.Contains(s, "<!--") {
		return true
	}
	for _, m := range reTag.FindAllStringSubmatch(s, 20) {
		if atom.Lookup([]byte(strings.ToLower(m[1]))) != 0 {
			return true
		}
	}
	return false
}

// officePrefixes are the namespaces of what Microsoft Word puts in pasted
// HTML besides the text: document settings (w:), maths settings (m:),
// paragraph marks (o:p) and drawings (v:). Smart tags (st1:place) wrap real
// words and are kept.
var officePrefixes = map[string]bool{"w": true, "m": true, "o": true, "v": true}

// isOfficeMarkup reports an element of Word's pasted document settings: an
// <xml> block or an element in one of officePrefixes.
func isOfficeMarkup(n *nethtml.Node) bool {
	name := strings.ToLower(n.Data)
	if name == "xml" {
		return true
	}
	prefix, _, ok := strings.Cut(name, ":")
	return ok && officePrefixes[prefix]
}

// reWordLeftovers matches the text of Word's settings and style rules once a
// portal stripped their tags: "Normal 0 false false false EN-US X-NONE
// X-NONE MicrosoftInternetExplorer4", "/* Style Definitions */
// table.MsoNormalTable {mso-style-name: ...}".
var reWordLeftovers = regexp.MustCompile(`\bNormal\s+\d+(?:\s+\d+)?(?:\s+(?:false|true)){2,}(?:\s+(?:[A-Z]{2}-[A-Z]{2}|X-NONE|VI|EN)\b)*(?:\s+MicrosoftInternetExplorer\d\b)?` +
	`|(?:/\*\s*Style Definitions\s*\*/)?(?:\s*[\w.#:*\\-]+(?:\s*,\s*[\w.#:*\\-]+)*\s*\{[^{}]*\bmso-[^{}]*\})+`)

func dropWordLeftovers(s string) string {
	if !strings.Contains(s, "Normal") && !strings.Contains(s, "mso-") {
		return s
	}
	return reWordLeftovers.ReplaceAllString(s, " ")
}

// isPixel reports a tracking pixel: an image declared 0 or 1 pixel wide or
// high, or hidden.
func isPixel(n *nethtml.Node) bool {
	for _, k := range []string{"width", "height"} {
		if v := strings.TrimSuffix(strings.TrimSpace(attr(n, k)), "px"); v != "" {
			if d, err := strconv.Atoi(v); err == nil && d <= 1 {
				return true
			}
		}
	}
	st := strings.ReplaceAll(strings.ToLower(attr(n, "style")), " ", "")
	return strings.Contains(st, "display:none") || strings.Contains(st, "width:1px") || strings.Contains(st, "height:1px") ||
		strings.Contains(st, "width:0") || strings.Contains(st, "height:0")
}

func attr(n *nethtml.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func setAttr(n *nethtml.Node, key, val string) {
	for i, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, nethtml.Attribute{Key: key, Val: val})
}

func removeAttr(n *nethtml.Node, key string) {
	out := n.Attr[:0]
	for _, a := range n.Attr {
		if !strings.EqualFold(a.Key, key) {
			out = append(out, a)
		}
	}
	n.Attr = out
}

// absURL resolves ref against base; "" unless the result is http(s) (or
// mailto for links).
func absURL(ref string, base *url.URL) string {
	u := resolve(ref, base)
	if u == nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return ""
		}
		return norm.NFC.String(u.String())
	case "mailto":
		return norm.NFC.String(u.String())
	}
	return ""
}

// cleanTitle turns a feed title into plain NFC text: entities decoded (also
// double-escaped ones such as &amp;#7911;), tags stripped, spaces collapsed.
func cleanTitle(s string) string {
	s = htmltext.String(strings.ToValidUTF8(s, ""))
	s = collapseSpace(s)
	if utf8.RuneCountInString(s) > 500 {
		s = truncateRunes(s, 500)
	}
	return s
}

// collapseSpace folds whitespace (and control characters) into single
// spaces and returns NFC text.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u200b' || r == '\ufeff' {
			space = true
			continue
		}
		if r == utf8.RuneError {
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

func boundText(s string) string { return truncateRunes(s, maxSummaryRunes) }

// truncateRunes cuts s to at most n runes, at a word boundary, adding "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := len(r)
	for i := len(r) - 1; i > n/2; i-- {
		if r[i] == ' ' {
			cut = i
			break
		}
	}
	return norm.NFC.String(strings.TrimRight(string(r[:cut]), " ,.;:-")) + "…"
}
