package staff

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A reload applies the [staff] section and the templates: a removed
// account and one whose password changed are logged out, an unchanged one
// stays logged in, and a changed template shows. A broken template
// override is refused, naming the file, and the pages in use stay.
func TestReloadAppliesAccountsAndTemplates(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	alice, bob := e.client(), e.client()
	alice.login(aliceEmail, password)
	bob.login(bobEmail, password)

	// Bob leaves the config; Alice's hash is new (a new password).
	hash := hashFor(t, "a brand new password")
	next := *e.a.Cfg()
	next.Staff = Config{Accounts: []Account{{Email: aliceEmail, Name: "Nguyễn Thị Lan", PasswordHash: hash}}}
	commit, err := e.h.PrepareReload(ctx, &next)
	if err != nil {
		t.Fatal(err)
	}
	if r := bob.get("/staff/"); r.status != http.StatusOK {
		t.Fatalf("the reload applied before its commit: bob gets %d", r.status)
	}
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	if r := bob.get("/staff/"); r.status != http.StatusSeeOther {
		t.Errorf("an account removed from the config is still logged in: %d", r.status)
	}
	if r := alice.get("/staff/"); r.status != http.StatusSeeOther {
		t.Errorf("a session opened with the old password survives the change: %d", r.status)
	}
	alice = e.client()
	alice.login(aliceEmail, "a brand new password")

	// The same accounts and new static files: Alice stays logged in.
	dir := t.TempDir()
	css := filepath.Join(dir, "web", "staff", "static")
	if err := os.MkdirAll(css, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(css, "staff.css"), []byte("/* reloaded */ body{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	next2 := next
	next2.TemplatesDir = dir
	if commit, err = e.h.PrepareReload(ctx, &next2); err != nil {
		t.Fatal(err)
	}
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	if r := alice.get("/staff/"); r.status != http.StatusOK {
		t.Errorf("an unchanged account was logged out: %d", r.status)
	}
	if r := alice.get("/staff/static/staff.css"); !strings.Contains(r.body, "reloaded") {
		t.Errorf("the static files of the new templates_dir are not served: %.80q", r.body)
	}

	// A page template that fails on sample data: refused, nothing changes.
	broken := next2
	broken.TemplatesDir = t.TempDir()
	pages := filepath.Join(broken.TemplatesDir, "web", "staff")
	if err := os.MkdirAll(pages, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pages, "feeds.page.tmpl"), []byte(`{{define "content"}}{{.NoSuchField}}{{end}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.PrepareReload(ctx, &broken); err == nil || !strings.Contains(err.Error(), "feeds.page.tmpl") {
		t.Fatalf("broken override: err = %v, want one naming feeds.page.tmpl", err)
	}
	if r := alice.get("/staff/feeds"); r.status != http.StatusOK {
		t.Errorf("the feeds page after a refused reload: %d", r.status)
	}
}
