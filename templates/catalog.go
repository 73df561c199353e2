package templates

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"text/template/parse"
	"time"

	"github.com/BurntSushi/toml"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// Languages are the languages every catalogue is written in; the first is
// the default.
var Languages = []string{"vi", "en"}

// Catalog is one message catalogue: every fixed word of one part of the
// program (the email, the public pages, the staff area) in every language.
//
// A catalogue is a TOML file with one table per language ([vi], [en]).
// Keys may be dotted (nav.dashboard = "..."); values are strings, with
// {name} marking a parameter, or lists of strings (weekdays, months). Both
// languages must define the same keys.
//
// With a templates_dir override, the file there is merged over the built-in
// one key by key: it may hold only the messages the operator changes. A key
// the built-in catalogue lacks (a typo, most likely) is an error.
type Catalog struct {
	file string
	msgs map[string]map[string]any // language → key → string or []string
}

// LoadCatalog reads the catalogue file from fsys (see FS): the built-in one,
// complete in every language, with the override's keys (if any) merged over
// it. Errors name the file, and the line where the parser knows it.
func LoadCatalog(fsys fs.FS, file string) (*Catalog, error) {
	base, top := fsys, fs.FS(nil)
	if o, ok := fsys.(overlay); ok {
		base, top = o.base, o.top
	}
	c, err := readCatalog(base, file)
	if err != nil {
		return nil, err
	}
	if err := c.complete(); err != nil {
		return nil, err
	}
	if top == nil {
		return c, nil
	}
	over, err := readCatalog(top, file)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	return c, c.merge(over)
}

func readCatalog(fsys fs.FS, file string) (*Catalog, error) {
	src, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("catalogue %s: %w", file, err)
	}
	var raw map[string]any
	if _, err := toml.Decode(string(src), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %s", file, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	c := &Catalog{file: file, msgs: map[string]map[string]any{}}
	for lang, v := range raw {
		table, ok := v.(map[string]any)
		if !ok || !isLanguage(lang) {
			return nil, fmt.Errorf("%s: %q: want one table per language (%s)", file, lang, strings.Join(Languages, ", "))
		}
		out := map[string]any{}
		if err := flatten(file, lang, "", table, out); err != nil {
			return nil, err
		}
		c.msgs[lang] = out
	}
	return c, nil
}

// flatten turns nested tables (dotted keys) into "a.b.c" keys.
func flatten(file, lang, prefix string, table map[string]any, out map[string]any) error {
	for k, v := range table {
		key := prefix + k
		switch v := v.(type) {
		case string:
			out[key] = norm.NFC.String(v)
		case map[string]any:
			if err := flatten(file, lang, key+".", v, out); err != nil {
				return err
			}
		case []any:
			l := make([]string, 0, len(v))
			for _, e := range v {
				s, ok := e.(string)
				if !ok {
					return fmt.Errorf("%s: [%s] %s: lists must hold strings", file, lang, key)
				}
				l = append(l, norm.NFC.String(s))
			}
			out[key] = l
		default:
			return fmt.Errorf("%s: [%s] %s: must be a string or a list of strings", file, lang, key)
		}
	}
	return nil
}

func isLanguage(l string) bool {
	for _, x := range Languages {
		if x == l {
			return true
		}
	}
	return false
}

// complete checks that every language is there with the same keys, so no
// reader ever meets a missing message.
func (c *Catalog) complete() error {
	for _, l := range Languages {
		if _, ok := c.msgs[l]; !ok {
			return fmt.Errorf("%s: no [%s] table", c.file, l)
		}
	}
	for _, a := range Languages {
		for _, b := range Languages {
			var missing []string
			for k := range c.msgs[a] {
				if _, ok := c.msgs[b][k]; !ok {
					missing = append(missing, k)
				}
			}
			if len(missing) > 0 {
				sort.Strings(missing)
				return fmt.Errorf("%s: [%s] lacks %s (defined in [%s])", c.file, b, strings.Join(missing, ", "), a)
			}
		}
	}
	return nil
}

// merge puts the override's messages over c's.
func (c *Catalog) merge(over *Catalog) error {
	for lang, m := range over.msgs {
		for k, v := range m {
			old, ok := c.msgs[lang][k]
			if !ok {
				return fmt.Errorf("%s (templates_dir): [%s] %s: no such message in the built-in catalogue (misspelt?)", c.file, lang, k)
			}
			_, oldList := old.([]string)
			newList, isList := v.([]string)
			switch {
			case oldList != isList:
				return fmt.Errorf("%s (templates_dir): [%s] %s: must be a %s, like the built-in one", c.file, lang, k, map[bool]string{true: "list", false: "string"}[oldList])
			case isList && len(newList) != len(old.([]string)):
				return fmt.Errorf("%s (templates_dir): [%s] %s: must list %d entries", c.file, lang, k, len(old.([]string)))
			}
			c.msgs[lang][k] = v
		}
	}
	return nil
}

// File is the catalogue's file name inside the templates.
func (c *Catalog) File() string { return c.file }

// Has reports whether key is a message of the catalogue.
func (c *Catalog) Has(key string) bool {
	_, ok := c.msgs[Languages[0]][key]
	return ok
}

// Keys lists the catalogue's keys, sorted.
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.msgs[Languages[0]]))
	for k := range c.msgs[Languages[0]] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Msg returns message key as written, without filling parameters ("" for
// an unknown key or a list).
func (c *Catalog) Msg(lang, key string) string {
	s, _ := c.msgs[lang][key].(string)
	return s
}

// List returns a list message (nil if key is not a list).
func (c *Catalog) List(lang, key string) []string {
	l, _ := c.msgs[lang][key].([]string)
	return l
}

// Text returns message key in lang with its {name} parameters filled from
// name, value pairs.
func (c *Catalog) Text(lang, key string, args ...any) (string, error) {
	v, ok := c.msgs[lang][key]
	if !ok {
		return "", fmt.Errorf("message %q is not in %s", key, c.file)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("message %q of %s is a list", key, c.file)
	}
	if len(args)%2 != 0 {
		return "", fmt.Errorf("message %q: parameters must come in name, value pairs", key)
	}
	for i := 0; i < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return s, nil
}

// T is Text for pages: a message that cannot be formatted shows as its key
// rather than breaking the page (the start-up checks and tests make that
// not happen).
func (c *Catalog) T(lang, key string, args ...any) string {
	s, err := c.Text(lang, key, args...)
	if err != nil {
		return key
	}
	return s
}

// Plural picks key_one or key_other for n and fills {count}.
func (c *Catalog) Plural(lang, key string, n int) (string, error) {
	k := key + "_other"
	if n == 1 {
		k = key + "_one"
	}
	return c.Text(lang, k, "count", n)
}

// Date formats t in loc with the pattern of message key: {weekday} {d} {dd}
// {m} {mm} {month} {mon} {yyyy}, names from the lists weekdays (Sunday
// first), months and months_short.
func (c *Catalog) Date(lang, key string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc != nil {
		t = t.In(loc)
	}
	name := func(list string, i int) string {
		if l := c.List(lang, list); i < len(l) {
			return l[i]
		}
		return ""
	}
	return strings.NewReplacer(
		"{weekday}", name("weekdays", int(t.Weekday())),
		"{dd}", fmt.Sprintf("%02d", t.Day()),
		"{d}", strconv.Itoa(t.Day()),
		"{mm}", fmt.Sprintf("%02d", int(t.Month())),
		"{m}", strconv.Itoa(int(t.Month())),
		"{month}", name("months", int(t.Month())-1),
		"{mon}", name("months_short", int(t.Month())-1),
		"{yyyy}", strconv.Itoa(t.Year()),
	).Replace(c.Msg(lang, key))
}

// CheckTree reports the first message a template asks for that the
// catalogue lacks. funcs names the template functions that look messages up
// and the position of the key among their arguments ({{t .Lang "key"}}
// is {"t": 2}); only keys written as string constants can be checked.
func (c *Catalog) CheckTree(tree *parse.Tree, funcs map[string]int) error {
	if tree == nil || tree.Root == nil {
		return nil
	}
	var err error
	walkCommands(tree.Root, func(cmd *parse.CommandNode) {
		if err != nil || len(cmd.Args) == 0 {
			return
		}
		id, ok := cmd.Args[0].(*parse.IdentifierNode)
		if !ok {
			return
		}
		pos, ok := funcs[id.Ident]
		if !ok || pos >= len(cmd.Args) {
			return
		}
		if s, ok := cmd.Args[pos].(*parse.StringNode); ok && !c.Has(s.Text) {
			loc, _ := tree.ErrorContext(cmd) // "file:line:column"
			err = fmt.Errorf("%s: message %q is not in %s", loc, s.Text, c.file)
		}
	})
	return err
}

// walkCommands calls fn for every command of the tree, nested ones
// included.
func walkCommands(n parse.Node, fn func(*parse.CommandNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, x := range n.Nodes {
			walkCommands(x, fn)
		}
	case *parse.ActionNode:
		walkCommands(n.Pipe, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, cmd := range n.Cmds {
			walkCommands(cmd, fn)
		}
	case *parse.CommandNode:
		fn(n)
		for _, a := range n.Args {
			walkCommands(a, fn)
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.TemplateNode:
		walkCommands(n.Pipe, fn)
	}
}

func walkBranch(b *parse.BranchNode, fn func(*parse.CommandNode)) {
	walkCommands(b.Pipe, fn)
	walkCommands(b.List, fn)
	if b.ElseList != nil {
		walkCommands(b.ElseList, fn)
	}
}

// OtherLanguage is the language a reader of lang can switch to.
func OtherLanguage(lang string) string {
	for _, l := range Languages {
		if l != lang {
			return l
		}
	}
	return lang
}

var matcher = func() language.Matcher {
	tags := make([]language.Tag, len(Languages))
	for i, l := range Languages {
		tags[i] = language.Make(l)
	}
	return language.NewMatcher(tags)
}()

// MatchLanguage picks the catalogue language that best fits an
// Accept-Language header; ok is false when the header names none of them.
func MatchLanguage(acceptLanguage string) (lang string, ok bool) {
	if strings.TrimSpace(acceptLanguage) == "" {
		return "", false
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return "", false
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return "", false
	}
	return Languages[i], true
}
