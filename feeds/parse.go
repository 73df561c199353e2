package feeds

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"golang.org/x/text/unicode/norm"
)

// parsed is a feed document turned into items ready to store.
type parsed struct {
	Items []Item
	TTL   time.Duration // RSS <ttl>, a floor for the poll interval
}

var reTTL = regexp.MustCompile(`<ttl>\s*(\d{1,6})\s*</ttl>`)

// parseFeed decodes, parses and normalises one feed document. feedURL is the
// URL it was fetched from (base for relative links); loc is the zone of
// dates without one. It never panics on bad input (see FuzzParse).
func parseFeed(body []byte, contentType, feedURL, lang string, loc *time.Location, now time.Time) (p parsed, err error) {
	defer func() {
		if r := recover(); r != nil { // gofeed is third-party: a panic is a parse error, not a crash
			err = fmt.Errorf("parse: parser panic: %v", r)
		}
	}()
	body = trimLeadingJunk(body)
	if isHTMLPage(body) {
		return p, ErrNotAFeed
	}
	doc, err := toUTF8(body, contentType)
	if err != nil {
		return p, err
	}
	doc = spaceControls(doc)
	fp := gofeed.NewParser()
	f, err := fp.Parse(bytes.NewReader(doc))
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			if mt, _, _ := mime.ParseMediaType(contentType); mt == "text/html" {
				return p, ErrNotAFeed
			}
			return p, errors.New("parse: not RSS, Atom or JSON Feed")
		}
		return p, fmt.Errorf("parse: %v", err)
	}
	if m := reTTL.FindSubmatch(doc); m != nil {
		if n, err := strconv.Atoi(string(m[1])); err == nil && n > 0 {
			p.TTL = time.Duration(n) * time.Minute
		}
	}
	fu, _ := url.Parse(feedURL)
	base := fu
	if f.Link != "" {
		if l, err := url.Parse(strings.TrimSpace(f.Link)); err == nil {
			if fu != nil {
				l = fu.ResolveReference(l)
			}
			if l.Scheme == "http" || l.Scheme == "https" {
				base = l
			}
		}
	}
	if loc == nil {
		loc = defaultLoc()
	}
	items := f.Items
	if len(items) > defaultMaxItemsPerFeed {
		items = items[:defaultMaxItemsPerFeed]
	}
	p.Items = make([]Item, 0, len(items))
	srcs := make([]*gofeed.Item, 0, len(items))
	for _, gi := range items {
		if gi == nil {
			continue
		}
		it := normalizeItem(gi, base, lang, loc, now)
		if it.Title == "" && it.URL == "" && it.SummaryText == "" {
			continue // nothing a reader could see
		}
		p.Items = append(p.Items, it)
		srcs = append(srcs, gi)
	}
	p.Items = assignIdentity(p.Items, srcs)
	return p, nil
}

func normalizeItem(gi *gofeed.Item, base *url.URL, lang string, loc *time.Location, now time.Time) Item {
	link := NormalizeURL(gi.Link, base)
	if link == "" {
		for _, l := range gi.Links {
			if link = NormalizeURL(l, base); link != "" {
				break
			}
		}
	}
	if link == "" && looksLikeURL(gi.GUID) {
		link = NormalizeURL(gi.GUID, base)
	}
	var ib *url.URL
	if link != "" {
		ib, _ = url.Parse(link)
	} else {
		ib = base
	}
	// The description is the summary; the full content stands in when the
	// description has no text. Images come from either.
	c := cleanContent(gi.Description, ib)
	if gi.Content != "" && gi.Content != gi.Description && (c.Text == "" || c.Image == "") {
		cc := cleanContent(gi.Content, ib)
		if c.Text == "" {
			c.HTML, c.Text = cc.HTML, cc.Text
		}
		if c.Image == "" {
			c.Image = cc.Image
		}
		for px := range cc.Pixels {
			if c.Pixels == nil {
				c.Pixels = map[string]bool{}
			}
			c.Pixels[px] = true
		}
	}
	it := Item{
		URL:         link,
		Title:       cleanTitle(gi.Title),
		SummaryHTML: c.HTML,
		SummaryText: c.Text,
		ImageURL:    leadImage(gi, ib, c),
		Language:    lang,
	}
	if it.Title == "" {
		it.Title = truncateRunes(it.SummaryText, 120)
	}
	if it.Title == "" {
		it.Title = it.URL
	}
	raws := []string{gi.Published, gi.Updated}
	if gi.DublinCoreExt != nil {
		raws = append(raws, gi.DublinCoreExt.Date...)
	}
	fallback := gi.PublishedParsed
	if fallback == nil {
		fallback = gi.UpdatedParsed
	}
	it.PublishedAt = itemTime(raws, fallback, loc, now)
	return it
}

func looksLikeURL(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// leadImage picks media:content / media:thumbnail, an image enclosure, the
// first real image of the content, else the item's image (never a pixel).
func leadImage(gi *gofeed.Item, base *url.URL, c content) string {
	if media, ok := gi.Extensions["media"]; ok {
		for _, name := range []string{"content", "thumbnail", "group"} {
			for _, e := range media[name] {
				if u := mediaImage(e, base); u != "" {
					return u
				}
			}
		}
	}
	for _, e := range gi.Enclosures {
		if e == nil {
			continue
		}
		if strings.HasPrefix(strings.ToLower(e.Type), "image/") || (e.Type == "" && hasImageExt(e.URL)) {
			if u := absURL(e.URL, base); u != "" && !strings.HasPrefix(u, "mailto:") {
				return u
			}
		}
	}
	if c.Image != "" {
		return c.Image
	}
	if gi.Image != nil {
		if u := absURL(gi.Image.URL, base); u != "" && !strings.HasPrefix(u, "mailto:") && !c.Pixels[u] {
			return u
		}
	}
	return ""
}

func mediaImage(e ext.Extension, base *url.URL) string {
	if e.Name == "group" {
		for _, name := range []string{"content", "thumbnail"} {
			for _, ch := range e.Children[name] {
				if u := mediaImage(ch, base); u != "" {
					return u
				}
			}
		}
		return ""
	}
	u := e.Attrs["url"]
	medium, typ := e.Attrs["medium"], strings.ToLower(e.Attrs["type"])
	if e.Name == "content" && medium != "image" && !strings.HasPrefix(typ, "image/") && !(medium == "" && typ == "" && hasImageExt(u)) {
		return ""
	}
	if w := e.Attrs["width"]; w == "1" || w == "0" {
		return ""
	}
	if a := absURL(u, base); !strings.HasPrefix(a, "mailto:") {
		return a
	}
	return ""
}

func hasImageExt(u string) bool {
	p := strings.ToLower(u)
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	for _, e := range []string{".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif"} {
		if strings.HasSuffix(p, e) {
			return true
		}
	}
	return false
}

// assignIdentity sets GUID (the identity inside the feed): the feed's GUID,
// else the normalised link, else a hash of title and content. A GUID that
// several different items of one document share is not trusted (some portals
// give every item the same one); exact repeats are dropped.
func assignIdentity(items []Item, src []*gofeed.Item) []Item {
	type seen struct{ link, title string }
	byGUID := map[string][]seen{}
	raw := make([]string, len(items))
	for i := range items {
		g := strings.TrimSpace(src[i].GUID)
		if len(g) > 2000 {
			g = g[:2000]
		}
		raw[i] = norm.NFC.String(strings.ToValidUTF8(g, ""))
		if raw[i] != "" {
			byGUID[raw[i]] = append(byGUID[raw[i]], seen{items[i].URL, items[i].Title})
		}
	}
	untrusted := map[string]bool{}
	for g, ss := range byGUID {
		for _, s := range ss[1:] {
			if s != ss[0] {
				untrusted[g] = true
			}
		}
	}
	out := items[:0]
	ids := map[string]bool{}
	for i, it := range items {
		switch g := raw[i]; {
		case g != "" && !untrusted[g]:
			it.GUID = g
		case it.URL != "":
			it.GUID = it.URL
		default:
			h := sha256.Sum256([]byte(it.Title + "\x00" + it.SummaryText + "\x00" + it.SummaryHTML))
			it.GUID = "sha256:" + hex.EncodeToString(h[:16])
		}
		if ids[it.GUID] {
			// Same identity twice in one document: either an exact repeat or a
			// link shared by different stories; the latter get a content hash.
			if it.URL == it.GUID {
				h := sha256.Sum256([]byte(it.Title + "\x00" + it.SummaryText))
				it.GUID = it.URL + "#" + hex.EncodeToString(h[:8])
			}
			if ids[it.GUID] {
				continue
			}
		}
		ids[it.GUID] = true
		out = append(out, it)
	}
	return out
}

func defaultLoc() *time.Location {
	if l, err := time.LoadLocation(DefaultTimezone); err == nil {
		return l
	}
	return time.FixedZone("ICT", 7*3600)
}

// ParseDocument runs one feed document through decoding, parsing and
// normalising without fetching or storing it (for checks and tools): the
// items as they would be stored, minus IDs. feedURL is the base for relative
// links; timezone ("" = Asia/Ho_Chi_Minh) is for dates without a zone.
func ParseDocument(body []byte, contentType, feedURL, lang, timezone string) ([]Item, error) {
	p, err := parseFeed(body, contentType, feedURL, lang, loadLoc(timezone), time.Now())
	return p.Items, err
}

// trimLeadingJunk drops text before the document when a server prints
// something first (PHP warnings, a stray "1", blank lines with a BOM): if
// the body does not start with markup or JSON, it is cut at the first
// "<?xml", "<rss", "<feed" or "<rdf:RDF" within the first 4 KiB.
func trimLeadingJunk(body []byte) []byte {
	b := bytes.TrimLeft(body, " \t\r\n")
	b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	if len(b) == 0 || b[0] == '<' || b[0] == '{' || b[0] == 0xFF || b[0] == 0xFE {
		return body
	}
	head := b[:min(len(b), 4096)]
	best := -1
	for _, m := range []string{"<?xml", "<rss", "<feed", "<rdf:RDF"} {
		if i := bytes.Index(head, []byte(m)); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best < 0 {
		return body
	}
	return b[best:]
}
