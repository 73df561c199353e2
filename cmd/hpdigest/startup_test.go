package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/internal/smtptest"
	"github.com/haiphong/hpdigest/templates"
)

// Operator mistakes stop the program at start-up with the config file, the
// line and the key, before anything runs.
func TestOperatorMistakesFailAtStartup(t *testing.T) {
	smtp := smtptest.Start(t)
	feeds := feedServer(t).URL
	override := func(t *testing.T, file, from, to string) string {
		t.Helper()
		dir := t.TempDir()
		src, err := templates.Embedded().Open(file)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(src)
		if !strings.Contains(string(b), from) {
			t.Fatalf("%s has no %q", file, from)
		}
		os.MkdirAll(filepath.Join(dir, filepath.Dir(file)), 0o700)
		os.WriteFile(filepath.Join(dir, file), []byte(strings.Replace(string(b), from, to, 1)), 0o600)
		return dir
	}
	for _, c := range []struct {
		name  string
		edit  func(t *testing.T, cfg string) string
		args  []string
		wants []string
	}{
		{"email without unsubscribe link",
			func(t *testing.T, cfg string) string {
				return `templates_dir = "` + override(t, "email/issue.txt.tmpl", "{{.P.Unsubscribe}}", "") + `"` + "\n" + cfg
			},
			[]string{"-subscribers"}, []string{"line 1: templates_dir:", "email/issue.txt.tmpl", "unsubscribe link"}},
		{"staff page with an unknown field",
			func(t *testing.T, cfg string) string {
				return `templates_dir = "` + override(t, "web/staff/feeds.page.tmpl", "<h1>", "{{.Data.NoSuchField}}<h1>") + `"` + "\n" + cfg
			},
			nil, []string{"line 1: templates_dir:", "web/staff/feeds.page.tmpl:", "NoSuchField"}},
		{"plain SMTP to another machine",
			func(t *testing.T, cfg string) string {
				return regexp.MustCompile(`host = "[^"]+"`).ReplaceAllString(cfg, `host = "smtp.haiphong.example.org"`)
			},
			[]string{"-send-now"}, []string{"line 16: smtp.tls:", `"none" sends the password`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeConfig(t, dir, feeds, smtp)
			b, _ := os.ReadFile(path)
			os.WriteFile(path, []byte(c.edit(t, string(b))), 0o600)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out, errOut strings.Builder
			code := run(ctx, append([]string{"-config", path}, c.args...), &out, &errOut)
			if code == 0 {
				t.Fatalf("started; output:\n%s%s", out.String(), errOut.String())
			}
			for _, w := range append(c.wants, "config "+path) {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("error lacks %q:\n%s", w, errOut.String())
				}
			}
		})
	}
}

// A database path with '?' and '#' (escaped for SQLite's URI) is the file
// it names, for every command.
func TestDatabasePathWithQueryCharacters(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, feedServer(t).URL, smtptest.Start(t))
	b, _ := os.ReadFile(path)
	db := filepath.Join(dir, "dữ liệu?v=2#bản.db")
	os.WriteFile(path, []byte(strings.Replace(string(b), filepath.Join(dir, "hp.db"), db, 1)), 0o600)
	if code, _, errOut := cli(t, "-config", path, "-add-subscriber", "an@example.org"); code != 0 {
		t.Fatalf("add: %s", errOut)
	}
	code, out, errOut := cli(t, "-config", path, "-subscribers")
	if code != 0 || !strings.Contains(out, "an@example.org") {
		t.Fatalf("list: %d %s %s", code, out, errOut)
	}
	st, err := os.Stat(db)
	if err != nil {
		t.Fatalf("the database is not at %s: %v", db, err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("database mode %o", st.Mode().Perm())
	}
}
