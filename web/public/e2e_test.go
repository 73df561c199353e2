package public_test

// The whole life of a reader, end to end: subscribe over HTTP →
// the confirmation mail reaches an in-process SMTP server → confirm →
// receive the next issue → one-click unsubscribe with the URL from that
// mail's List-Unsubscribe header → the following issue is not sent to them
// (while a control reader still gets it).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/internal/smtptest"
	"github.com/haiphong/hpdigest/subscribers"
	"github.com/haiphong/hpdigest/templates"
	"github.com/haiphong/hpdigest/web/public"
)

// feed serves an RSS feed whose items grow with the phase: phase 1 has the
// first issue's items, phase 2 adds the second issue's.
func feed(t *testing.T, phase *atomic.Int32) *httptest.Server {
	items := [][2]string{
		{"Kiều bào Hải Phòng tại Nhật Bản hướng về quê hương", "Cộng đồng người Việt Nam ở nước ngoài, kiều bào Hải Phòng tại Nhật Bản quyên góp cho quê hương."},
		{"Hải Phòng thu hút vốn đầu tư nước ngoài FDI kỷ lục", "Dự án FDI mới của nhà đầu tư Hàn Quốc tại khu công nghiệp Hải Phòng."},
		{"Hải Phòng và Quảng Tây (Trung Quốc) tăng cường hợp tác", "Hợp tác với Trung Quốc: đoàn công tác tỉnh Quảng Tây thăm Hải Phòng."},
		{"Kiều bào trẻ Hải Phòng về nước khởi nghiệp", "Người Việt Nam ở nước ngoài, kiều bào trẻ về Hải Phòng khởi nghiệp."},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 2
		if phase.Load() >= 2 {
			n = 4
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Cổng Hải Phòng</title><link>https://haiphong.example/</link>`)
		for i := 0; i < n; i++ {
			pub := time.Now().Add(-time.Duration(10-i) * time.Hour).Format(time.RFC1123Z)
			fmt.Fprintf(w, `<item><title>%s</title><link>https://haiphong.example/tin/%d</link><guid>hp-%d</guid><pubDate>%s</pubDate><description>%s</description></item>`, items[i][0], i, i, pub, items[i][1])
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

var linkRe = regexp.MustCompile(`https?://[^\s<>"]+`)

// textOf returns the decoded text/plain part of a message.
func textOf(t *testing.T, m smtptest.Message) (*mail.Message, string) {
	t.Helper()
	msg, err := m.Parsed()
	if err != nil {
		t.Fatal(err)
	}
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(msg.Body)
		return msg, string(b)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, _ := io.ReadAll(p)
			return msg, string(b)
		}
	}
}

func TestReaderLifecycleEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var phase atomic.Int32
	phase.Store(1)
	feedSrv := feed(t, &phase)
	smtp := smtptest.Start(t)

	// The web server must exist before the config, whose base_url is its address.
	var site http.Handler
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { site.ServeHTTP(w, r) }))
	t.Cleanup(web.Close)

	cfgText := fmt.Sprintf(`
database = %q
[http]
base_url = %q
[sender]
name = "Bản tin Hải Phòng"
address = "digest@haiphong.example.org"
postal_address = "18 Hoàng Diệu, Hải Phòng"
[smtp]
host = %q
port = %d
tls = "none"
timeout = "10s"
[[feeds]]
name = "Cổng Hải Phòng"
url = %q
language = "vi"
allow_private = true # a test server on loopback
[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"
`, filepath.Join(dir, "hp.db"), web.URL, smtp.Host, smtp.Port, feedSrv.URL)
	cfgPath := filepath.Join(dir, "config.toml")
	os.WriteFile(cfgPath, []byte(cfgText), 0o644)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, app.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	h, err := public.New(public.Deps{
		Store: a.Subscribers, Tokens: a.Tokens, Mailer: a.Engine, Templates: templates.Embedded(),
		BaseURL: cfg.HTTP.BaseURL, Themes: public.ThemesFrom(cfg.Themes),
		From: public.Sender{Name: cfg.Sender.Name, Address: cfg.Sender.Address},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	site = mux

	// A control reader who stays subscribed throughout.
	if _, err := a.Subscribers.Add(ctx, subscribers.Subscriber{Email: "control@example.jp", Language: "vi"}); err != nil {
		t.Fatal(err)
	}

	// 1. Subscribe over HTTP.
	reader := "Mai.Nguyen@Example.DE"
	resp, err := http.PostForm(web.URL+"/subscribe", url.Values{"email": {reader}, "name": {"Mai"}, "language": {"en"}, "lang": {"en"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "check your inbox") {
		t.Fatalf("subscribe: %d\n%s", resp.StatusCode, body)
	}
	addr := "Mai.Nguyen@example.de"

	// 2. The confirmation mail arrives; its link confirms on POST.
	got := smtp.For(addr)
	if len(got) != 1 {
		t.Fatalf("%d confirmation mails for %s", len(got), addr)
	}
	_, text := textOf(t, got[0])
	var confirm string
	for _, l := range linkRe.FindAllString(text, -1) {
		if strings.HasPrefix(l, web.URL+"/confirm/") {
			confirm = l
		}
	}
	if confirm == "" {
		t.Fatalf("no confirm link in:\n%s", text)
	}
	if r, _ := http.Get(confirm); r.StatusCode != 200 {
		t.Fatalf("GET confirm: %d", r.StatusCode)
	}
	if s, _ := a.Subscribers.ByEmail(ctx, addr); s.Status != subscribers.Pending {
		t.Fatalf("GET confirmed: %s", s.Status)
	}
	if r, err := http.PostForm(confirm, url.Values{"confirm": {"1"}}); err != nil || r.StatusCode != 200 {
		t.Fatalf("POST confirm: %v %v", r, err)
	}
	if s, _ := a.Subscribers.ByEmail(ctx, addr); s.Status != subscribers.Confirmed {
		t.Fatalf("after confirm: %s", s.Status)
	}

	// 3. The next issue reaches them.
	d := cfg.Digests[0]
	res, err := a.SendNow(ctx, d, true)
	if err != nil {
		t.Fatalf("first send: %v", err)
	}
	if !res.Summary.Done {
		t.Fatalf("first send not done: %+v", res.Summary)
	}
	got = smtp.For(addr)
	if len(got) != 2 {
		t.Fatalf("reader has %d mails after the first issue, want 2 (confirmation + issue)", len(got))
	}
	if len(smtp.For("control@example.jp")) != 1 {
		t.Fatal("control reader did not get the first issue")
	}
	issue, _ := textOf(t, got[1])

	// 4. One-click unsubscribe with the URL from List-Unsubscribe.
	lu := issue.Header.Get("List-Unsubscribe")
	var unsub string
	for _, part := range strings.Split(lu, ",") {
		part = strings.Trim(strings.TrimSpace(part), "<>")
		if strings.HasPrefix(part, "http") {
			unsub = part
		}
	}
	if !strings.HasPrefix(unsub, web.URL+"/unsubscribe/") || issue.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe %q / -Post %q", lu, issue.Header.Get("List-Unsubscribe-Post"))
	}
	r, err := http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Fatalf("one-click: %d", r.StatusCode)
	}
	if s, _ := a.Subscribers.ByEmail(ctx, addr); s.Status != subscribers.Unsubscribed {
		t.Fatalf("after one-click: %s", s.Status)
	}

	// 5. The following issue goes to the control reader only.
	phase.Store(2)
	if _, err := a.SendNow(ctx, d, true); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if n := len(smtp.For("control@example.jp")); n != 2 {
		t.Fatalf("control reader has %d issues, want 2 (the second issue must really have gone out)", n)
	}
	if n := len(smtp.For(addr)); n != 2 {
		t.Fatalf("unsubscribed reader got %d mails, want still 2", n)
	}
}
