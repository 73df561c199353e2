package render

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"golang.org/x/text/unicode/norm"
)

// catalog holds the fixed strings of the templates per language. Values are
// plain text with {name} parameters; list values (weekdays, months) are
// lists. Both languages must define the same keys.
type catalog map[string]map[string]any

func parseCatalog(file, src string) (catalog, error) {
	raw := map[string]map[string]any{}
	if _, err := toml.Decode(src, &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("render: %s:%d: %s", file, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("render: %s: %w", file, err)
	}
	c := catalog{}
	for _, lang := range Languages {
		m, ok := raw[lang]
		if !ok {
			return nil, fmt.Errorf("render: %s: no [%s] table", file, lang)
		}
		out := map[string]any{}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				out[k] = norm.NFC.String(v)
			case []any:
				var l []string
				for _, e := range v {
					s, ok := e.(string)
					if !ok {
						return nil, fmt.Errorf("render: %s: [%s] %s: lists must hold strings", file, lang, k)
					}
					l = append(l, norm.NFC.String(s))
				}
				out[k] = l
			default:
				return nil, fmt.Errorf("render: %s: [%s] %s: must be a string or a list of strings", file, lang, k)
			}
		}
		c[lang] = out
	}
	// Same keys everywhere, so no reader meets a missing string.
	for _, a := range Languages {
		for _, b := range Languages {
			var missing []string
			for k := range c[a] {
				if _, ok := c[b][k]; !ok {
					missing = append(missing, k)
				}
			}
			if len(missing) > 0 {
				sort.Strings(missing)
				return nil, fmt.Errorf("render: %s: [%s] lacks %s (defined in [%s])", file, b, strings.Join(missing, ", "), a)
			}
		}
	}
	for _, lang := range Languages {
		if l, _ := c[lang]["weekdays"].([]string); len(l) != 7 {
			return nil, fmt.Errorf("render: %s: [%s] weekdays must list 7 names, Sunday first", file, lang)
		}
		for _, k := range []string{"months", "months_short"} {
			if l, _ := c[lang][k].([]string); len(l) != 12 {
				return nil, fmt.Errorf("render: %s: [%s] %s must list 12 names", file, lang, k)
			}
		}
	}
	return c, nil
}

// msg returns a plain message, or "" if key is unknown or a list.
func (c catalog) msg(lang, key string) string {
	s, _ := c[lang][key].(string)
	return s
}

// t formats message key with name/value pairs filling {name} parameters.
func (c catalog) t(lang, key string, args ...any) (string, error) {
	v, ok := c[lang][key]
	if !ok {
		return "", fmt.Errorf("message %q is not in the catalogue", key)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("message %q is a list", key)
	}
	if len(args)%2 != 0 {
		return "", fmt.Errorf("message %q: parameters must come in name, value pairs", key)
	}
	for i := 0; i < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return s, nil
}

// plural picks key.one or key.other for n and fills {count}.
func (c catalog) plural(lang, key string, n int) (string, error) {
	k := key + "_other"
	if n == 1 {
		k = key + "_one"
	}
	return c.t(lang, k, "count", n)
}

// date formats t in loc with the catalogue's pattern key (date_long,
// date_short): {weekday} {d} {dd} {m} {mm} {month} {mon} {yyyy}.
func (c catalog) date(lang, key string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc != nil {
		t = t.In(loc)
	}
	wd, _ := c[lang]["weekdays"].([]string)
	mo, _ := c[lang]["months"].([]string)
	ms, _ := c[lang]["months_short"].([]string)
	r := strings.NewReplacer(
		"{weekday}", wd[t.Weekday()],
		"{dd}", fmt.Sprintf("%02d", t.Day()),
		"{d}", strconv.Itoa(t.Day()),
		"{mm}", fmt.Sprintf("%02d", int(t.Month())),
		"{m}", strconv.Itoa(int(t.Month())),
		"{month}", mo[t.Month()-1],
		"{mon}", ms[t.Month()-1],
		"{yyyy}", strconv.Itoa(t.Year()),
	)
	return r.Replace(c.msg(lang, key))
}
