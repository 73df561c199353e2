package templates

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"text/template/parse"
	"time"
)

// The parts of the program, each with its catalogue, the Go packages and
// the templates that use it, and the template functions that look
// messages up (with the position of the key among their arguments).
var parts = []struct {
	catalogue string
	code      []string // directories, relative to this package
	templates []string // globs inside the templates
	funcs     map[string]int
}{
	{"email/messages.toml", []string{"../digest/render", "../web/archive"}, []string{"email/*.tmpl", "web/archive/*.tmpl"}, map[string]int{"t": 1}},
	{"web/public/messages.toml", []string{"../web/public"}, []string{"web/public/*.tmpl"}, map[string]int{"t": 2}},
	{"web/staff/messages.toml", []string{"../web/staff"}, []string{"web/staff/*.tmpl"}, map[string]int{"T": 1}},
}

// Every built-in catalogue is complete in every language (LoadCatalog
// refuses one that is not), and every message a template or the code asks
// for is in it: no page, mail or web version ever shows a raw key.
func TestEveryUsedMessageExists(t *testing.T) {
	for _, p := range parts {
		c, err := LoadCatalog(Embedded(), p.catalogue)
		if err != nil {
			t.Fatal(err)
		}
		used := map[string]string{} // key → where
		for _, glob := range p.templates {
			names, _ := fs.Glob(Embedded(), glob)
			for _, n := range names {
				for k, where := range templateKeys(t, n, p.funcs) {
					used[k] = where
				}
			}
		}
		for _, dir := range p.code {
			for k, where := range codeKeys(t, dir) {
				used[k] = where
			}
		}
		if len(used) < 15 {
			t.Fatalf("%s: found only %d keys in use: the scan is broken", p.catalogue, len(used))
		}
		for key, where := range used {
			if !c.Has(key) {
				t.Errorf("%s uses message %q, which %s lacks", where, key, p.catalogue)
			}
		}
	}
}

// templateKeys lists the message keys written as constants in a template.
func templateKeys(t *testing.T, name string, funcs map[string]int) map[string]string {
	src, err := fs.ReadFile(Embedded(), name)
	if err != nil {
		t.Fatal(err)
	}
	tree := parse.New(name)
	tree.Mode = parse.SkipFuncCheck
	set := map[string]*parse.Tree{}
	if _, err := tree.Parse(string(src), "", "", set); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := map[string]string{}
	for _, tr := range set {
		walkCommands(tr.Root, func(cmd *parse.CommandNode) {
			id, ok := cmd.Args[0].(*parse.IdentifierNode)
			if !ok {
				return
			}
			if pos, ok := funcs[id.Ident]; ok && pos < len(cmd.Args) {
				if s, ok := cmd.Args[pos].(*parse.StringNode); ok {
					loc, _ := tr.ErrorContext(cmd)
					out[s.Text] = loc
				}
			}
		})
	}
	return out
}

// codeKeys lists the keys a package's code looks up: by convention every
// lookup passes the language and then the key, so a non-empty string
// constant right after an argument named lang or l (or a call of lang()) is
// a key, outside the standard library's calls (strings.HasPrefix(l, ...)).
// A plural's key names key_one and key_other.
func codeKeys(t *testing.T, dir string) map[string]string {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || isStdlibCall(call) {
				return true
			}
			for i := 1; i < len(call.Args); i++ {
				lit, ok := call.Args[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING || !isLangArg(call.Args[i-1]) {
					continue
				}
				key, _ := strconv.Unquote(lit.Value)
				if key == "" {
					continue
				}
				where := fset.Position(lit.Pos()).String()
				if name := calleeName(call); strings.EqualFold(name, "plural") {
					out[key+"_one"], out[key+"_other"] = where, where
				} else {
					out[key] = where
				}
			}
			return true
		})
	}
	return out
}

func isLangArg(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "lang" || e.Name == "l"
	case *ast.CallExpr:
		return calleeName(e) == "lang"
	}
	return false
}

func isStdlibCall(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && (pkg.Name == "strings" || pkg.Name == "fmt" || pkg.Name == "strconv")
}

func calleeName(call *ast.CallExpr) string {
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

func TestLoadCatalogRefusesIncompleteOrBadFiles(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"missing key":      {"[vi]\na = \"x\"\nb = \"y\"\n[en]\na = \"x\"\n", "[en] lacks b (defined in [vi])"},
		"missing language": {"[vi]\na = \"x\"\n", "no [en] table"},
		"unknown language": {"[vi]\na = \"x\"\n[en]\na = \"x\"\n[fr]\na = \"x\"\n", `"fr": want one table per language`},
		"syntax":           {"[vi]\na = \"x\"\n[en]\na = = \"x\"\n", "m.toml:4"},
		"number":           {"[vi]\na = 1\n[en]\na = 2\n", "a: must be a string or a list of strings"},
	} {
		_, err := LoadCatalog(fstest.MapFS{"m.toml": {Data: []byte(tc.body)}}, "m.toml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one with %q", name, err, tc.want)
		}
	}
}

// An operator's catalogue in templates_dir changes single messages; the
// others stay as built in. A key the built-in catalogue lacks is refused.
func TestOverrideMergesSingleMessages(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, "web", "staff"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "web", "staff", "messages.toml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("[en]\nnav.feeds = \"Sources\"\n")
	fsys, err := FS(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadCatalog(fsys, "web/staff/messages.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T("en", "nav.feeds"); got != "Sources" {
		t.Errorf("overridden message = %q", got)
	}
	if got := c.T("vi", "nav.feeds"); got != "Nguồn tin" {
		t.Errorf("the Vietnamese message changed too: %q", got)
	}
	if got := c.T("en", "nav.history"); got != "Sent" {
		t.Errorf("a message the override does not name = %q", got)
	}

	for body, want := range map[string]string{
		"[en]\nnav.feedz = \"Sources\"\n":       "[en] nav.feedz: no such message in the built-in catalogue",
		"[en]\nweekdays = \"Sunday\"\n":         "weekdays: must be a list",
		"[en]\nweekdays = [\"Sun\", \"Mon\"]\n": "weekdays: must list 7 entries",
		"[en]\nnav.feeds = \"x\n":               "web/staff/messages.toml:2",
	} {
		write(body)
		if _, err := LoadCatalog(fsys, "web/staff/messages.toml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("override %q: err = %v, want one with %q", body, err, want)
		}
	}
}

func TestTextFillsNamedParameters(t *testing.T) {
	c, err := LoadCatalog(fstest.MapFS{"m.toml": {Data: []byte(`
[vi]
hello = "Xin chào {name}, số {number}"
n_one = "{count} tin"
n_other = "{count} tin"
date = "{weekday}, {dd}/{mm}/{yyyy}"
weekdays = ["CN", "T2", "T3", "T4", "T5", "T6", "T7"]
[en]
hello = "Hello {name}, issue {number}"
n_one = "one story"
n_other = "{count} stories"
date = "{weekday} {d} {mon} {yyyy}"
weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
[en.nested]
key = "dotted"
[vi.nested]
key = "có chấm"
`)}}, "m.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T("en", "hello", "name", "Lan", "number", 12); got != "Hello Lan, issue 12" {
		t.Errorf("T = %q", got)
	}
	if got := c.T("vi", "nested.key"); got != "có chấm" {
		t.Errorf("nested table key = %q", got)
	}
	if got, _ := c.Plural("en", "n", 1); got != "one story" {
		t.Errorf("plural one = %q", got)
	}
	if got, _ := c.Plural("en", "n", 3); got != "3 stories" {
		t.Errorf("plural other = %q", got)
	}
	if _, err := c.Text("en", "nope"); err == nil {
		t.Error("an unknown key is not an error")
	}
	if got := c.T("en", "nope"); got != "nope" {
		t.Errorf("an unknown key on a page shows as %q, want the key", got)
	}
	d := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	if got := c.Date("vi", "date", d, nil); got != "T6, 20/11/2026" {
		t.Errorf("date = %q", got)
	}
}

func TestCheckTreeNamesTheMissingMessage(t *testing.T) {
	c, err := LoadCatalog(Embedded(), "web/staff/messages.toml")
	if err != nil {
		t.Fatal(err)
	}
	tree := parse.New("page.tmpl")
	tree.Mode = parse.SkipFuncCheck
	set := map[string]*parse.Tree{}
	if _, err := tree.Parse("<p>{{T \"nav.feeds\"}}</p>\n{{if .X}}{{T \"nav.nope\" \"n\" 1}}{{end}}", "", "", set); err != nil {
		t.Fatal(err)
	}
	err = c.CheckTree(set["page.tmpl"], map[string]int{"T": 1})
	if err == nil || !strings.Contains(err.Error(), `page.tmpl:2`) || !strings.Contains(err.Error(), `"nav.nope"`) {
		t.Errorf("err = %v, want one naming page.tmpl:2 and nav.nope", err)
	}
}

func TestMatchLanguage(t *testing.T) {
	for h, want := range map[string]string{
		"vi-VN,vi;q=0.9,en;q=0.5": "vi",
		"en-US,en;q=0.9":          "en",
		"de-DE,en;q=0.3":          "en",
		"fr":                      "",
		"":                        "",
		"x;;;":                    "",
	} {
		got, ok := MatchLanguage(h)
		if got != want || ok != (want != "") {
			t.Errorf("MatchLanguage(%q) = %q, %v; want %q", h, got, ok, want)
		}
	}
}
