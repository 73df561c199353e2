package staff

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"testing"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/internal/smtptest"
	"github.com/haiphong/hpdigest/subscribers"
)

func parsed(t *testing.T, m smtptest.Message) *mail.Message {
	t.Helper()
	msg, err := m.Parsed()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// partsOf returns every decoded part of a multipart body, each after a
// line naming its type.
func partsOf(t *testing.T, contentType string, body io.Reader) string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("Content-Type %q: want multipart", contentType)
	}
	mr := multipart.NewReader(body, params["boundary"])
	var all strings.Builder
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		all.WriteString("\n--- " + p.Header.Get("Content-Type") + "\n")
		all.Write(b)
	}
	return all.String()
}

func decodedSubject(t *testing.T, msg *mail.Message) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPreview(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	csrf := c.login(aliceEmail, password)
	iss := e.issue()
	wantOK(t, "note", c.edit(csrf, iss.Version, issuePath(iss, "/note"), url.Values{"note_vi": {"Lời chào tuần này"}, "note_en": {"This week's hello"}}))
	iss = e.issue()
	hoiNghi := findItem(t, iss, "Hội nghị kiều bào")
	wantOK(t, "exclude", c.edit(csrf, iss.Version, itemPath(iss, hoiNghi, "include"), url.Values{"included": {"0"}}))

	page := c.get(issuePath(iss, "/preview"))
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="mail-preview"`) || !strings.Contains(page.body, "Lời chào tuần này") {
		t.Fatalf("preview page: %d", page.status)
	}
	html := c.get(issuePath(iss, "/preview/html?lang=vi"))
	if html.status != http.StatusOK || !strings.Contains(html.header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("preview html: %d, CSP %q", html.status, html.header.Get("Content-Security-Policy"))
	}
	if !strings.Contains(html.body, "Lời chào tuần này") || !strings.Contains(html.body, "Kiều bào Nhật Bản") {
		t.Error("the Vietnamese preview lacks the note or an item")
	}
	if strings.Contains(html.body, "Hội nghị kiều bào") {
		t.Error("the preview shows an excluded item")
	}
	en := c.get(issuePath(iss, "/preview/html?lang=en"))
	if !strings.Contains(en.body, "This week&#39;s hello") && !strings.Contains(en.body, "This week's hello") {
		t.Error("the English preview lacks the English note")
	}
	// A reader who chose only FDI gets only FDI.
	fdi := c.get(issuePath(iss, "/preview/html?lang=vi&theme=fdi"))
	if !strings.Contains(fdi.body, "vốn FDI") || strings.Contains(fdi.body, "Kiều bào Nhật Bản") || strings.Contains(fdi.body, "Quảng Tây") {
		t.Error("the FDI-only preview shows other themes (or lacks FDI)")
	}
	text := c.get(issuePath(iss, "/preview/text?lang=vi"))
	if !strings.HasPrefix(text.header.Get("Content-Type"), "text/plain") || !strings.Contains(text.body, "Kiều bào Nhật Bản") {
		t.Errorf("text preview: %q", text.header.Get("Content-Type"))
	}
	eml := c.get(issuePath(iss, "/preview/eml?lang=vi"))
	msg, err := mail.ReadMessage(strings.NewReader(eml.body))
	if err != nil {
		t.Fatalf("raw email does not parse: %v", err)
	}
	if msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || msg.Header.Get("Message-Id") == "" {
		t.Errorf("raw email headers: %v", msg.Header)
	}
	if body := partsOf(t, msg.Header.Get("Content-Type"), msg.Body); !strings.Contains(body, "Kiều bào Nhật Bản") {
		t.Error("raw email lacks an item")
	}
}

func TestSendTestCopy(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	csrf := c.login(aliceEmail, password)
	iss := e.issue()
	r := c.post(issuePath(iss, "/test?lang=en&theme=china"), url.Values{"csrf": {csrf}})
	wantOK(t, "test copy", r)
	if page := c.get(r.location); !strings.Contains(page.body, tr("vi", "done.test", aliceEmail)) {
		t.Errorf("no confirmation after the test copy")
	}
	got := e.smtp.For(aliceEmail)
	if len(got) != 1 {
		t.Fatalf("%d messages to %s, want 1", len(got), aliceEmail)
	}
	msg := parsed(t, got[0])
	if s := decodedSubject(t, msg); !strings.HasPrefix(s, "[TEST] ") {
		t.Errorf("subject %q: want a [TEST] prefix", s)
	}
	body := partsOf(t, msg.Header.Get("Content-Type"), bytes.NewReader(mustBody(t, got[0])))
	if !strings.Contains(body, "Quảng Tây") || strings.Contains(body, "Kiều bào Nhật Bản") {
		t.Error("the test copy does not follow the chosen themes")
	}
	if len(e.smtp.Messages()) != 1 {
		t.Error("a test copy went to someone else too")
	}
	if iss2 := e.issue(); iss2.Version != iss.Version || iss2.Status != digest.StatusDraft {
		t.Error("a test copy changed the issue")
	}
}

func mustBody(t *testing.T, m smtptest.Message) []byte {
	t.Helper()
	msg, err := m.Parsed()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(msg.Body)
	return b
}

func TestSendNowAndHistory(t *testing.T) {
	e := newEnv(t, envOpts{requireApproval: true})
	ctx := context.Background()
	e.smtp.Reject = func(rcpt string) *gosmtp.SMTPError {
		if strings.HasPrefix(rcpt, "gone@") {
			return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}
	var leaver subscribers.Subscriber
	for _, s := range []subscribers.Subscriber{
		{Email: "lan@example.jp", Name: "Lan", Language: "vi"},
		{Email: "minh@example.de", Name: "Minh", Language: "en"},
		{Email: "gone@example.com", Language: "vi"},
	} {
		sub, err := e.a.Subscribers.Add(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if s.Name == "Minh" {
			leaver = sub
		}
	}
	c := e.client()
	csrf := c.login(aliceEmail, password)
	iss := e.issue()
	wantOK(t, "approve", c.edit(csrf, iss.Version, issuePath(iss, "/approve"), nil))
	iss = e.issue()
	r := c.edit(csrf, iss.Version, issuePath(iss, "/send"), nil)
	wantOK(t, "send", r)
	if r.location != "/staff/history" {
		t.Errorf("after send: %q", r.location)
	}
	e.h.Wait()
	sent, err := e.a.Digests.Issue(ctx, iss.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Status != digest.StatusSent {
		t.Fatalf("issue status %s after the send", sent.Status)
	}
	if len(e.smtp.For("lan@example.jp")) != 1 || len(e.smtp.For("minh@example.de")) != 1 {
		t.Fatalf("subscribers did not get the issue: %d messages", len(e.smtp.Messages()))
	}
	if err := e.a.Subscribers.Unsubscribe(ctx, leaver.ID, "test"); err != nil {
		t.Fatal(err)
	}
	hist := c.get("/staff/history")
	row := between(hist.body, fmt.Sprintf(`id="hist-%d"`, iss.ID), "</tr>")
	for cls, want := range map[string]string{"sent": "2", "failed": "1", "bounced": "1", "unsub": "1"} {
		if !strings.Contains(row, fmt.Sprintf(`class="num %s">%s<`, cls, want)) {
			t.Errorf("history row: %s should be %s:\n%s", cls, want, row)
		}
	}
	if !strings.Contains(row, fmt.Sprintf(`href="/issues/%d"`, iss.ID)) {
		t.Error("history lacks the link to the web version")
	}
	if page := c.get(issuePath(iss, "")); !strings.Contains(page.body, tr("vi", "issue.delivery", 3, 2, 1, 0, 0)) {
		t.Errorf("the issue page does not show the delivery counts: %q", between(page.body, `id="delivery"`, "</p>"))
	}
	// A sent issue cannot be sent or edited again.
	if r := c.edit(csrf, sent.Version, issuePath(iss, "/send"), nil); r.status != http.StatusConflict {
		t.Errorf("send a sent issue: %d", r.status)
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

func TestSendNowWithoutApprovalDigest(t *testing.T) {
	e := newEnv(t, envOpts{}) // approval not required: a draft may go at once
	ctx := context.Background()
	e.a.Subscribers.Add(ctx, subscribers.Subscriber{Email: "reader@example.fr", Language: "en"})
	c := e.client()
	csrf := c.login(bobEmail, password)
	iss := e.issue()
	if r := c.get(issuePath(iss, "")); !strings.Contains(r.body, strings.SplitN(tr("vi", "warn.autosend"), "%s", 2)[0]) {
		t.Error("no notice that the unapproved draft goes out automatically")
	}
	// A stale version is refused: what goes out is what the editor saw.
	if r := c.edit(csrf, iss.Version-1, issuePath(iss, "/send"), nil); r.status != http.StatusConflict {
		t.Errorf("send with a stale version: %d", r.status)
	}
	wantOK(t, "send", c.edit(csrf, iss.Version, issuePath(iss, "/send"), nil))
	e.h.Wait()
	if n := len(e.smtp.For("reader@example.fr")); n != 1 {
		t.Fatalf("%d messages to the reader", n)
	}
	got, _ := e.a.Digests.Issue(ctx, iss.ID)
	if got.Status != digest.StatusSent || got.ApprovedBy != bobEmail {
		t.Errorf("status %s approved by %q", got.Status, got.ApprovedBy)
	}
}

func TestSubscribersPage(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	e.a.Subscribers.Add(ctx, subscribers.Subscriber{Email: "hoa@example.com.au", Name: "Phạm Hoa", Language: "vi", Themes: []string{"diaspora"}})
	e.a.Subscribers.Add(ctx, subscribers.Subscriber{Email: "john@example.us", Name: "John", Language: "en", Status: subscribers.Pending})
	c := e.client()
	csrf := c.login(aliceEmail, password)

	r := c.get("/staff/subscribers")
	for _, want := range []string{"hoa@example.com.au", "john@example.us", "Kiều bào", tr("vi", "sub.pending")} {
		if !strings.Contains(r.body, want) {
			t.Errorf("subscribers page lacks %q", want)
		}
	}
	r = c.get("/staff/subscribers?q=ph%E1%BA%A1m")
	if !strings.Contains(r.body, "hoa@example.com.au") || strings.Contains(r.body, "john@example.us") {
		t.Error("search by name does not narrow the list")
	}
	r = c.get("/staff/subscribers?status=pending")
	if strings.Contains(r.body, "hoa@example.com.au") || !strings.Contains(r.body, "john@example.us") {
		t.Error("status filter does not work")
	}

	// One reader's page: their data and history.
	hoa, err := e.a.Subscribers.ByEmail(ctx, "hoa@example.com.au")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.a.Subscribers.RecordBounce(ctx, hoa.ID, "550 5.1.1 mailbox full for good"); err != nil {
		t.Fatal(err)
	}
	r = c.get(fmt.Sprintf("/staff/subscribers/%d", hoa.ID))
	if r.status != http.StatusOK || !strings.Contains(r.body, "Phạm Hoa") || !strings.Contains(r.body, "mailbox full for good") {
		t.Errorf("subscriber page: %d, shows the bounce: %v", r.status, strings.Contains(r.body, "mailbox full for good"))
	}
	if r := c.get("/staff/subscribers/999999"); r.status != http.StatusNotFound {
		t.Errorf("unknown subscriber: %d", r.status)
	}
	if r := c.get("/staff/subscribers/abc"); r.status != http.StatusNotFound {
		t.Errorf("bad subscriber id: %d", r.status)
	}

	// Import: one bad line is reported with its number, the rest imported.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", "list.csv")
	io.WriteString(fw, "email,name,language,themes\nnew1@example.kr,Kim,vi,fdi\nnot-an-address,Bad,vi,\nnew2@example.ca,Chi,en,\n")
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/staff/subscribers/import", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	r = c.do(req)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "line 3") || !strings.Contains(r.body, tr("vi", "sub.import_done", 2, 0, 0)) {
		t.Errorf("import report: %d\n%s", r.status, between(r.body, `id="import-report"`, "</div>"))
	}
	for _, em := range []string{"new1@example.kr", "new2@example.ca"} {
		if _, err := e.a.Subscribers.ByEmail(ctx, em); err != nil {
			t.Errorf("%s not imported: %v", em, err)
		}
	}
	// No file: a clear error.
	var empty bytes.Buffer
	mw = multipart.NewWriter(&empty)
	mw.WriteField("csrf", csrf)
	mw.Close()
	req, _ = http.NewRequest("POST", e.srv.URL+"/staff/subscribers/import", &empty)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r := c.do(req); r.status != http.StatusBadRequest || !strings.Contains(r.body, tr("vi", "sub.import_nofile")) {
		t.Errorf("import without a file: %d", r.status)
	}

	// A file over the limit is refused with a clear message.
	var huge bytes.Buffer
	mw = multipart.NewWriter(&huge)
	mw.WriteField("csrf", csrf)
	fw, _ = mw.CreateFormFile("file", "huge.csv")
	fw.Write(bytes.Repeat([]byte("x@example.org,Name,vi,\n"), 1<<20))
	mw.Close()
	req, _ = http.NewRequest("POST", e.srv.URL+"/staff/subscribers/import", &huge)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r := c.do(req); r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, tr("vi", "err.too_big", 20)) {
		t.Errorf("oversized import: %d %q", r.status, errorIn(r.body))
	}

	// Export.
	r = c.get("/staff/subscribers/export")
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || !strings.Contains(r.body, "new1@example.kr") || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("export: %q %q", r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
	}

	// Remove (forget).
	wantOK(t, "remove", c.post("/staff/subscribers/remove", url.Values{"csrf": {csrf}, "email": {"hoa@example.com.au"}}))
	if _, err := e.a.Subscribers.ByEmail(ctx, "hoa@example.com.au"); err == nil {
		t.Error("removed subscriber still there")
	}
	if r := c.post("/staff/subscribers/remove", url.Values{"csrf": {csrf}, "email": {"nobody@example.org"}}); r.status != http.StatusNotFound {
		t.Errorf("remove unknown: %d", r.status)
	}
}

func TestFeedsPage(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.client()
	csrf := c.login(aliceEmail, password)
	r := c.get("/staff/feeds")
	if !strings.Contains(r.body, "Báo hỏng") || !strings.Contains(r.body, "HTTP 500") || !strings.Contains(r.body, tr("vi", "feeds.disabled")) {
		t.Fatalf("feeds page does not show the broken, disabled feed")
	}
	if d := c.get("/staff/"); !strings.Contains(d.body, tr("vi", "dash.feeds_failing", 1)) {
		t.Error("dashboard does not mention the failing feed")
	}
	wantOK(t, "reenable", c.post("/staff/feeds/reenable", url.Values{"csrf": {csrf}, "name": {"Báo hỏng"}}))
	hs, err := e.a.Feeds.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range hs {
		if h.Name == "Báo hỏng" {
			found = true
			if !h.Enabled || h.ErrorCount != 0 {
				t.Errorf("after re-enable: enabled %v, errors %d", h.Enabled, h.ErrorCount)
			}
		}
	}
	if !found {
		t.Errorf("the re-enabled feed is missing from the health list (%d feeds)", len(hs))
	}
	if r := c.post("/staff/feeds/reenable", url.Values{"csrf": {csrf}, "name": {"Không có"}}); r.status != http.StatusNotFound {
		t.Errorf("re-enable unknown feed: %d", r.status)
	}
}

// The subscriber table shows a page at a time, with links to the
// neighbouring pages that keep the search; a name is found without its
// marks.
func TestSubscribersPagePages(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	const n = 2*listedPerPage + 50
	for i := range n {
		if _, err := e.a.Subscribers.Add(ctx, subscribers.Subscriber{Email: fmt.Sprintf("r%03d@example.fr", i), Name: fmt.Sprintf("Nguyễn Đức %d", i), Language: "vi"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.a.Subscribers.Add(ctx, subscribers.Subscriber{Email: "john@example.us", Name: "John", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	c.login(aliceEmail, password)

	r := c.get("/staff/subscribers?q=nguyen+duc")
	if !strings.Contains(r.body, tr("vi", "sub.showing", 1, listedPerPage, n)) {
		t.Errorf("first page: lacks %q", tr("vi", "sub.showing", 1, listedPerPage, n))
	}
	if !strings.Contains(r.body, "r000@example.fr") || strings.Contains(r.body, fmt.Sprintf("r%03d@example.fr", listedPerPage)) || strings.Contains(r.body, "john@example.us") {
		t.Error("first page: not the first matches only")
	}
	if strings.Contains(r.body, `rel="prev"`) || !strings.Contains(r.body, `rel="next" href="/staff/subscribers?page=2&amp;q=nguyen&#43;duc"`) {
		t.Errorf("first page: links %q", between(r.body, `class="row pages"`, "</nav>"))
	}
	r = c.get("/staff/subscribers?page=3&q=nguyen+duc")
	if !strings.Contains(r.body, tr("vi", "sub.showing", 2*listedPerPage+1, n, n)) || !strings.Contains(r.body, fmt.Sprintf("r%03d@example.fr", n-1)) {
		t.Errorf("last page: lacks %q or the last match", tr("vi", "sub.showing", 2*listedPerPage+1, n, n))
	}
	if strings.Contains(r.body, `rel="next"`) || !strings.Contains(r.body, `rel="prev" href="/staff/subscribers?page=2&amp;q=nguyen&#43;duc"`) {
		t.Errorf("last page: links %q", between(r.body, `class="row pages"`, "</nav>"))
	}
	// A page past the end offers the way back to the last one.
	r = c.get("/staff/subscribers?page=9&q=nguyen+duc")
	if !strings.Contains(r.body, `rel="prev" href="/staff/subscribers?page=3&amp;q=nguyen&#43;duc"`) {
		t.Errorf("past the end: links %q", between(r.body, `class="row pages"`, "</nav>"))
	}
}
