package story

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

//go:embed gazetteer.txt
var defaultGazetteer []byte

// DefaultGazetteer is the shipped gazetteer, the starting point for a staff
// file (Config.Gazetteer) that extends it.
func DefaultGazetteer() string { return string(defaultGazetteer) }

// kind is what a gazetteer entry names.
type kind uint8

const (
	kindCommon kind = iota
	kindCountry
	kindPlace
	kindBody
	kindCompany
	kindEvent
	kindAction
	kindTopic
	kindUnit
	kindEdition
	kindCommunity
	kindTerm
	kindSector
)

var kindNames = [...]string{"common", "country", "place", "body", "company", "event", "action", "topic", "unit", "edition", "community", "term", "sector"}

var kindWeights = [...]float64{0.25, 0.5, 1, 1, 1.5, 1.5, 1, 0.5, 0, 0, 0.5, 0.5, 0.5}

func (k kind) String() string { return kindNames[k] }

// entry is one gazetteer line (or several lines with the same kind and key).
type entry struct {
	kind     kind
	key      string
	weight   float64
	variants []variant
	editions []edition
	line     string // "file:line" of its first definition, for messages
}

type variant struct {
	text string
	fold string // "" (as the theme rules choose), "marks", "exact", "plain", "ascii"
}

// edition is one URL pattern of a publisher's language edition.
type edition struct {
	lang    string
	pattern string
	re      *regexp.Regexp
	hasID   bool
}

type gazetteer struct {
	entries []*entry
	byKey   map[string]*entry // kind + "\x00" + key
}

// parseGazetteer reads one gazetteer file into g; entries already in g
// with the same kind and key are extended. Errors name the file and line.
func (g *gazetteer) parse(name string, data []byte) error {
	if g.byKey == nil {
		g.byKey = map[string]*entry{}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !utf8.ValidString(line) {
			return fmt.Errorf("gazetteer %s: line %d: not valid UTF-8", name, n)
		}
		if err := g.parseLine(fmt.Sprintf("%s:%d", name, n), line); err != nil {
			return fmt.Errorf("gazetteer %s: line %d: %v", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("gazetteer %s: line %d: %v", name, n+1, err)
	}
	return nil
}

func (g *gazetteer) parseLine(where, line string) error {
	head, body, ok := strings.Cut(line, ":")
	if !ok {
		return fmt.Errorf("want KIND KEY [WEIGHT]: VARIANT | VARIANT ..., found no colon")
	}
	f := strings.Fields(head)
	if len(f) < 2 {
		return fmt.Errorf("want KIND KEY [WEIGHT] before the colon, found %q", head)
	}
	k := -1
	for i, s := range kindNames {
		if f[0] == s {
			k = i
		}
	}
	if k < 0 {
		return fmt.Errorf("unknown kind %q (want one of %s)", f[0], strings.Join(kindNames[:], ", "))
	}
	key := strings.Join(f[1:], " ")
	weight := -1.0
	if len(f) > 2 {
		if w, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			if w < 0 || w > 10 || w != w {
				return fmt.Errorf("weight %v must be between 0 and 10", f[len(f)-1])
			}
			if kind(k) == kindUnit || kind(k) == kindEdition {
				return fmt.Errorf("a %s entry takes no weight", kindNames[k])
			}
			weight = w
			key = strings.Join(f[1:len(f)-1], " ")
		}
	}
	e := g.byKey[kindNames[k]+"\x00"+key]
	if e == nil {
		e = &entry{kind: kind(k), key: key, weight: kindWeights[k], line: where}
		g.byKey[kindNames[k]+"\x00"+key] = e
		g.entries = append(g.entries, e)
	}
	if weight >= 0 {
		e.weight = weight
	}
	parts := strings.Split(body, "|")
	added := 0
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			if len(parts) == 1 {
				break
			}
			return fmt.Errorf("variant %d is empty", i+1)
		}
		if e.kind == kindEdition {
			ed, err := parseEdition(p)
			if err != nil {
				return fmt.Errorf("edition %q: %v", p, err)
			}
			e.editions = append(e.editions, ed)
		} else {
			v, err := parseVariant(p)
			if err != nil {
				return fmt.Errorf("variant %q: %v", p, err)
			}
			e.variants = append(e.variants, v)
		}
		added++
	}
	if added == 0 {
		return fmt.Errorf("%s %q has no variants after the colon", kindNames[k], key)
	}
	return nil
}

func parseVariant(p string) (variant, error) {
	v := variant{text: p}
	if i := strings.LastIndexByte(p, '['); i >= 0 && strings.HasSuffix(p, "]") {
		v.text = strings.TrimSpace(p[:i])
		v.fold = strings.TrimSpace(p[i+1 : len(p)-1])
		switch v.fold {
		case "marks", "exact", "plain", "ascii", "auto":
		default:
			return v, fmt.Errorf("fold [%s]: want [marks], [exact], [plain], [ascii] or [auto]", v.fold)
		}
	}
	hasWord := false
	for _, r := range v.text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			hasWord = true
			break
		}
	}
	if !hasWord {
		return v, fmt.Errorf("no words to match")
	}
	return v, nil
}

// parseEdition reads "vi host/path*" or "en host/path-{id}.html".
func parseEdition(p string) (edition, error) {
	lang, pat, ok := strings.Cut(p, " ")
	pat = strings.TrimSpace(pat)
	if !ok || (lang != "vi" && lang != "en") || pat == "" {
		return edition{}, fmt.Errorf("want the language (vi or en), a space and a URL pattern such as en.vietnamplus.vn/*")
	}
	pat = strings.TrimPrefix(strings.TrimPrefix(pat, "https://"), "http://")
	pat = strings.ToLower(strings.TrimPrefix(pat, "www."))
	if strings.ContainsAny(pat, " \t") || !strings.Contains(pat, ".") {
		return edition{}, fmt.Errorf("%q is not a host and path", pat)
	}
	var re strings.Builder
	re.WriteString("^")
	ids := 0
	for rest := pat; rest != ""; {
		switch {
		case strings.HasPrefix(rest, "{id}"):
			re.WriteString("([0-9a-z]+)")
			ids++
			rest = rest[4:]
		case rest[0] == '*':
			re.WriteString(".*")
			rest = rest[1:]
		default:
			i := strings.IndexAny(rest, "*{")
			if i < 0 {
				i = len(rest)
			} else if i == 0 {
				i = 1 // a lone '{'
			}
			re.WriteString(regexp.QuoteMeta(rest[:i]))
			rest = rest[i:]
		}
	}
	re.WriteString("$")
	if ids > 1 {
		return edition{}, fmt.Errorf("{id} may appear once")
	}
	return edition{lang: lang, pattern: pat, re: regexp.MustCompile(re.String()), hasID: ids == 1}, nil
}
