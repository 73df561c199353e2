package staff

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/internal/smtptest"
	"github.com/haiphong/hpdigest/web"
)

func init() { bcryptCost = bcrypt.MinCost } // tests log in a lot

const (
	aliceEmail = "alice@haiphong.example.org"
	bobEmail   = "bob@haiphong.example.org"
	password   = "correct horse battery"
)

// env is a running daemon's web server with the staff area, over a real
// SQLite file, fed from an httptest portal and mailing an in-process SMTP
// server.
type env struct {
	t    *testing.T
	dir  string
	a    *app.App
	h    *Handler
	srv  *httptest.Server
	smtp *smtptest.Server
	d    digest.Digest
}

type envOpts struct {
	baseURL         string // default: the test server's URL
	requireApproval bool
	maxFailures     int
	extraConfig     string // appended to the config file (more [[feeds]], …)
}

func feedServer(t testing.TB) *httptest.Server {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "staff", "portal.rss"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var dates []any
	for _, h := range []int{2, 5, 9, 3, 7, 4, 24 * 40} {
		dates = append(dates, now.Add(-time.Duration(h)*time.Hour).Format(time.RFC1123Z))
	}
	body := fmt.Sprintf(string(raw), dates...)
	mux := http.NewServeMux()
	mux.HandleFunc("/portal.rss", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		io.WriteString(w, body)
	})
	mux.HandleFunc("/broken.rss", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func testConfig(t testing.TB, dir, feedBase, baseURL string, smtp *smtptest.Server, requireApproval bool, extra string) *config.Config {
	t.Helper()
	src := fmt.Sprintf(`
database = %q
timezone = "Asia/Ho_Chi_Minh"

[http]
base_url = %q

[sender]
name = "Bản tin Hải Phòng"
address = "digest@haiphong.example.org"
postal_address = "18 Hoàng Diệu, Hồng Bàng, Hải Phòng"

[smtp]
host = %q
port = %d
tls = "none"
timeout = "10s"

[fetch]
timeout = "5s"
max_errors = 1

[[themes]]
key = "diaspora"
name_vi = "Kiều bào"
name_en = "Overseas Vietnamese"
phrases = [{text = "kiều bào"}, {text = "overseas Vietnamese"}]

[[themes]]
key = "fdi"
name_vi = "Đầu tư nước ngoài"
name_en = "Foreign investment"
phrases = [{text = "FDI"}, {text = "đầu tư nước ngoài"}]

[[themes]]
key = "china"
name_vi = "Hợp tác với Trung Quốc"
name_en = "Cooperation with China"
phrases = [{text = "Trung Quốc"}, {text = "China"}]

[[feeds]]
name = "Cổng TTĐT Hải Phòng"
url = "%[5]s/portal.rss"
language = "vi"
allow_private = true # a test server on loopback

[[feeds]]
name = "Báo hỏng"
url = "%[5]s/broken.rss"
language = "vi"
allow_private = true # a test server on loopback

[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"
draft_schedule = "0 9 * * THU"
require_approval = %[6]v
%[7]s`, filepath.Join(dir, "hp.db"), baseURL, smtp.Host, smtp.Port, feedBase, requireApproval, extra)
	cfg, err := config.Parse("staff-test.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func hashFor(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), smtp: smtptest.Start(t)}
	feeds := feedServer(t)
	// The web server's address is needed in base_url before the app exists.
	var handler http.Handler = http.NotFoundHandler()
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	base := o.baseURL
	if base == "" {
		base = e.srv.URL
	}
	cfg := testConfig(t, e.dir, feeds.URL, base, e.smtp, o.requireApproval, o.extraConfig)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, app.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	e.a = a
	e.d, _ = cfg.Digest("weekly")
	a.FetchNow(ctx)
	if _, _, err := a.Assemble(ctx, e.d); err != nil {
		t.Fatal(err)
	}
	scfg := Config{MaxFailures: o.maxFailures, Accounts: []Account{
		{Email: aliceEmail, Name: "Nguyễn Thị Lan", PasswordHash: hashFor(t, password)},
		{Email: bobEmail, Name: "Trần Văn Bình", PasswordHash: hashFor(t, password)},
	}}
	e.h, err = New(ctx, a, scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.h.Wait)
	handler = web.Handler(a.DB, log, e.h)
	return e
}

// issue returns the current draft.
func (e *env) issue() *digest.Issue {
	e.t.Helper()
	iss, err := e.a.Digests.OpenIssue(context.Background(), "weekly")
	if err != nil {
		e.t.Fatal(err)
	}
	return iss
}

// item returns the issue item whose title contains s.
func findItem(t *testing.T, iss *digest.Issue, s string) digest.IssueItem {
	t.Helper()
	for _, it := range iss.Items {
		if strings.Contains(it.Item.Title, s) {
			return it
		}
	}
	t.Fatalf("no item %q in issue %d", s, iss.ID)
	return digest.IssueItem{}
}

// client is one browser: its own cookies.
type client struct {
	t    *testing.T
	e    *env
	http *http.Client
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type resp struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (c *client) do(req *http.Request) resp {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: string(b), location: res.Header.Get("Location"), header: res.Header}
}

func (c *client) get(path string) resp {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.e.srv.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) resp {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfIn(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", body)
	}
	return m[1]
}

// login logs the client in and returns the session's CSRF token.
func (c *client) login(email, pw string) string {
	c.t.Helper()
	r := c.tryLogin(email, pw)
	if r.status != http.StatusSeeOther {
		c.t.Fatalf("login %s: status %d:\n%s", email, r.status, r.body)
	}
	return csrfIn(c.t, c.get("/staff/").body)
}

func (c *client) tryLogin(email, pw string) resp {
	c.t.Helper()
	page := c.get("/staff/login")
	return c.post("/staff/login", url.Values{"csrf": {csrfIn(c.t, page.body)}, "email": {email}, "password": {pw}})
}

// edit posts a form with the CSRF token and the issue's version.
func (c *client) edit(csrf string, version int, path string, form url.Values) resp {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrf)
	form.Set("version", fmt.Sprint(version))
	return c.post(path, form)
}
