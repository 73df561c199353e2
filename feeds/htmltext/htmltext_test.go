package htmltext

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

func TestString(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Hai Phong &amp; Guangxi", "Hai Phong & Guangxi"},
		{"H&#7843;i Ph&#242;ng", "Hải Phòng"},
		{"ki&amp;#7873;u b&amp;agrave;o", "kiều bào"}, // escaped twice
		{"<p>Khu c&ocirc;ng nghi&#7879;p</p>", "\nKhu công nghiệp\n"},
		{"&lt;p&gt;FDI&lt;/p&gt;", "\nFDI\n"}, // the whole HTML escaped
		{"Hải Ph<b>òng</b>", "Hải Phòng"},     // inline tags leave nothing
		{"<b>kiều</b> bào", "kiều bào"},
		{"a < b and c > d", "a < b and c > d"},
		{"tăng <5%", "tăng <5%"},
		{"AT&amp;T &amp;amp; co", "AT&T & co"},
		{"one<br>two", "one\n\ntwo"},
		{`<a href="https://example.org/x">Hải Phòng</a> đón`, "Hải Phòng đón"}, // the link's text, not its address
		{`<p onclick="x()">Xin chào</p><script>alert("s")</script><style>p{}</style><iframe src="https://evil.example"></iframe>`, "\nXin chào\n"},
		{"<!-- note -->text", "text"},
		{"plain text", "plain text"},
		{"", ""},
	}
	for _, c := range cases {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNode(t *testing.T) {
	nodes, err := html.ParseFragment(strings.NewReader("<ul><li>một</li><li>hai</li></ul><p>ba</p>"), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		t.Fatal(err)
	}
	root := &html.Node{Type: html.ElementNode, Data: "div"}
	for _, n := range nodes {
		root.AppendChild(n)
	}
	if got := strings.Join(strings.Fields(Node(root)), " "); got != "một hai ba" {
		t.Errorf("Node = %q", got)
	}
}
