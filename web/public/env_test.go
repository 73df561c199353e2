package public

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/store"
	"github.com/haiphong/hpdigest/subscribers"
	"github.com/haiphong/hpdigest/templates"
)

// ---- an in-process SMTP server ----

type received struct {
	From string
	To   []string
	Data []byte
}

type smtpBackend struct {
	mu     sync.Mutex
	msgs   []received
	reject map[string]bool // RCPT addresses answered with 550
	got    chan struct{}
}

func (b *smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: b}, nil }

type smtpSession struct {
	b    *smtpBackend
	from string
	to   []string
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.b.reject[strings.ToLower(to)] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.to = append(s.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, received{From: s.from, To: s.to, Data: data})
	s.b.mu.Unlock()
	select {
	case s.b.got <- struct{}{}:
	default:
	}
	return nil
}

func (b *smtpBackend) all() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

// startSMTP runs a go-smtp server on loopback and returns its backend and port.
func startSMTP(t *testing.T) (*smtpBackend, int) {
	t.Helper()
	be := &smtpBackend{reject: map[string]bool{}, got: make(chan struct{}, 100)}
	srv := smtp.NewServer(be)
	srv.Domain = "mx.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return be, ln.Addr().(*net.TCPAddr).Port
}

// ---- mail parsing ----

// textPart returns the decoded text/plain part of a message (or its whole
// body if it is not multipart) and the header.
func textPart(t *testing.T, raw []byte) (mail.Header, string) {
	t.Helper()
	return mailPart(t, raw, "text/plain")
}

// mailPart returns the decoded part of a message of the media type (or its
// whole body if it is of that type) and the header.
func mailPart(t *testing.T, raw []byte, mediaType string) (mail.Header, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse mail: %v\n%s", err, raw)
	}
	var find func(ct string, h func(string) string, body io.Reader) string
	find = func(ct string, h func(string) string, body io.Reader) string {
		mt, params, _ := mime.ParseMediaType(ct)
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					return ""
				}
				if s := find(p.Header.Get("Content-Type"), p.Header.Get, p); s != "" {
					return s
				}
			}
		}
		if mt != mediaType {
			return ""
		}
		var r io.Reader = body
		switch strings.ToLower(h("Content-Transfer-Encoding")) {
		case "quoted-printable":
			r = quotedprintable.NewReader(body)
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, _ := io.ReadAll(r)
		return string(b)
	}
	return m.Header, find(m.Header.Get("Content-Type"), m.Header.Get, m.Body)
}

var urlRe = regexp.MustCompile(`https?://[^\s<>"]+`)

// ---- test environment ----

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *testClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	t      *testing.T
	store  *subscribers.Store
	tokens *subscribers.Tokens
	clock  *testClock
	h      *Handler
	srv    *httptest.Server
	smtp   *smtpBackend
	client *http.Client
}

var testKey = subscribers.Key{ID: "k1", Secret: strings.Repeat("s3cr3t-", 8)}

func newEnv(t *testing.T, tweak func(*Deps)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "hp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Migrate(ctx, db, subscribers.Migrations(), deliver.Migrations()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, clock: &testClock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}}
	e.store = subscribers.NewStore(db)
	e.store.SetClock(e.clock.now)
	e.store.SetThemes([]string{"diaspora", "fdi", "china", "other"})
	if e.tokens, err = subscribers.NewTokens([]subscribers.Key{testKey}); err != nil {
		t.Fatal(err)
	}
	e.tokens.SetClock(e.clock.now)
	be, port := startSMTP(t)
	e.smtp = be
	engine := deliver.NewSMTPEngine(db, deliver.Config{Host: "127.0.0.1", Port: port, TLS: "none", Timeout: 10 * time.Second}, nil)

	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	d := Deps{
		Store: e.store, Tokens: e.tokens, Mailer: engine, Templates: templates.Embedded(),
		BaseURL: e.srv.URL + "/news",
		Themes: []Theme{{Key: "diaspora", NameVI: "Kiều bào", NameEN: "Diaspora"}, {Key: "fdi", NameVI: "Đầu tư nước ngoài", NameEN: "Foreign investment"},
			{Key: "china", NameVI: "Hợp tác với Trung Quốc", NameEN: "China cooperation"}, {Key: "other", NameVI: "Tin khác", NameEN: "Other news"}},
		From: Sender{Name: "Bản tin Hải Phòng", Address: "digest@haiphong.test"},
		Now:  e.clock.now,
		// Tests name the client in a header so one process can be many.
		ClientKey: func(r *http.Request) string { return r.Header.Get("X-Test-Client") },
	}
	if tweak != nil {
		tweak(&d)
	}
	if e.h, err = New(d); err != nil {
		t.Fatal(err)
	}
	h = e.h
	e.client = e.newClient()
	return e
}

func (e *env) newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) url(path string) string { return e.srv.URL + "/news" + path }

type resp struct {
	Status int
	Body   string
	Header http.Header
}

func (e *env) do(req *http.Request) resp {
	e.t.Helper()
	if req.Header.Get("X-Test-Client") == "" {
		req.Header.Set("X-Test-Client", "client-1")
	}
	r, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{Status: r.StatusCode, Body: string(b), Header: r.Header}
}

func (e *env) get(path string, hdr ...string) resp {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url(path), nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(req)
}

func (e *env) post(path string, form url.Values, hdr ...string) resp {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(req)
}

// subscribeForm posts the subscribe form for email from client.
func (e *env) subscribe(email, client string, extra ...string) resp {
	e.t.Helper()
	f := url.Values{"email": {email}, "name": {"Reader"}, "language": {"en"}, "themes": {"fdi", "china"}, "lang": {"en"}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return e.post("/subscribe", f, "X-Test-Client", client)
}

// waitMails waits until n mails have arrived (the send is synchronous with
// the request, so this returns at once in practice).
func (e *env) waitMails(n int) []received {
	e.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if m := e.smtp.all(); len(m) >= n {
			return m
		}
		select {
		case <-e.smtp.got:
		case <-deadline:
			e.t.Fatalf("waited for %d mails, have %d", n, len(e.smtp.all()))
		}
	}
}

// linkIn returns the first URL in the mail's text part containing part.
func (e *env) linkIn(m received, part string) string {
	e.t.Helper()
	_, text := textPart(e.t, m.Data)
	for _, u := range urlRe.FindAllString(text, -1) {
		if strings.Contains(u, part) {
			return u
		}
	}
	e.t.Fatalf("no %s link in mail:\n%s", part, text)
	return ""
}

// pathOf turns an absolute link into the path under /news.
func (e *env) pathOf(link string) string {
	e.t.Helper()
	if !strings.HasPrefix(link, e.srv.URL+"/news/") {
		e.t.Fatalf("link %s is not under the base URL", link)
	}
	return strings.TrimPrefix(link, e.srv.URL+"/news")
}

func (e *env) sub(email string) subscribers.Subscriber {
	e.t.Helper()
	s, err := e.store.ByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatalf("%s: %v", email, err)
	}
	return s
}
