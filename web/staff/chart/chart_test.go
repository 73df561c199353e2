package chart

import (
	"encoding/xml"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// parse checks the SVG is well-formed XML and returns it as text.
func parse(t *testing.T, c *Chart, w, h, labels int) string {
	t.Helper()
	svg := string(c.SVG(w, h, labels))
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
	}
	return svg
}

var rectRE = regexp.MustCompile(`<rect class="bar c(\d)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"><title>([^<]*)</title>`)

func TestBarsAreProportionalAndNamed(t *testing.T) {
	c := &Chart{ID: "x", Kind: Bars, Labels: []string{"#1", "#2"}, Colours: []int{3, 1},
		Series: []Series{{Name: "Sent", Values: []float64{100, 50}}, {Name: "Failed", Values: []float64{10, 0}}}}
	svg := parse(t, c, 400, 200, 10)
	if !strings.Contains(svg, `role="img" aria-labelledby="x-title x-desc"`) {
		t.Error("the picture does not point at its title and description")
	}
	bars := rectRE.FindAllStringSubmatch(svg, -1)
	if len(bars) != 3 { // a zero draws nothing
		t.Fatalf("%d bars:\n%s", len(bars), svg)
	}
	h := func(i int) float64 { v, _ := strconv.ParseFloat(bars[i][5], 64); return v }
	if r := h(0) / h(2); r < 1.95 || r > 2.05 {
		t.Errorf("100 and 50 drawn %v and %v high", h(0), h(2))
	}
	if bars[0][1] != "3" || bars[1][1] != "1" {
		t.Errorf("colours %s, %s; want the ones asked for", bars[0][1], bars[1][1])
	}
	if bars[1][6] != "#1 — Failed: 10" {
		t.Errorf("tooltip %q", bars[1][6])
	}
}

func TestStackedBarsAddUp(t *testing.T) {
	c := &Chart{ID: "s", Kind: Stacked, Labels: []string{"a"},
		Series: []Series{{Name: "ok", Values: []float64{30}}, {Name: "bad", Values: []float64{10}}}}
	bars := rectRE.FindAllStringSubmatch(parse(t, c, 300, 200, 5), -1)
	y0, _ := strconv.ParseFloat(bars[0][3], 64)
	h1, _ := strconv.ParseFloat(bars[1][5], 64)
	y1, _ := strconv.ParseFloat(bars[1][3], 64)
	if fmt.Sprintf("%.1f", y1+h1) != fmt.Sprintf("%.1f", y0) {
		t.Errorf("the second part does not sit on the first: %v+%v vs %v", y1, h1, y0)
	}
}

func TestLinesAndLabels(t *testing.T) {
	var labels []string
	var vals []float64
	for i := 0; i < 26; i++ {
		labels = append(labels, fmt.Sprintf("w%d", i))
		vals = append(vals, float64(1000+i*10))
	}
	c := &Chart{ID: "l", Kind: Lines, Labels: labels, Series: []Series{{Name: "vi", Values: vals}}}
	svg := parse(t, c, 360, 240, 5)
	if n := strings.Count(strings.Split(strings.Split(svg, `points="`)[1], `"`)[0], ","); n != 26 {
		t.Errorf("line through %d points", n)
	}
	shown := regexp.MustCompile(`>w(\d+)</text>`).FindAllStringSubmatch(svg, -1)
	if len(shown) > 5 || shown[len(shown)-1][1] != "25" {
		t.Errorf("x labels %v: want at most 5, the last week among them", shown)
	}
}

func TestTextIsEscapedAndClipped(t *testing.T) {
	c := &Chart{ID: `a"b`, Kind: HBars, Labels: []string{`<script>alert(1)</script> a very long label indeed`}, Series: []Series{{Name: "n", Values: []float64{5}}}}
	svg := parse(t, c, 300, 40, 0)
	if strings.Contains(svg, "<script>") || !strings.Contains(svg, "&lt;script&gt;") || !strings.Contains(svg, "…") {
		t.Errorf("label not escaped or not clipped:\n%s", svg)
	}
	if strings.Contains(svg, `id="a"b`) || !strings.Contains(svg, `a&#34;b-title`) {
		t.Errorf("id not escaped:\n%s", svg)
	}
}

func TestNiceScale(t *testing.T) {
	for _, c := range []struct{ max, hi, step float64 }{
		{0, 4, 1}, {3, 3, 1}, {19, 20, 5}, {1733, 2000, 500}, {998000, 1000000, 250000}, {0.4, 1, 1},
	} {
		if hi, step := niceScale(c.max); hi != c.hi || step != c.step {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", c.max, hi, step, c.hi, c.step)
		}
	}
}

func TestTable(t *testing.T) {
	c := &Chart{Labels: []string{"a", "b"}, Series: []Series{{Name: "x", Values: []float64{1, 2}}, {Name: "y", Values: []float64{3}}},
		Format: func(v float64) string { return fmt.Sprintf("<%g>", v) }}
	head, rows := c.Table("L")
	if fmt.Sprint(head, rows) != "[L x y] [[a <1> <3>] [b <2> <0>]]" {
		t.Errorf("%v %v", head, rows)
	}
	if c.Empty() || !(&Chart{Series: []Series{{Values: []float64{0}}}}).Empty() {
		t.Error("Empty")
	}
}
