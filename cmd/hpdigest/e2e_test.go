package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest"
	feedstore "github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/internal/smtptest"
	"github.com/haiphong/hpdigest/store"
)

// feedServer serves the project's sample feeds plus every kind of broken
// feed: a 500, one slower than the fetch timeout, malformed XML and a body
// over the size limit.
func feedServer(t *testing.T) *httptest.Server {
	t.Helper()
	now := time.Now()
	ago := func(h int) time.Time { return now.Add(-time.Duration(h) * time.Hour) }
	mux := http.NewServeMux()
	mux.HandleFunc("/vi.rss", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprintf(w, readFixture(t, "vi.rss"), ago(3).Format(time.RFC1123Z), ago(10).Format(time.RFC1123Z), ago(20).Format(time.RFC1123Z), ago(30).Format(time.RFC1123Z), ago(24*60).Format(time.RFC1123Z))
	})
	mux.HandleFunc("/en.atom", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/atom+xml")
		fmt.Fprintf(w, readFixture(t, "en.atom"), ago(1).Format(time.RFC3339), ago(5).Format(time.RFC3339), ago(15).Format(time.RFC3339), ago(40).Format(time.RFC3339))
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(20 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/malformed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>unclosed`)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>huge</title>`)
		pad := strings.Repeat("<item><title>padding</title><description>"+strings.Repeat("x", 1000)+"</description></item>", 2000)
		io.WriteString(w, pad+`</channel></rss>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "e2e", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeConfig(t *testing.T, dir, feedBase string, smtp *smtptest.Server) string {
	t.Helper()
	cfg := fmt.Sprintf(`
database = %q
outbox_dir = %q

[http]
base_url = "https://digest.example.org"

[sender]
name = "Bản tin Hải Phòng"
address = "digest@haiphong.example.org"
postal_address = "18 Hoàng Diệu, Hải Phòng"

[smtp]
host = %q
port = %d
tls = "none"
timeout = "10s"

[fetch]
timeout = "1s"
max_body_bytes = 65536

[[feeds]]
name = "Cổng Hải Phòng"
url = "%[5]s/vi.rss"
language = "vi"
allow_private = true # a test server on loopback

[[feeds]]
name = "WVR"
url = "%[5]s/en.atom"
language = "en"
allow_private = true # a test server on loopback

[[feeds]]
name = "Broken500"
url = "%[5]s/500"
language = "vi"
allow_private = true # a test server on loopback

[[feeds]]
name = "Slow"
url = "%[5]s/slow"
language = "vi"
allow_private = true # a test server on loopback

[[feeds]]
name = "Malformed"
url = "%[5]s/malformed"
language = "en"
allow_private = true # a test server on loopback

[[feeds]]
name = "Huge"
url = "%[5]s/huge"
language = "en"
allow_private = true # a test server on loopback

[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"
`, filepath.Join(dir, "hp.db"), filepath.Join(dir, "outbox"), smtp.Host, smtp.Port, feedBase)
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cli runs the command in-process and returns its exit code and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// parts splits a received message into its text and HTML parts, checking
// the multipart/alternative order (text first, HTML last).
func parts(t *testing.T, msg *mail.Message) (text, html string) {
	t.Helper()
	if mt, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", msg.Header.Get("Content-Type"))
	}
	ps, err := smtptest.Parts(msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Type != "text/plain" || ps[1].Type != "text/html" {
		t.Fatalf("parts = %+v, want text/plain then text/html", ps)
	}
	return ps[0].Body, ps[1].Body
}

func TestSendNowEndToEnd(t *testing.T) {
	dir := t.TempDir()
	feeds := feedServer(t)
	smtp := smtptest.Start(t)
	cfgPath := writeConfig(t, dir, feeds.URL, smtp)

	// Subscribers: one added by flag, the others imported from CSV with a
	// broken line that must be reported without losing the valid ones.
	if code, _, errOut := cli(t, "-config", cfgPath, "-add-subscriber", "lan@example.jp", "-name", "Nguyễn Thị Lan", "-lang", "vi"); code != 0 {
		t.Fatalf("add-subscriber: exit %d: %s", code, errOut)
	}
	csvPath := filepath.Join(dir, "subs.csv")
	os.WriteFile(csvPath, []byte("email,name,language,themes\nminh@example.de,Minh Tran,en,fdi\nnot-an-address,Bad,vi,\nhoa@example.com.au,Phạm Hoa,vi,diaspora;china\n"), 0o644)
	code, out, errOut := cli(t, "-config", cfgPath, "-import", csvPath)
	if code != 0 || !strings.Contains(out, "line 3: rejected") || !strings.Contains(out, "1 line rejected") {
		t.Fatalf("import: exit %d, output %q %q: want the bad line 3 reported, a summary and exit 0 (the other lines were imported)", code, out, errOut)
	}
	if !strings.Contains(out, "2 added") {
		t.Fatalf("import: %q: want the 2 valid rows added", out)
	}

	code, out, errOut = cli(t, "-config", cfgPath, "-send-now")
	if code != 0 {
		t.Fatalf("send-now: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	for _, name := range []string{"Broken500", "Slow", "Malformed", "Huge"} {
		if !strings.Contains(errOut, name) {
			t.Errorf("the log does not name the failing feed %s:\n%s", name, errOut)
		}
	}
	if !strings.Contains(out, "3 sent") {
		t.Errorf("summary %q: want 3 sent", out)
	}

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// The subject carries the date the send started, as the engine recorded
	// it in the issue (in the digest's zone): a run across midnight must not
	// compare it with a later clock reading.
	issueDate := func() time.Time {
		db, err := store.Open(filepath.Join(dir, "hp.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		iss, err := digest.NewStore(db, feedstore.NewStore(db)).IssueByNumber(context.Background(), cfg.Digests[0].Key, 1)
		if err != nil {
			t.Fatal(err)
		}
		if iss.SendingAt.IsZero() {
			t.Fatal("the sent issue has no sending time")
		}
		return iss.SendingAt.In(cfg.Digests[0].Location())
	}()
	themeName := func(key, lang string) string {
		for _, th := range cfg.Themes {
			if th.Key == key {
				return th.Name(lang)
			}
		}
		t.Fatalf("no theme %s", key)
		return ""
	}

	type want struct {
		lang            string
		has, hasNot     []string // item titles
		sections, other []string // theme keys shown / not shown
	}
	cases := map[string]want{
		"lan@example.jp": {lang: "vi",
			has:      []string{"Kiều bào Hải Phòng tại Đức", "Khu công nghiệp VSIP", "Quảng Tây", "Overseas Vietnamese business forum", "Chinese investors"},
			hasNot:   []string{"đầu tư công", "Tin cũ"},
			sections: []string{"diaspora", "fdi", "china"}},
		"minh@example.de": {lang: "en",
			has:      []string{"Khu công nghiệp VSIP", "industrial park"},
			hasNot:   []string{"Kiều bào Hải Phòng tại Đức", "Overseas Vietnamese business forum", "đầu tư công"},
			sections: []string{"fdi"}, other: []string{"diaspora"}},
		"hoa@example.com.au": {lang: "vi",
			has:      []string{"Kiều bào Hải Phòng tại Đức", "Quảng Tây", "Overseas Vietnamese business forum"},
			hasNot:   []string{"Khu công nghiệp VSIP", "đầu tư công"},
			sections: []string{"diaspora", "china"}, other: []string{"fdi"}},
	}
	for rcpt, w := range cases {
		got := smtp.For(rcpt)
		if len(got) != 1 {
			t.Errorf("%s received %d messages, want 1", rcpt, len(got))
			continue
		}
		msg, err := got[0].Parsed()
		if err != nil {
			t.Fatal(err)
		}
		h := msg.Header
		if id := h.Get("Message-Id"); !strings.HasSuffix(id, "@haiphong.example.org>") {
			t.Errorf("%s: Message-ID %q not on the sender's domain", rcpt, id)
		}
		if _, err := h.Date(); err != nil {
			t.Errorf("%s: Date: %v", rcpt, err)
		}
		if !strings.Contains(h.Get("List-Id"), "weekly.haiphong.example.org") {
			t.Errorf("%s: List-Id %q", rcpt, h.Get("List-Id"))
		}
		lu := h.Get("List-Unsubscribe")
		if !strings.Contains(lu, "<https://digest.example.org/unsubscribe/") || !strings.Contains(lu, "<mailto:digest@haiphong.example.org?subject=") {
			t.Errorf("%s: List-Unsubscribe %q: want an https URL and a mailto", rcpt, lu)
		}
		if got := h.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
			t.Errorf("%s: List-Unsubscribe-Post %q", rcpt, got)
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		if (w.lang == "en" && !strings.Contains(subject, issueDate.Format("2 January 2006"))) ||
			(w.lang == "vi" && !strings.Contains(subject, issueDate.Format("02/01/2006"))) {
			t.Errorf("%s: subject %q does not carry the issue date", rcpt, subject)
		}
		text, html := parts(t, msg)
		if !strings.Contains(html, `lang="`+w.lang+`"`) {
			t.Errorf("%s: HTML is not in %s", rcpt, w.lang)
		}
		for _, s := range w.has {
			if !strings.Contains(html, s) || !strings.Contains(text, s) {
				t.Errorf("%s: item %q missing from the HTML or text part", rcpt, s)
			}
		}
		for _, s := range w.hasNot {
			if strings.Contains(html, s) || strings.Contains(text, s) {
				t.Errorf("%s: item %q should not be there", rcpt, s)
			}
		}
		// Section headings: as named in the HTML; the text part may shout them.
		upperText := strings.ToUpper(text)
		for _, k := range w.sections {
			name := themeName(k, w.lang)
			if !strings.Contains(html, name) || !strings.Contains(upperText, strings.ToUpper(name)) {
				t.Errorf("%s: section %q (%s) missing from the HTML or text part", rcpt, name, k)
			}
		}
		for _, k := range w.other {
			name := themeName(k, w.lang)
			if strings.Contains(html, name) || strings.Contains(upperText, strings.ToUpper(name)) {
				t.Errorf("%s: section %q (%s) was not chosen", rcpt, name, k)
			}
		}
	}
	total := len(smtp.Messages())

	// Feed health shows which feeds fail and why.
	code, out, errOut = cli(t, "-config", cfgPath, "-feeds")
	if code != 0 {
		t.Fatalf("-feeds: exit %d: %s", code, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Broken500") && !strings.Contains(line, "500") {
			t.Errorf("-feeds does not show the 500 of Broken500: %q", line)
		}
	}
	if !strings.Contains(out, "Broken500") || !strings.Contains(out, "WVR") {
		t.Errorf("-feeds output:\n%s", out)
	}

	// A second run finds nothing new and sends nothing.
	code, out, errOut = cli(t, "-config", cfgPath, "-send-now")
	if code != 0 {
		t.Fatalf("second send-now: exit %d: %s", code, errOut)
	}
	if n := len(smtp.Messages()); n != total {
		t.Fatalf("second run sent %d more messages", n-total)
	}
	if !strings.Contains(out, "nothing to send") {
		t.Errorf("second run said %q, want it to say there is nothing to send", out)
	}

	// A reader asks to be forgotten: no trace of the address stays, the
	// outbox included.
	if code, _, errOut := cli(t, "-config", cfgPath, "-forget", "lan@example.jp"); code != 0 {
		t.Fatalf("-forget: %s", errOut)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "hp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		tables.Scan(&n)
		names = append(names, n)
	}
	tables.Close()
	for _, table := range names {
		if found := rowsContaining(t, db, table, "lan@example.jp"); found > 0 {
			t.Errorf("table %s still holds the forgotten address in %d rows", table, found)
		}
	}
}

func TestSendNowExitsNonZeroWhenARecipientFails(t *testing.T) {
	dir := t.TempDir()
	feeds := feedServer(t)
	smtp := smtptest.Start(t)
	smtp.Reject = func(rcpt string) *gosmtp.SMTPError {
		if strings.HasPrefix(rcpt, "gone@") {
			return &gosmtp.SMTPError{Code: 550, EnhancedCode: [3]int{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}
	cfgPath := writeConfig(t, dir, feeds.URL, smtp)
	for _, addr := range []string{"ok@example.org", "gone@example.org"} {
		if code, _, errOut := cli(t, "-config", cfgPath, "-add-subscriber", addr); code != 0 {
			t.Fatal(errOut)
		}
	}
	code, out, _ := cli(t, "-config", cfgPath, "-send-now")
	if code == 0 {
		t.Fatalf("exit 0 although a recipient was rejected: %s", out)
	}
	if !strings.Contains(out, "1 sent") || !strings.Contains(out, "1 failed") {
		t.Errorf("summary %q: want 1 sent, 1 failed", out)
	}
	if len(smtp.For("ok@example.org")) != 1 {
		t.Errorf("the good recipient did not get the issue")
	}
}

func TestDryRunWritesEMLFiles(t *testing.T) {
	dir := t.TempDir()
	feeds := feedServer(t)
	smtp := smtptest.Start(t)
	cfgPath := writeConfig(t, dir, feeds.URL, smtp)
	cli(t, "-config", cfgPath, "-add-subscriber", "lan@example.jp")
	code, out, errOut := cli(t, "-config", cfgPath, "-send-now", "-dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if n := len(smtp.Messages()); n != 0 {
		t.Fatalf("dry run sent %d messages over SMTP", n)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml"))
	if len(files) != 1 {
		t.Fatalf("outbox has %v, want one .eml", files)
	}
	data, _ := os.ReadFile(files[0])
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Header.Get("To"), "lan@example.jp") {
		t.Errorf("To = %q", msg.Header.Get("To"))
	}
}

func TestDemo(t *testing.T) {
	t.Chdir(t.TempDir())
	var out bytes.Buffer
	if code := run(context.Background(), []string{"-demo"}, &out, io.Discard); code != 0 {
		t.Fatalf("demo exit %d: %s", code, out.String())
	}
	files, _ := filepath.Glob(filepath.Join("outbox", "*.eml"))
	if len(files) != len(demoSubscribers) {
		t.Errorf("demo wrote %d .eml files, want %d (one per sample subscriber)\n%s", len(files), len(demoSubscribers), out.String())
	}
	for _, want := range []string{"outbox", demoDB, "English edition: 6 of 8 stories in English (2 with a language badge)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output does not say %q:\n%s", want, out.String())
		}
	}
	// David reads English: the stories published in both languages in
	// English, linked to the Vietnamese version; the Vietnamese-only ones
	// with a badge. Lan reads Vietnamese: the same stories in Vietnamese.
	mailOf := func(to string) (subject, text, html string) {
		t.Helper()
		f, err := os.Open(filepath.Join("outbox", "1-"+to+".eml"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		msg, err := mail.ReadMessage(f)
		if err != nil {
			t.Fatal(err)
		}
		subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		text, html = parts(t, msg)
		return subject, text, html
	}
	subject, text, html := mailOf("4-david.le@example.us")
	for _, want := range []string{
		"Hai Phong expatriates in Japan return home for Homeland Spring 2026",
		"DEEP C industrial park welcomes 200 million USD FDI project",
		"Hai Phong and China's Guangxi sign 2026 cooperation memorandum",
		"Bản tiếng Việt: http",
		"[Tiếng Việt] Kiều hối về Hải Phòng tăng mạnh trong 10 tháng",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("David's mail lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(html, `title="This story is only available in Vietnamese">Tiếng Việt</span>`) {
		t.Error("David's HTML mail has no language badge on the Vietnamese-only stories")
	}
	for _, vi := range []string{"Khu công nghiệp DEEP C đón thêm", "Kiều bào Hải Phòng tại Nhật Bản về quê"} {
		if strings.Contains(text, vi) {
			t.Errorf("David gets the Vietnamese title %q of a story published in English", vi)
		}
	}
	if !strings.HasSuffix(subject, ": Hai Phong expatriates in Japan return home for Homeland Spring 2026") {
		t.Errorf("David's subject %q: want the first story in English", subject)
	}
	_, text, _ = mailOf("1-lan.nguyen@example.jp")
	for _, want := range []string{"Khu công nghiệp DEEP C đón thêm dự án vốn FDI 200 triệu USD", "Also in English: http", "[In English] Remittances from overseas Vietnamese"} {
		if !strings.Contains(text, want) {
			t.Errorf("Lan's mail lacks %q", want)
		}
	}
	if strings.Contains(text, "DEEP C industrial park welcomes") {
		t.Error("Lan gets the English title of a story published in Vietnamese")
	}
	// The demo can be run again: it starts afresh.
	if code := run(context.Background(), []string{"-demo"}, &out, io.Discard); code != 0 {
		t.Fatalf("second demo exit %d: %s", code, out.String())
	}
}

// A relay that refuses a message by mistake (5xx after DATA, not a bounce):
// -resend-failed sends the issue again to that recipient only.
func TestResendFailedReachesOnlyTheFailed(t *testing.T) {
	dir := t.TempDir()
	feeds := feedServer(t)
	smtp := smtptest.Start(t)
	var refuse atomic.Bool
	refuse.Store(true)
	smtp.RejectData = func(rcpts []string) *gosmtp.SMTPError {
		if refuse.Load() && len(rcpts) == 1 && strings.HasPrefix(rcpts[0], "unlucky@") {
			return &gosmtp.SMTPError{Code: 554, EnhancedCode: [3]int{5, 6, 0}, Message: "content rejected"}
		}
		return nil
	}
	cfgPath := writeConfig(t, dir, feeds.URL, smtp)
	for _, addr := range []string{"ok@example.org", "unlucky@example.org"} {
		if code, _, errOut := cli(t, "-config", cfgPath, "-add-subscriber", addr); code != 0 {
			t.Fatal(errOut)
		}
	}
	if code, out, _ := cli(t, "-config", cfgPath, "-send-now"); code == 0 || !strings.Contains(out, "1 failed") {
		t.Fatalf("first send: exit %d, %s", code, out)
	}
	refuse.Store(false)
	code, out, errOut := cli(t, "-config", cfgPath, "-resend-failed", "1")
	if code != 0 {
		t.Fatalf("resend: exit %d: %s %s", code, out, errOut)
	}
	if n := len(smtp.For("unlucky@example.org")); n != 1 {
		t.Errorf("the failed recipient has %d copies after the resend, want 1", n)
	}
	if n := len(smtp.For("ok@example.org")); n != 1 {
		t.Errorf("the recipient who got it has %d copies, want still 1", n)
	}
	code, out, _ = cli(t, "-config", cfgPath, "-delivery-status", "1")
	if code != 0 || !strings.Contains(out, "2 sent, 0 failed") || !strings.Contains(out, "(sent)") {
		t.Errorf("-delivery-status: exit %d: %s", code, out)
	}
}

// Sending needs a relay; maintenance commands do not.
func TestSendWithoutRelayFailsAtStartup(t *testing.T) {
	dir := t.TempDir()
	smtp := smtptest.Start(t)
	cfgPath := writeConfig(t, dir, feedServer(t).URL, smtp)
	data, _ := os.ReadFile(cfgPath)
	noRelay := strings.Replace(string(data), fmt.Sprintf("host = %q", smtp.Host), "", 1)
	os.WriteFile(cfgPath, []byte(noRelay), 0o644)
	if code, _, errOut := cli(t, "-config", cfgPath, "-add-subscriber", "lan@example.jp"); code != 0 {
		t.Fatalf("a maintenance command needed SMTP: %s", errOut)
	}
	code, _, errOut := cli(t, "-config", cfgPath, "-send-now")
	if code != 2 || !strings.Contains(errOut, "smtp.host") || !strings.Contains(errOut, "-dry-run") {
		t.Fatalf("exit %d, %q: want a start-up error naming smtp.host and suggesting -dry-run", code, errOut)
	}
	if code, _, errOut := cli(t, "-config", cfgPath, "-send-now", "-dry-run"); code != 0 {
		t.Fatalf("dry run without a relay: exit %d: %s", code, errOut)
	}
}

// rowsContaining counts the rows of table with a column that contains s.
func rowsContaining(t *testing.T, db *sql.DB, table, s string) int {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM "` + table + `"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if strings.Contains(strings.ToLower(fmt.Sprint(v)), s) || strings.Contains(fmt.Sprintf("%s", v), s) {
				n++
				break
			}
		}
	}
	return n
}

// -preview writes the draft as a reader with the chosen language and themes
// would get it, without sending anything.
func TestPreviewWritesTheDraft(t *testing.T) {
	dir := t.TempDir()
	smtp := smtptest.Start(t)
	cfgPath := writeConfig(t, dir, feedServer(t).URL, smtp)
	cli(t, "-config", cfgPath, "-fetch-now")
	out := filepath.Join(dir, "preview.html")
	code, stdout, errOut := cli(t, "-config", cfgPath, "-preview", out, "-lang", "en", "-preview-themes", "fdi")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	html, _ := os.ReadFile(out)
	text, err := os.ReadFile(out + ".txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{string(html), string(text)} {
		if !strings.Contains(part, "Khu công nghiệp VSIP") || strings.Contains(part, "Kiều bào Hải Phòng tại Đức") {
			t.Errorf("preview for an fdi reader holds the wrong items:\n%.400s", part)
		}
	}
	if !strings.Contains(string(html), `lang="en"`) || !strings.Contains(stdout, "draft") {
		t.Errorf("preview not in English or status not reported: %s", stdout)
	}
	if n := len(smtp.Messages()); n != 0 {
		t.Errorf("a preview sent %d messages", n)
	}
}

// Each command needs only what it uses: with the shipped example config and
// no secret in the environment, the commands that send nothing run; those
// that send, or check a reader's link, name the missing secret with the
// file and line.
func TestCommandsNeedOnlyWhatTheyUse(t *testing.T) {
	for _, env := range []string{"HPDIGEST_SMTP_PASSWORD", "HPDIGEST_TOKEN_KEY"} {
		t.Setenv(env, "")
		os.Unsetenv(env)
	}
	labelled, err := filepath.Abs(filepath.Join("..", "..", "testdata", "themes", "dev.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join("..", "..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // the example's database and outbox are relative paths
	if err := os.WriteFile("config.toml", example, 0o644); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(t.TempDir(), "readers.csv")
	os.WriteFile(csv, []byte("email,name,language,themes\nminh@example.de,Minh,en,fdi\n"), 0o644)
	for _, args := range [][]string{
		{"-eval-themes", labelled},
		{"-add-subscriber", "lan@example.jp", "-name", "Lan"},
		{"-import", csv},
		{"-subscribers"},
		{"-export", filepath.Join(t.TempDir(), "out.csv")},
		{"-export-subscriber", "lan@example.jp"},
		{"-feeds"},
		{"-reclassify"},
		{"-preview", filepath.Join(t.TempDir(), "preview.html")},
		{"-forget", "minh@example.de"},
	} {
		if code, out, errOut := cli(t, append([]string{"-config", "config.toml"}, args...)...); code != 0 {
			t.Errorf("%s without secrets: exit %d\n%s%s", args[0], code, out, errOut)
		}
	}
	lineOf := func(text string) int {
		for i, l := range strings.Split(string(example), "\n") {
			if strings.HasPrefix(l, text) {
				return i + 1
			}
		}
		t.Fatalf("config.example.toml has no line %q", text)
		return 0
	}
	password := fmt.Sprintf("line %d: smtp.password_env", lineOf(`password_env = "HPDIGEST_SMTP_PASSWORD"`))
	key := fmt.Sprintf("line %d: subscribers.keys[0].secret_env", lineOf(`secret_env = "HPDIGEST_TOKEN_KEY"`))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // should the daemon start after all, it stops at once
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"-send-now"}, "config config.toml: " + password + ": environment variable HPDIGEST_SMTP_PASSWORD is empty or unset", 2},
		{[]string{"-resend-failed", "1"}, password, 2},
		{nil, password, 2}, // the daemon
		{[]string{"-send-now", "-dry-run"}, "config config.toml: " + key + ": environment variable HPDIGEST_TOKEN_KEY is not set", 2},
		// An MTA pipe: 75 makes the MTA keep the mail and retry once the
		// operator has set the key, instead of bouncing it.
		{[]string{"-unsubscribe-mail"}, key, 75},
	} {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"-config", "config.toml"}, c.args...), &out, &errOut)
		if code != c.code || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v without secrets: exit %d, %q; want exit %d and %q", c.args, code, errOut.String(), c.code, c.want)
		}
	}
}
