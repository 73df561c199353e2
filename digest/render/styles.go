package render

import (
	"fmt"
	"html"
	htmltemplate "html/template"
	"regexp"
	"strings"

	"github.com/aymerick/douceur/css"
	"github.com/aymerick/douceur/parser"
)

// styles is the email stylesheet split the way mail clients need it: rules
// for a single class (".card { ... }") are inlined into style attributes by
// the templates' s function; at-rules (@media for small screens and dark
// mode) are kept for <style> blocks, one per rule, where clients that
// understand them apply them as progressive extras (Gmail drops a whole
// block when it dislikes one rule in it, so one rule cannot cost the others).
type styles struct {
	class map[string]string // class name → "prop:value;..."
	extra []string          // serialised at-rules, one per <style> block
}

var classSelector = regexp.MustCompile(`^\.([A-Za-z][A-Za-z0-9_-]*)$`)

func parseStyles(file, src string) (*styles, error) {
	sheet, err := parser.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("render: %s: %v", file, err)
	}
	st := &styles{class: map[string]string{}}
	var extra []string
	for _, rule := range sheet.Rules {
		if rule.Kind == css.AtRule {
			extra = append(extra, compactRule(rule))
			continue
		}
		for _, sel := range rule.Selectors {
			m := classSelector.FindStringSubmatch(strings.TrimSpace(sel))
			if m == nil {
				return nil, fmt.Errorf("render: %s: selector %q: outside @media only single class selectors (.name) can be inlined", file, sel)
			}
			var b strings.Builder
			b.WriteString(st.class[m[1]])
			for _, d := range rule.Declarations {
				b.WriteString(d.Property + ":" + d.Value)
				if d.Important {
					b.WriteString(" !important")
				}
				b.WriteString(";")
			}
			st.class[m[1]] = b.String()
		}
	}
	for _, e := range extra {
		if strings.Contains(strings.ToLower(e), "</style") {
			return nil, fmt.Errorf("render: %s: must not contain </style", file)
		}
	}
	st.extra = extra
	return st, nil
}

// compactRule serialises an at-rule on few lines (douceur's String indents
// generously, which costs bytes in every email).
func compactRule(r *css.Rule) string {
	var b strings.Builder
	b.WriteString(r.Name + " " + r.Prelude + "{")
	for _, in := range r.Rules {
		b.WriteString(strings.Join(in.Selectors, ",") + "{")
		for _, d := range in.Declarations {
			b.WriteString(d.Property + ":" + d.Value)
			if d.Important {
				b.WriteString(" !important")
			}
			b.WriteString(";")
		}
		b.WriteString("}")
	}
	for _, d := range r.Declarations {
		b.WriteString(d.String())
	}
	b.WriteString("}")
	return b.String()
}

// attrs returns `class="a b" style="..."` for the named classes; an unknown
// class is an error (caught by New's self-test).
func (st *styles) attrs(names ...string) (htmltemplate.HTMLAttr, error) {
	var style strings.Builder
	for _, n := range names {
		s, ok := st.class[n]
		if !ok {
			return "", fmt.Errorf("class %q is not in styles.css", n)
		}
		style.WriteString(s)
	}
	return htmltemplate.HTMLAttr(`class="` + html.EscapeString(strings.Join(names, " ")) +
		`" style="` + html.EscapeString(style.String()) + `"`), nil
}
