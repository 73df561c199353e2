package staff

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/subscribers"
)

// Every staff page and action, as a stranger would try them.
var routes = []struct{ method, path string }{
	{"GET", "/staff/"},
	{"GET", "/staff/digests/weekly"},
	{"POST", "/staff/digests/weekly/assemble"},
	{"GET", "/staff/issues/1"},
	{"POST", "/staff/issues/1/note"},
	{"POST", "/staff/issues/1/items/1/include"},
	{"POST", "/staff/issues/1/items/1/move"},
	{"POST", "/staff/issues/1/items/1/order"},
	{"POST", "/staff/issues/1/items/1/edit"},
	{"POST", "/staff/issues/1/add"},
	{"POST", "/staff/issues/1/approve"},
	{"POST", "/staff/issues/1/unapprove"},
	{"POST", "/staff/issues/1/reschedule"},
	{"POST", "/staff/issues/1/send"},
	{"POST", "/staff/issues/1/test"},
	{"GET", "/staff/issues/1/preview"},
	{"GET", "/staff/issues/1/preview/html"},
	{"GET", "/staff/issues/1/preview/text"},
	{"GET", "/staff/issues/1/preview/eml"},
	{"GET", "/staff/history"},
	{"GET", "/staff/subscribers"},
	{"GET", "/staff/subscribers/export"},
	{"GET", "/staff/subscribers/1"},
	{"POST", "/staff/subscribers/import"},
	{"POST", "/staff/subscribers/remove"},
	{"GET", "/staff/feeds"},
	{"POST", "/staff/feeds/reenable"},
	{"GET", "/staff/themes"},
	{"POST", "/staff/themes/phrases"},
	{"POST", "/staff/logout"},
	{"GET", "/staff/no-such-page"},
}

func TestUnauthenticatedAccessRedirectsAndShowsNothing(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	if _, err := e.a.Subscribers.Add(ctx, subscribers.Subscriber{Email: "secret.reader@example.jp", Name: "Secret Reader", Language: "vi"}); err != nil {
		t.Fatal(err)
	}
	before := e.issue()
	c := e.client()
	// A forged cookie is no better than none.
	u, _ := url.Parse(e.srv.URL)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "forged-token", Path: "/staff"}})
	for _, rt := range routes {
		form := url.Values{"csrf": {"x"}, "version": {"1"}, "included": {"0"}, "note_vi": {"hacked"}, "email": {"secret.reader@example.jp"}, "name": {"Báo hỏng"}}
		var r resp
		if rt.method == "GET" {
			r = c.get(rt.path)
		} else {
			r = c.post(rt.path, form)
		}
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/staff/login?next=") {
			t.Errorf("%s %s: status %d, Location %q; want 303 to the login page", rt.method, rt.path, r.status, r.location)
		}
		for _, secret := range []string{"Kiều bào", "secret.reader", "Báo hỏng", "FDI"} {
			if strings.Contains(r.body, secret) {
				t.Errorf("%s %s: the response shows %q to a stranger", rt.method, rt.path, secret)
			}
		}
	}
	after := e.issue()
	if after.Version != before.Version || after.NoteVI != "" || len(after.Included()) != len(before.Included()) {
		t.Errorf("unauthenticated posts changed the issue: version %d → %d, note %q", before.Version, after.Version, after.NoteVI)
	}
	if _, err := e.a.Subscribers.ByEmail(ctx, "secret.reader@example.jp"); err != nil {
		t.Errorf("unauthenticated remove deleted the subscriber: %v", err)
	}
	// After logging in, the user lands where they wanted to go.
	page := c.get("/staff/login?next=" + url.QueryEscape("/staff/feeds"))
	r := c.post("/staff/login", url.Values{"csrf": {csrfIn(t, page.body)}, "email": {aliceEmail}, "password": {password}, "next": {"/staff/feeds"}})
	if r.status != http.StatusSeeOther || r.location != "/staff/feeds" {
		t.Errorf("login with next: %d → %q, want 303 → /staff/feeds", r.status, r.location)
	}
	// next never leads off the staff area.
	for _, evil := range []string{"https://evil.example/", "//evil.example/staff/", "/staff/\\evil.example"} {
		other := e.client()
		page := other.get("/staff/login")
		r := other.post("/staff/login", url.Values{"csrf": {csrfIn(t, page.body)}, "email": {aliceEmail}, "password": {password}, "next": {evil}})
		if r.location != "/staff/" {
			t.Errorf("login with next=%q redirects to %q", evil, r.location)
		}
	}
}

func TestLoginSessionCookieAndLogout(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	r := c.tryLogin(aliceEmail, "wrong password!")
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, tr("vi", "login.bad")) {
		t.Fatalf("wrong password: %d, want 401 with %q", r.status, tr("vi", "login.bad"))
	}
	if strings.Contains(r.body, password) || strings.Contains(r.body, "wrong password!") {
		t.Error("the login page echoes the password")
	}
	r = c.tryLogin(strings.ToUpper(aliceEmail), password) // addresses are case-insensitive
	if r.status != http.StatusSeeOther {
		t.Fatalf("login: %d\n%s", r.status, r.body)
	}
	var sc *http.Cookie
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == sessionCookie {
			sc = ck
		}
	}
	if sc == nil {
		t.Fatal("no session cookie")
	}
	if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure || sc.Path != "/staff" {
		t.Errorf("session cookie: HttpOnly=%v SameSite=%v Secure=%v Path=%q; want HttpOnly, Lax, not Secure over http, /staff", sc.HttpOnly, sc.SameSite, sc.Secure, sc.Path)
	}
	home := c.get("/staff/")
	if home.status != http.StatusOK || !strings.Contains(home.body, "Nguyễn Thị Lan") {
		t.Fatalf("dashboard after login: %d", home.status)
	}
	for _, h := range []string{"X-Frame-Options", "Content-Security-Policy", "Cache-Control"} {
		if home.header.Get(h) == "" {
			t.Errorf("dashboard: no %s header", h)
		}
	}
	// Logout ends the session on the server: the old cookie is useless.
	r = c.post("/staff/logout", url.Values{"csrf": {csrfIn(t, home.body)}})
	if r.status != http.StatusSeeOther || !strings.Contains(r.location, "/staff/login") {
		t.Fatalf("logout: %d %q", r.status, r.location)
	}
	replay := e.client()
	u, _ := url.Parse(e.srv.URL)
	replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sc.Value, Path: "/staff"}})
	if r := replay.get("/staff/"); r.status != http.StatusSeeOther {
		t.Errorf("the session cookie still works after logout: %d", r.status)
	}
	if r := c.get("/staff/"); r.status != http.StatusSeeOther {
		t.Errorf("after logout: %d, want a redirect to login", r.status)
	}
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	c.login(aliceEmail, password)
	e.h.now = func() time.Time { return time.Now().Add(13 * time.Hour) } // default lifetime 12h
	if r := c.get("/staff/"); r.status != http.StatusSeeOther {
		t.Errorf("a 13-hour-old session still works: %d", r.status)
	}
}

func TestSecureCookieOverHTTPS(t *testing.T) {
	e := newEnv(t, envOpts{baseURL: "https://digest.example.org"})
	c := e.client()
	page := c.get("/staff/login")
	r := c.post("/staff/login", url.Values{"csrf": {csrfIn(t, page.body)}, "email": {aliceEmail}, "password": {password}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("login: %d", r.status)
	}
	found := false
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == sessionCookie {
			found = true
			if !ck.Secure || !ck.HttpOnly {
				t.Errorf("session cookie with an https base_url: Secure=%v HttpOnly=%v", ck.Secure, ck.HttpOnly)
			}
		}
	}
	if !found {
		t.Fatal("no session cookie")
	}
}

func TestLoginFormCSRF(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	// No token at all (a cross-site form posting to our login).
	r := c.post("/staff/login", url.Values{"email": {aliceEmail}, "password": {password}})
	if r.status != http.StatusForbidden {
		t.Errorf("login without the form token: %d, want 403", r.status)
	}
	// A token that is not the one of this browser's cookie.
	c.get("/staff/login")
	r = c.post("/staff/login", url.Values{"csrf": {"made-up"}, "email": {aliceEmail}, "password": {password}})
	if r.status != http.StatusForbidden {
		t.Errorf("login with a wrong form token: %d, want 403", r.status)
	}
}

func TestLockoutAfterRepeatedFailures(t *testing.T) {
	e := newEnv(t, envOpts{maxFailures: 3})
	now := time.Now()
	e.h.now = func() time.Time { return now }
	c := e.client()
	for i := 1; i <= 2; i++ {
		if r := c.tryLogin(aliceEmail, "guess"+strings.Repeat("!", i)); r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i, r.status)
		}
	}
	r := c.tryLogin(aliceEmail, "guess!!!")
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("third failure: %d, want 429 (locked)", r.status)
	}
	// While locked even the right password is refused, without checking it.
	if r := c.tryLogin(aliceEmail, password); r.status != http.StatusTooManyRequests {
		t.Fatalf("right password while locked: %d, want 429", r.status)
	}
	// Other accounts are not affected.
	if r := e.client().tryLogin(bobEmail, password); r.status != http.StatusSeeOther {
		t.Errorf("bob while alice is locked: %d", r.status)
	}
	// Unknown addresses are locked the same way (no hint which exist).
	for i := 0; i < 3; i++ {
		r = c.tryLogin("nobody@example.org", "guess")
	}
	if r.status != http.StatusTooManyRequests {
		t.Errorf("unknown address after 3 failures: %d, want 429 like a real one", r.status)
	}
	// The first lock lasts 15 minutes.
	now = now.Add(16 * time.Minute)
	if r := c.tryLogin(aliceEmail, password); r.status != http.StatusSeeOther {
		t.Fatalf("after the lock-out: %d, want a successful login", r.status)
	}
	// The second lock lasts twice as long... only after failures since; a
	// success reset the count, so 3 new failures lock again for 15m.
	for i := 0; i < 3; i++ {
		c.tryLogin(aliceEmail, "again")
	}
	now = now.Add(16 * time.Minute)
	if r := c.tryLogin(aliceEmail, password); r.status != http.StatusSeeOther {
		t.Errorf("a success resets the lock-out history: %d", r.status)
	}
}

func TestLockoutGrows(t *testing.T) {
	e := newEnv(t, envOpts{maxFailures: 2})
	now := time.Now()
	e.h.now = func() time.Time { return now }
	c := e.client()
	lock := func() {
		for i := 0; i < 2; i++ {
			c.tryLogin(bobEmail, "nope")
		}
	}
	lock()
	now = now.Add(16 * time.Minute)
	lock() // second lock without a success in between: 30 minutes
	now = now.Add(20 * time.Minute)
	if r := c.tryLogin(bobEmail, password); r.status != http.StatusTooManyRequests {
		t.Errorf("20 minutes into the second lock-out: %d, want still locked", r.status)
	}
	now = now.Add(11 * time.Minute)
	if r := c.tryLogin(bobEmail, password); r.status != http.StatusSeeOther {
		t.Errorf("after the second lock-out: %d", r.status)
	}
}

func TestCSRFRejectedOnEveryAction(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	e.a.Subscribers.Add(ctx, subscribers.Subscriber{Email: "keep@example.de", Language: "en"})
	c := e.client()
	good := c.login(aliceEmail, password)
	before := e.issue()
	for _, rt := range routes {
		if rt.method != "POST" {
			continue
		}
		for _, tok := range []string{"", "wrong-token", good + "x"} {
			form := url.Values{"version": {"1"}, "included": {"0"}, "note_vi": {"forged"}, "email": {"keep@example.de"}, "dir": {"down"}, "theme": {"china"}, "url": {"https://portal.example.vn/tin/kieu-bao-uc-truong-hoc"}}
			if tok != "" {
				form.Set("csrf", tok)
			}
			r := c.post(rt.path, form)
			if r.status != http.StatusForbidden {
				t.Errorf("%s with token %q: %d, want 403", rt.path, tok, r.status)
			}
		}
	}
	after := e.issue()
	if after.Version != before.Version || after.Status != before.Status || after.NoteVI != "" {
		t.Errorf("forged posts changed the issue: version %d → %d, status %s, note %q", before.Version, after.Version, after.Status, after.NoteVI)
	}
	if _, err := e.a.Subscribers.ByEmail(ctx, "keep@example.de"); err != nil {
		t.Errorf("a forged post removed a subscriber: %v", err)
	}
	if r := c.get("/staff/"); r.status != http.StatusOK {
		t.Errorf("a forged logout ended the session: %d", r.status)
	}
	if n := len(e.smtp.Messages()); n != 0 {
		t.Errorf("forged posts sent %d mails", n)
	}
}

func TestCreateAccount(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	if err := CreateAccount(ctx, e.a.DB, "short@haiphong.example.org", "", "short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
	if err := CreateAccount(ctx, e.a.DB, "not an address", "", "long enough password"); err == nil {
		t.Error("a bad address was accepted")
	}
	if err := CreateAccount(ctx, e.a.DB, "Minh@HaiPhong.example.org", "Lê Minh", "long enough password"); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	c.login("minh@haiphong.example.org", "long enough password")
	// Setting a new password ends the old sessions.
	if err := CreateAccount(ctx, e.a.DB, "minh@haiphong.example.org", "", "another long password"); err != nil {
		t.Fatal(err)
	}
	if r := c.get("/staff/"); r.status != http.StatusSeeOther {
		t.Errorf("session survived a password change: %d", r.status)
	}
	if r := e.client().tryLogin("minh@haiphong.example.org", "long enough password"); r.status != http.StatusUnauthorized {
		t.Errorf("old password after the change: %d", r.status)
	}
	e.client().login("minh@haiphong.example.org", "another long password")
}

func TestConfigAccountsSync(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	c := e.client()
	c.login(bobEmail, password)
	// Bob is removed from the config: the next start disables him and ends his session.
	h2, err := New(ctx, e.a, Config{Accounts: []Account{{Email: aliceEmail, PasswordHash: hashFor(t, password)}}})
	if err != nil {
		t.Fatal(err)
	}
	e.h.look.Store(h2.current())
	if r := c.get("/staff/"); r.status != http.StatusSeeOther {
		t.Errorf("removed account still logged in: %d", r.status)
	}
	if r := e.client().tryLogin(bobEmail, password); r.status != http.StatusUnauthorized {
		t.Errorf("removed account can log in: %d", r.status)
	}
}

func TestConfigValidate(t *testing.T) {
	good := hashFor(t, password)
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"ok", Config{Accounts: []Account{{Email: "a@b.org", PasswordHash: good}}}, ""},
		{"plain password", Config{Accounts: []Account{{Email: "a@b.org", PasswordHash: "hunter2"}}}, "accounts[0].password_hash"},
		{"bad email", Config{Accounts: []Account{{Email: "nobody", PasswordHash: good}}}, "accounts[0].email"},
		{"twice", Config{Accounts: []Account{{Email: "a@b.org", PasswordHash: good}, {Email: "A@b.org", PasswordHash: good}}}, "accounts[1].email"},
		{"language", Config{Language: "fr"}, "language"},
		{"short session", Config{SessionLifetime: time.Second}, "session_lifetime"},
		{"negative lockout", Config{Lockout: -time.Minute}, "lockout"},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		if tc.want == "" && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
			t.Errorf("%s: error %v, want one about %s", tc.name, err, tc.want)
		}
	}
}

func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	c.login(aliceEmail, password)
	if r := c.get("/staff/"); !strings.Contains(r.body, "Tổng quan") {
		t.Fatal("the default UI is not Vietnamese")
	}
	r := c.get("/staff/lang?to=en&back=/staff/history")
	if r.status != http.StatusSeeOther || r.location != "/staff/history" {
		t.Fatalf("switch: %d %q", r.status, r.location)
	}
	if r := c.get("/staff/"); !strings.Contains(r.body, "Overview") || !strings.Contains(r.body, `lang="en"`) {
		t.Error("the UI did not switch to English")
	}
	// The switch never redirects off the staff area.
	if r := c.get("/staff/lang?to=vi&back=https://evil.example/"); r.location != "/staff/" {
		t.Errorf("open redirect: %q", r.location)
	}
}
