// Package htmltext turns the HTML that portals publish into plain text. It
// is the one conversion of the project: the feeds use it for titles and
// summaries, the theme classifier for what it reads, the email for the
// plain form of a summary.
//
// What it does: elements whose content is not text (script, style, head,
// iframe, svg, forms…) are dropped with their content; every other tag is
// removed; block elements (p, div, li, br, headings, table cells…) end a
// line, inline ones (b, a, span…) leave nothing, so "Hải Ph<b>òng</b>"
// stays one word; entities are decoded, also when a publisher escaped them
// twice (&amp;#7873;) or escaped the whole HTML (&lt;p&gt;). A '<' that
// does not start a tag ("a < b") is text. Spaces are kept as they are:
// callers fold them as they need.
package htmltext

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// rounds bounds how many layers of escaping are undone.
const rounds = 3

// String returns the text of s, which may be HTML or plain text.
func String(s string) string {
	for range rounds {
		if !strings.ContainsAny(s, "<&") {
			break
		}
		t := convert(s)
		if t == s {
			break
		}
		s = t
	}
	return s
}

// convert parses s once as an HTML fragment and returns its text.
func convert(s string) string {
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil { // only a failing reader makes the parser fail
		return html.UnescapeString(s)
	}
	var b strings.Builder
	for _, n := range nodes {
		write(&b, n)
	}
	return b.String()
}

// Node returns the text of a parsed tree's children (the feeds parse their
// HTML once, for the sanitised copy and the text).
func Node(n *html.Node) string {
	var b strings.Builder
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		write(&b, ch)
	}
	return b.String()
}

func write(b *strings.Builder, n *html.Node) {
	switch n.Type {
	case html.TextNode:
		b.WriteString(n.Data)
	case html.ElementNode:
		if skipped[n.DataAtom] {
			return
		}
		block := blocks[n.DataAtom]
		if block {
			b.WriteByte('\n')
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			write(b, ch)
		}
		if block {
			b.WriteByte('\n')
		}
	}
}

// skipped elements hold no text for a reader.
var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Head: true, atom.Title: true, atom.Template: true,
	atom.Noscript: true, atom.Iframe: true, atom.Object: true, atom.Embed: true, atom.Frame: true,
	atom.Frameset: true, atom.Svg: true, atom.Math: true, atom.Audio: true, atom.Video: true,
	atom.Form: true, atom.Button: true, atom.Select: true, atom.Textarea: true, atom.Input: true,
	atom.Link: true, atom.Meta: true,
}

// blocks are the elements that separate lines.
var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Ul: true, atom.Ol: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Tr: true, atom.Td: true, atom.Th: true, atom.Table: true, atom.Blockquote: true,
	atom.Section: true, atom.Article: true, atom.Figure: true, atom.Figcaption: true, atom.Hr: true,
	atom.Pre: true, atom.Dd: true, atom.Dt: true, atom.Dl: true, atom.Header: true, atom.Footer: true,
	atom.Aside: true, atom.Nav: true, atom.Main: true, atom.Caption: true, atom.Img: true,
	atom.Tbody: true, atom.Thead: true, atom.Tfoot: true, atom.Address: true, atom.Details: true, atom.Summary: true,
}
