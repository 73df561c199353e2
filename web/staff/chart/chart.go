// Package chart draws the staff area's charts as SVG on the server: lines,
// grouped or stacked bars, and horizontal bars. It draws shapes and axis
// text only; colours come from CSS classes (c0 … c5, the stylesheet sets
// them for light and dark mode), so one picture serves both. The page gives
// every chart a title, a description and its numbers as a table, so no one
// needs to see the picture to read it.
package chart

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"unicode/utf8"
)

// Kind is the shape of a chart.
type Kind int

// Chart kinds.
const (
	Lines   Kind = iota // one line per series over the labels
	Bars                // the series side by side at each label
	Stacked             // the series stacked at each label
	HBars               // one series, a horizontal bar per label
)

// Series is one named row of values, one per label.
type Series struct {
	Name   string
	Values []float64
}

// Chart is one chart.
type Chart struct {
	ID          string // unique on the page: the SVG points at ID-title and ID-desc
	Title       string
	Description string
	Kind        Kind
	Labels      []string
	Series      []Series
	// Format writes a value (axis, tooltips, table); default: an integer.
	Format func(float64) string
	// Colours picks the colour class of each series (default: c0, c1, …),
	// so that, say, failures are always drawn in the same colour.
	Colours []int
}

// Colour is the colour class number of series i.
func (c *Chart) Colour(i int) int {
	if i < len(c.Colours) {
		return c.Colours[i] % Palette
	}
	return i % Palette
}

// Palette is the number of colour classes (c0 … c5) the stylesheet has.
const Palette = 6

// Font size of the axis text, in viewBox units.
const fontSize = 12

func (c *Chart) format(v float64) string {
	if c.Format != nil {
		return c.Format(v)
	}
	return fmt.Sprintf("%.0f", v)
}

// Table is the chart's numbers: a heading row (the label column's heading
// is labelHeading) and one row per label.
func (c *Chart) Table(labelHeading string) (head []string, rows [][]string) {
	head = append(head, labelHeading)
	for _, s := range c.Series {
		head = append(head, s.Name)
	}
	for i, l := range c.Labels {
		row := []string{l}
		for _, s := range c.Series {
			v := 0.0
			if i < len(s.Values) {
				v = s.Values[i]
			}
			row = append(row, c.format(v))
		}
		rows = append(rows, row)
	}
	return head, rows
}

// Empty reports whether the chart has nothing but zeros to show.
func (c *Chart) Empty() bool {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

// SVG draws the chart in a width × height viewBox; the page scales it to
// its box. maxLabels bounds the labels written under the x axis (every
// k-th is shown when there are more).
func (c *Chart) SVG(width, height, maxLabels int) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title %s-desc" focusable="false">`,
		width, height, esc(c.ID), esc(c.ID))
	if c.Kind == HBars {
		c.hbars(&b, width, height)
	} else {
		c.xy(&b, width, height, maxLabels)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// xy draws lines or vertical bars with a y axis.
func (c *Chart) xy(b *strings.Builder, width, height, maxLabels int) {
	top := 10.0
	maxV := 0.0
	n := len(c.Labels)
	for i := 0; i < n; i++ {
		sum := 0.0
		for _, s := range c.Series {
			v := value(s, i)
			sum += v
			maxV = math.Max(maxV, v)
		}
		if c.Kind == Stacked {
			maxV = math.Max(maxV, sum)
		}
	}
	hi, step := niceScale(maxV)
	left := 8.0
	for v := 0.0; v <= hi+step/2; v += step {
		left = math.Max(left, textWidth(c.format(v))+12)
	}
	right, bottom := 10.0, 26.0
	plotW, plotH := float64(width)-left-right, float64(height)-top-bottom
	y := func(v float64) float64 { return top + plotH - v/hi*plotH }

	// Grid and y axis.
	for v := 0.0; v <= hi+step/2; v += step {
		fmt.Fprintf(b, `<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(left), num(left+plotW), num(y(v)), num(y(v)))
		fmt.Fprintf(b, `<text class="axis" x="%s" y="%s" text-anchor="end" font-size="%d">%s</text>`, num(left-6), num(y(v)+4), fontSize, esc(c.format(v)))
	}
	if n == 0 {
		return
	}
	// x positions and labels.
	band := plotW / float64(n)
	xAt := func(i int) float64 { return left + band*(float64(i)+0.5) }
	if c.Kind == Lines && n > 1 {
		band = plotW / float64(n-1)
		xAt = func(i int) float64 { return left + band*float64(i) }
	}
	if maxLabels < 1 {
		maxLabels = 1
	}
	every := (n + maxLabels - 1) / maxLabels
	for i := 0; i < n; i++ {
		// Keep the last label; count back from it.
		if (n-1-i)%every != 0 {
			continue
		}
		// Centred under its point, but never past either edge.
		x, half := xAt(i), textWidth(c.Labels[i])/2
		anchor := "middle"
		if x-half < 0 {
			x, anchor = 1, "start"
		} else if x+half > float64(width) {
			x, anchor = float64(width)-1, "end"
		}
		fmt.Fprintf(b, `<text class="axis" x="%s" y="%s" text-anchor="%s" font-size="%d">%s</text>`,
			num(x), num(top+plotH+18), anchor, fontSize, esc(c.Labels[i]))
	}
	fmt.Fprintf(b, `<line class="baseline" x1="%s" x2="%s" y1="%s" y2="%s"/>`, num(left), num(left+plotW), num(y(0)), num(y(0)))

	switch c.Kind {
	case Lines:
		for si, s := range c.Series {
			var pts []string
			for i := 0; i < n; i++ {
				pts = append(pts, num(xAt(i))+","+num(y(value(s, i))))
			}
			fmt.Fprintf(b, `<polyline class="line c%d d%d" points="%s"/>`, c.Colour(si), si%Palette, strings.Join(pts, " "))
			if n <= 30 {
				for i := 0; i < n; i++ {
					fmt.Fprintf(b, `<circle class="dot c%d" cx="%s" cy="%s" r="2.5"><title>%s</title></circle>`,
						c.Colour(si), num(xAt(i)), num(y(value(s, i))), esc(c.tip(s, i)))
				}
			}
		}
	case Bars, Stacked:
		inner := band * 0.8
		for i := 0; i < n; i++ {
			x0 := xAt(i) - inner/2
			base := 0.0
			for si, s := range c.Series {
				v := value(s, i)
				if v <= 0 {
					continue // nothing to draw; the table says 0
				}
				bx, bw, from := x0, inner, base
				if c.Kind == Bars {
					bw = inner / float64(len(c.Series))
					bx = x0 + bw*float64(si)
					from = 0
				}
				h := y(from) - y(from+v)
				if h < 1 {
					h = 1 // a small value stays visible
				}
				fmt.Fprintf(b, `<rect class="bar c%d" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
					c.Colour(si), num(bx), num(y(from)-h), num(math.Max(bw-1, 1)), num(h), esc(c.tip(s, i)))
				if c.Kind == Stacked {
					base += v
				}
			}
		}
	}
}

// hbars draws one series as horizontal bars, labels on the left and the
// value at each bar's end.
func (c *Chart) hbars(b *strings.Builder, width, height int) {
	if len(c.Series) == 0 || len(c.Labels) == 0 {
		return
	}
	s := c.Series[0]
	labelW := 0.0
	for _, l := range c.Labels {
		labelW = math.Max(labelW, textWidth(l))
	}
	labelW = math.Min(labelW+10, float64(width)*0.45)
	valueW := 0.0
	maxV := 0.0
	for i := range c.Labels {
		maxV = math.Max(maxV, value(s, i))
		valueW = math.Max(valueW, textWidth(c.format(value(s, i))))
	}
	if maxV == 0 {
		maxV = 1
	}
	rowH := (float64(height) - 8) / float64(len(c.Labels))
	barW := float64(width) - labelW - valueW - 14
	for i, l := range c.Labels {
		v := value(s, i)
		ty := 4 + rowH*float64(i)
		w := v / maxV * barW
		if v > 0 && w < 1 {
			w = 1
		}
		fmt.Fprintf(b, `<text class="axis" x="%s" y="%s" text-anchor="end" font-size="%d">%s</text>`,
			num(labelW-6), num(ty+rowH/2+4), fontSize, esc(clip(l, labelW-10)))
		fmt.Fprintf(b, `<rect class="bar c%d" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
			c.Colour(0), num(labelW), num(ty+rowH*0.15), num(w), num(rowH*0.7), esc(c.tip(s, i)))
		fmt.Fprintf(b, `<text class="axis" x="%s" y="%s" font-size="%d">%s</text>`,
			num(labelW+w+4), num(ty+rowH/2+4), fontSize, esc(c.format(v)))
	}
}

func (c *Chart) tip(s Series, i int) string {
	return c.Labels[i] + " — " + s.Name + ": " + c.format(value(s, i))
}

func value(s Series, i int) float64 {
	if i < len(s.Values) {
		return s.Values[i]
	}
	return 0
}

// niceScale returns the top of the y axis and its step: 4 or 5 steps of
// 1, 2, 2.5 or 5 times a power of ten.
func niceScale(maxV float64) (hi, step float64) {
	if maxV <= 0 {
		return 4, 1
	}
	raw := maxV / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		step = m * mag
		if step >= raw {
			break
		}
	}
	if step < 1 {
		step = 1 // counts
	}
	hi = math.Ceil(maxV/step) * step
	return hi, step
}

// textWidth estimates the width of s at fontSize (average glyph width of
// the sans-serif fonts the staff area uses).
func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * fontSize * 0.58 }

// clip shortens s to fit width.
func clip(s string, width float64) string {
	max := int(width / (fontSize * 0.58))
	if utf8.RuneCountInString(s) <= max || max < 2 {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}

func num(f float64) string { return fmt.Sprintf("%.1f", f) }

func esc(s string) string { return html.EscapeString(s) }
