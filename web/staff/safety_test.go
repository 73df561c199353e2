package staff

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/web/clientlimit"
)

// fromNetwork makes the client's requests come from network (as the
// handler's client key sees them).
func (c *client) fromNetwork(network string) *client {
	c.http.Transport = headerTransport{"X-Test-Client": network}
	return c
}

type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func testClientKey(r *http.Request) string {
	if c := r.Header.Get("X-Test-Client"); c != "" {
		return c
	}
	return clientlimit.RemoteNetwork(r)
}

// Wrong passwords typed for an editor's address from one network lock that
// network out, not the editor: she logs in from hers. The guessing network
// is throttled before any password is checked.
func TestLockoutIsPerClientAndGuessersAreThrottled(t *testing.T) {
	e := newEnv(t, envOpts{maxFailures: 5})
	e.h.clientKey = testClientKey
	now := time.Now()
	e.h.now = func() time.Time { return now }
	attacker := e.client().fromNetwork("203.0.113.9")
	for i := 0; i < 5; i++ {
		attacker.tryLogin(aliceEmail, fmt.Sprintf("guess-%d", i))
	}
	if r := attacker.tryLogin(aliceEmail, password); r.status != http.StatusTooManyRequests {
		t.Fatalf("the guessing network with the right password after 5 failures: %d, want 429", r.status)
	}
	editor := e.client().fromNetwork("198.51.100.7")
	if r := editor.tryLogin(aliceEmail, password); r.status != http.StatusSeeOther {
		t.Fatalf("the editor from her own network while a stranger guesses her password: %d, want a login", r.status)
	}

	// Guessing other addresses from the same network: throttled after a
	// handful, with a clear message and a Retry-After, whatever the address.
	var r resp
	for i := 0; i < 30; i++ {
		r = attacker.tryLogin(fmt.Sprintf("nobody%d@haiphong.example.org", i), "guess")
		if r.status == http.StatusTooManyRequests {
			break
		}
	}
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, tr("vi", "login.slow")) || r.header.Get("Retry-After") == "" {
		t.Fatalf("30 failed logins from one network in a moment: %d %q, want 429 with login.slow", r.status, errorIn(r.body))
	}
	// Another network is not slowed down.
	if r := e.client().fromNetwork("192.0.2.44").tryLogin(bobEmail, password); r.status != http.StatusSeeOther {
		t.Errorf("another network while one is throttled: %d", r.status)
	}
	// The throttle refills with time.
	now = now.Add(2 * time.Minute)
	if r := attacker.tryLogin("nobody-later@haiphong.example.org", "guess"); r.status != http.StatusUnauthorized {
		t.Errorf("two minutes later: %d, want a plain 401", r.status)
	}
}

// Failed logins for ever new addresses from ever new networks do not grow
// the table without bound.
func TestLoginFailuresAreCapped(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.h.clientKey = testClientKey
	e.h.maxFailureRows = 40
	for i := 0; i < 100; i++ {
		e.client().fromNetwork(fmt.Sprintf("10.0.%d.%d", i/250, i%250)).tryLogin(fmt.Sprintf("x%d@example.org", i), "nope")
	}
	var n int
	if err := e.a.DB.QueryRow(`SELECT COUNT(*) FROM staff_login_failures`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n > 40 {
		t.Errorf("%d rows of failed logins, cap is 40", n)
	}
}

// The static files are served; their directory is not listed.
func TestStaticDirectoryIsNotListed(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	if r := c.get("/staff/static/"); r.status != http.StatusNotFound || strings.Contains(r.body, "staff.css") {
		t.Errorf("/staff/static/: %d, lists the files: %v", r.status, strings.Contains(r.body, "staff.css"))
	}
	if r := c.get("/staff/static/staff.css"); r.status != http.StatusOK {
		t.Errorf("staff.css: %d", r.status)
	}
}

// The CSRF token counts only in the POST body: a token in the query string
// (where links, logs and Referer headers carry it) is refused, for the
// login form too.
func TestCSRFTokenOnlyFromTheBody(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	csrf := c.login(aliceEmail, password)
	iss := e.issue()
	r := c.post(fmt.Sprintf("/staff/issues/%d/note?csrf=%s", iss.ID, url.QueryEscape(csrf)),
		url.Values{"version": {fmt.Sprint(iss.Version)}, "note_vi": {"from the query"}})
	if r.status != http.StatusForbidden {
		t.Errorf("token in the query string: %d, want 403", r.status)
	}
	if e.issue().NoteVI != "" {
		t.Error("a post with the token in the query changed the issue")
	}
	fresh := e.client()
	page := fresh.get("/staff/login")
	r = fresh.post("/staff/login?csrf="+url.QueryEscape(csrfIn(t, page.body))+"&email="+url.QueryEscape(aliceEmail)+"&password="+url.QueryEscape(password), url.Values{})
	if r.status != http.StatusForbidden {
		t.Errorf("login with every field in the query string: %d, want 403", r.status)
	}
}

// A multipart body that does not parse is a bad request, not "too large".
func TestMalformedMultipartIsABadRequest(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	csrf := c.login(aliceEmail, password)
	body := "--xyz\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + csrf + "\r\n--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nx@example.org\r\n"
	req, _ := http.NewRequest("POST", e.srv.URL+"/staff/subscribers/import", strings.NewReader(body))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=xyz")
	if r := c.do(req); r.status != http.StatusBadRequest {
		t.Errorf("broken multipart body: %d, want 400", r.status)
	}
	var ok bytes.Buffer
	mw := multipart.NewWriter(&ok)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", "a.csv")
	fw.Write([]byte("email\nfine@example.org\n"))
	mw.Close()
	req, _ = http.NewRequest("POST", e.srv.URL+"/staff/subscribers/import", &ok)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r := c.do(req); r.status != http.StatusOK {
		t.Errorf("a good upload after it: %d", r.status)
	}
}

// An issue whose digest is no longer in the config cannot be approved,
// rescheduled or sent: the editor is told why and nothing changes (before,
// the draft was approved and sent with empty settings).
func TestRemovedDigestCannotBeApprovedRescheduledOrSent(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	csrf := c.login(aliceEmail, password)
	iss := e.issue()
	e.a.Cfg().Digests[0].Key = "weekly-2027" // the config now names another digest
	want := tr("vi", "err.no_digest", "weekly")
	for _, action := range []struct {
		path string
		form url.Values
	}{
		{"approve", nil},
		{"reschedule", url.Values{"at": {time.Now().Add(48 * time.Hour).Format("2006-01-02T15:04")}}},
		{"send", nil},
	} {
		r := c.edit(csrf, iss.Version, fmt.Sprintf("/staff/issues/%d/%s", iss.ID, action.path), action.form)
		if r.status != http.StatusConflict || !strings.Contains(r.body, want) {
			t.Errorf("%s: %d %q, want 409 saying the digest is gone", action.path, r.status, errorIn(r.body))
		}
	}
	e.h.Wait()
	after, err := e.a.Digests.Issue(context.Background(), iss.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != digest.StatusDraft || !after.ScheduledAt.IsZero() {
		t.Errorf("issue after the refused actions: %s, scheduled %v", after.Status, after.ScheduledAt)
	}
	if n := len(e.smtp.Messages()); n != 0 {
		t.Errorf("%d mails sent", n)
	}
}
