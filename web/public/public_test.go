package public

import (
	"bytes"
	"context"
	"html"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/subscribers"
)

func TestSubscribePageLanguage(t *testing.T) {
	e := newEnv(t, nil)
	if r := e.get("/subscribe", "Accept-Language", "en-GB,en;q=0.9"); r.Status != 200 || !strings.Contains(r.Body, "Subscribe to the digest") || !strings.Contains(r.Body, `lang="en"`) {
		t.Fatalf("English by Accept-Language: %d\n%s", r.Status, r.Body)
	}
	if r := e.get("/subscribe", "Accept-Language", "vi-VN,vi;q=0.9,en;q=0.5"); !strings.Contains(r.Body, "Đăng ký nhận bản tin") {
		t.Fatalf("Vietnamese by Accept-Language:\n%s", r.Body)
	}
	if r := e.get("/subscribe", "Accept-Language", "fr-FR"); !strings.Contains(r.Body, "Đăng ký nhận bản tin") {
		t.Fatalf("unknown language must fall back to the default (vi):\n%s", r.Body)
	}
	// ?lang= wins and is remembered in a cookie.
	if r := e.get("/subscribe?lang=en", "Accept-Language", "vi"); !strings.Contains(r.Body, "Subscribe to the digest") {
		t.Fatalf("?lang=en ignored")
	}
	if r := e.get("/subscribe", "Accept-Language", "vi"); !strings.Contains(r.Body, "Subscribe to the digest") || !strings.Contains(r.Body, "Foreign investment") {
		t.Fatalf("language cookie ignored:\n%s", r.Body)
	}
	r := e.get("/subscribe")
	for _, want := range []string{`name="email"`, `name="website"`, `value="fdi"`, `action="/news/subscribe"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("form lacks %s", want)
		}
	}
	if r.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("security headers: %v", r.Header)
	}
}

func TestDoubleOptInOverHTTPAndSMTP(t *testing.T) {
	e := newEnv(t, nil)
	r := e.subscribe("Reader@Example.ORG", "c1", "name", "Nguyễn <b>An</b>")
	if r.Status != 200 || !strings.Contains(r.Body, "Please check your inbox") {
		t.Fatalf("subscribe: %d\n%s", r.Status, r.Body)
	}
	sub := e.sub("reader@example.org")
	if sub.Status != subscribers.Pending || sub.Email != "Reader@example.org" || sub.Language != "en" || strings.Join(sub.Themes, ",") != "fdi,china" {
		t.Fatalf("stored %+v", sub)
	}
	mails := e.waitMails(1)
	m := mails[0]
	if len(m.To) != 1 || m.To[0] != "Reader@example.org" {
		t.Fatalf("mail to %v", m.To)
	}
	hdr, text := textPart(t, m.Data)
	if !strings.Contains(hdr.Get("Subject"), "Confirm") || !strings.Contains(text, "Hello,") {
		t.Fatalf("confirmation mail: %s\n%s", hdr.Get("Subject"), text)
	}
	// A name typed into the form is neither kept nor mailed.
	if _, htmlBody := mailPart(t, m.Data, "text/html"); strings.Contains(htmlBody+text+hdr.Get("To"), "Nguyễn") {
		t.Fatalf("the typed name is in the confirmation mail:\n%s\n%s", text, htmlBody)
	}
	if sub.Name != "" {
		t.Fatalf("the typed name was stored: %q", sub.Name)
	}
	confirm := e.pathOf(e.linkIn(m, "/confirm/"))

	// GET (a link scanner) shows a button and changes nothing.
	for i := 0; i < 2; i++ {
		g := e.get(confirm)
		if g.Status != 200 || !strings.Contains(g.Body, "<form method=\"post\"") || !strings.Contains(g.Body, "Reader@example.org") {
			t.Fatalf("confirm page: %d\n%s", g.Status, g.Body)
		}
	}
	req, _ := http.NewRequest("HEAD", e.url(confirm), nil)
	e.do(req)
	if s := e.sub("reader@example.org"); s.Status != subscribers.Pending {
		t.Fatalf("GET/HEAD confirmed the subscriber: %s", s.Status)
	}
	p := e.post(confirm, url.Values{"confirm": {"1"}})
	if p.Status != 200 || !strings.Contains(p.Body, "Confirmed") || !strings.Contains(p.Body, "/news/preferences/") {
		t.Fatalf("confirm POST: %d\n%s", p.Status, p.Body)
	}
	if s := e.sub("reader@example.org"); s.Status != subscribers.Confirmed || s.ConfirmedAt.IsZero() {
		t.Fatalf("after POST: %+v", s)
	}
	// A second POST is harmless.
	if p := e.post(confirm, nil); p.Status != 200 {
		t.Fatalf("second confirm: %d", p.Status)
	}
	ev, _ := e.store.Events(context.Background(), sub.ID)
	var kinds []string
	for _, x := range ev {
		kinds = append(kinds, x.Kind)
	}
	if strings.Join(kinds, " ") != "subscribed confirmation_sent confirmed" {
		t.Fatalf("events %v", kinds)
	}
}

func TestResubscribeRevealsNothingAndMailsAtMostHourly(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.store.Add(ctx, subscribers.Subscriber{Email: "known@example.com", Language: "vi", Themes: []string{"diaspora"}}); err != nil {
		t.Fatal(err)
	}
	fresh := e.subscribe("new@example.com", "c1")
	known := e.subscribe("known@example.com", "c2")
	if fresh.Status != known.Status || fresh.Body != known.Body {
		t.Fatalf("responses differ for new and known addresses:\n%d %s\n---\n%d %s", fresh.Status, fresh.Body, known.Status, known.Body)
	}
	mails := e.waitMails(2)
	// The known (confirmed) reader is told they are subscribed, with their
	// preferences link, in their own language; nothing else changes.
	var toKnown received
	for _, m := range mails {
		if m.To[0] == "known@example.com" {
			toKnown = m
		}
	}
	h, _ := textPart(t, toKnown.Data)
	subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if subject != "Bạn đã đăng ký Bản tin Hải Phòng" {
		t.Fatalf("known reader's mail subject %q", subject)
	}
	e.linkIn(toKnown, "/preferences/")
	if s := e.sub("known@example.com"); s.Language != "vi" || strings.Join(s.Themes, ",") != "diaspora" {
		t.Fatalf("anonymous form changed a confirmed reader: %+v", s)
	}
	// Again within the hour: same page, no mail.
	again := e.subscribe("new@example.com", "c3")
	if again.Body != fresh.Body {
		t.Fatal("second subscribe shows a different page")
	}
	e.clock.advance(30 * time.Minute)
	e.subscribe("new@example.com", "c4")
	if n := len(e.smtp.all()); n != 2 {
		t.Fatalf("%d mails within the hour, want 2", n)
	}
	e.clock.advance(31 * time.Minute)
	e.subscribe("new@example.com", "c5")
	if n := len(e.waitMails(3)); n != 3 {
		t.Fatalf("%d mails after the hour, want 3", n)
	}
}

func TestSubscribeValidationAndEscaping(t *testing.T) {
	e := newEnv(t, nil)
	r := e.subscribe(`"><script>alert(1)</script>`, "c1", "name", `<img src=x onerror=alert(1)>`)
	if r.Status != 400 || !strings.Contains(r.Body, "not valid") {
		t.Fatalf("bad address: %d\n%s", r.Status, r.Body)
	}
	if strings.Contains(r.Body, "<script>alert") || strings.Contains(r.Body, "<img src=x") {
		t.Fatalf("input echoed unescaped:\n%s", r.Body)
	}
	if !strings.Contains(r.Body, "&lt;script&gt;alert(1)") {
		t.Fatalf("the address typed is not kept in the form:\n%s", r.Body)
	}
	if r := e.subscribe("ok@example.com", "c1", "language", "fr"); r.Status != 400 {
		t.Fatalf("language fr: %d", r.Status)
	}
	if r := e.subscribe("ok@example.com", "c1", "themes", "sports"); r.Status != 400 {
		t.Fatalf("unknown theme: %d", r.Status)
	}
	big := url.Values{"email": {"ok@example.com"}, "name": {strings.Repeat("x", 20000)}}
	if r := e.post("/subscribe", big); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", r.Status)
	}
	if _, err := e.store.ByEmail(context.Background(), "ok@example.com"); err == nil {
		t.Fatal("a rejected form created a subscriber")
	}
	// IDN domains are normalised.
	if r := e.subscribe("ban@HảiPhòng.vn", "c1"); r.Status != 200 {
		t.Fatalf("IDN: %d %s", r.Status, r.Body)
	}
	if s := e.sub("ban@xn--hiphng-6wa8191d.vn"); s.Email != "ban@xn--hiphng-6wa8191d.vn" {
		t.Fatalf("IDN stored as %s", s.Email)
	}
}

func TestHoneypot(t *testing.T) {
	e := newEnv(t, nil)
	normal := e.subscribe("human@example.com", "c1")
	bot := e.subscribe("bot@example.com", "c2", "website", "http://spam.example")
	if bot.Status != 200 || bot.Body != normal.Body {
		t.Fatalf("honeypot response differs: %d", bot.Status)
	}
	if _, err := e.store.ByEmail(context.Background(), "bot@example.com"); err == nil {
		t.Fatal("honeypot submission stored")
	}
	if n := len(e.waitMails(1)); n != 1 {
		t.Fatalf("%d mails", n)
	}
}

func TestRateLimitPerClient(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.ClientBurst, d.ClientEvery = 3, 10*time.Minute })
	for i := 0; i < 3; i++ {
		if r := e.subscribe("a"+string(rune('a'+i))+"@example.com", "flood"); r.Status != 200 {
			t.Fatalf("request %d: %d", i, r.Status)
		}
	}
	r := e.subscribe("ad@example.com", "flood")
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("4th request: %d", r.Status)
	}
	if _, err := e.store.ByEmail(context.Background(), "ad@example.com"); err == nil {
		t.Fatal("rate-limited request stored a subscriber")
	}
	if r := e.subscribe("ae@example.com", "someone-else"); r.Status != 200 {
		t.Fatalf("another client was limited: %d", r.Status)
	}
	e.clock.advance(11 * time.Minute)
	if r := e.subscribe("af@example.com", "flood"); r.Status != 200 {
		t.Fatalf("after refill: %d", r.Status)
	}
}

func TestRateLimitPerAddress(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.AddressBurst, d.AddressEvery = 2, time.Hour })
	// Let the database allow a mail per request, to see the address limiter alone.
	e.store.Configure(subscribers.Config{ConfirmResendInterval: time.Nanosecond})
	var bodies []string
	for i := 0; i < 5; i++ {
		e.clock.advance(time.Second)
		r := e.subscribe("victim@example.com", "client-"+string(rune('a'+i)))
		if r.Status != 200 {
			t.Fatalf("request %d: %d", i, r.Status)
		}
		bodies = append(bodies, r.Body)
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatal("limited request shows a different page")
		}
	}
	if n := len(e.waitMails(2)); n != 2 {
		t.Fatalf("victim got %d mails, want 2", n)
	}
	// Sends happen inside the request, so nothing more is on its way.
	if n := len(e.smtp.all()); n != 2 {
		t.Fatalf("victim got %d mails, want 2", n)
	}
}

func TestCrossSiteFormsRejected(t *testing.T) {
	e := newEnv(t, nil)
	r := e.post("/subscribe", url.Values{"email": {"x@example.com"}}, "Sec-Fetch-Site", "cross-site")
	if r.Status != http.StatusForbidden {
		t.Fatalf("cross-site subscribe: %d", r.Status)
	}
	r = e.post("/subscribe", url.Values{"email": {"x@example.com"}}, "Origin", "https://evil.example")
	if r.Status != http.StatusForbidden {
		t.Fatalf("foreign Origin subscribe: %d", r.Status)
	}
	sub, _ := e.store.Add(context.Background(), subscribers.Subscriber{Email: "y@example.com", Language: "vi"})
	prefs := "/preferences/" + e.tokens.Sign(subscribers.PurposePreferences, sub.ID)
	r = e.post(prefs, url.Values{"action": {"save"}, "language": {"en"}, "paused": {"1"}}, "Sec-Fetch-Site", "cross-site")
	if r.Status != http.StatusForbidden {
		t.Fatalf("cross-site preferences: %d", r.Status)
	}
	if s := e.sub("y@example.com"); s.Paused || s.Language != "vi" {
		t.Fatal("cross-site POST changed preferences")
	}
	// Same-origin requests from a browser pass.
	if r := e.post("/subscribe", url.Values{"email": {"x@example.com"}}, "Sec-Fetch-Site", "same-origin"); r.Status != 200 {
		t.Fatalf("same-origin subscribe: %d", r.Status)
	}
}

func TestTokenFailuresOnEveryPage(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	sub, _ := e.store.Add(ctx, subscribers.Subscriber{Email: "t@example.com", Language: "en", Status: subscribers.Pending})
	good := map[string]string{
		"confirm":     e.tokens.Sign(subscribers.PurposeConfirm, sub.ID),
		"preferences": e.tokens.Sign(subscribers.PurposePreferences, sub.ID),
		"unsubscribe": e.tokens.Sign(subscribers.PurposeUnsubscribe, sub.ID),
	}
	other, _ := subscribers.NewTokens([]subscribers.Key{{ID: "k1", Secret: strings.Repeat("other-secret", 4)}})
	old := e.clock.now().Add(-500 * 24 * time.Hour)
	for page, tok := range good {
		purpose := map[string]string{"confirm": subscribers.PurposeConfirm, "preferences": subscribers.PurposePreferences, "unsubscribe": subscribers.PurposeUnsubscribe}[page]
		wrong := good["confirm"]
		if page == "confirm" {
			wrong = good["unsubscribe"]
		}
		cases := []struct {
			name, tok string
			status    int
		}{
			{"forged", other.Sign(purpose, sub.ID), 404},
			{"tampered", tok[:len(tok)-3] + "AAA", 404},
			{"wrong purpose", wrong, 404},
			{"expired", e.tokens.SignAt(purpose, sub.ID, old), 410},
			{"garbage", "%3Cscript%3E", 404},
			{"unknown subscriber", e.tokens.Sign(purpose, sub.ID+1000), 404},
		}
		for _, c := range cases {
			for _, method := range []string{"GET", "POST"} {
				var r resp
				if method == "GET" {
					r = e.get("/" + page + "/" + c.tok)
				} else {
					r = e.post("/"+page+"/"+c.tok, url.Values{"confirm": {"1"}, "action": {"unsubscribe"}})
				}
				if r.Status != c.status {
					t.Errorf("%s %s with %s token: %d, want %d", method, page, c.name, r.Status, c.status)
				}
				if strings.Contains(r.Body, "<script>") {
					t.Errorf("%s %s echoed the token unescaped", method, page)
				}
			}
		}
	}
	if s := e.sub("t@example.com"); s.Status != subscribers.Pending {
		t.Fatalf("bad tokens changed the subscriber: %s", s.Status)
	}
	// One-click with a bad token changes nothing either.
	r := e.post("/unsubscribe/"+other.Sign(subscribers.PurposeUnsubscribe, sub.ID), url.Values{"List-Unsubscribe": {"One-Click"}})
	if r.Status != 404 || e.sub("t@example.com").Status != subscribers.Pending {
		t.Fatalf("forged one-click: %d", r.Status)
	}
}

func TestRotatedKeys(t *testing.T) {
	oldKey := subscribers.Key{ID: "old", Secret: strings.Repeat("old-secret-", 4)}
	retire := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	// The handler has a new signing key, and the old one still verifies.
	oldKey.RetireAt = retire
	rotated, _ := subscribers.NewTokens([]subscribers.Key{testKey, oldKey})
	e2 := newEnv(t, func(d *Deps) { d.Tokens = rotated })
	sub, _ := e2.store.Add(context.Background(), subscribers.Subscriber{Email: "r@example.com", Language: "en"})
	oldSigner, _ := subscribers.NewTokens([]subscribers.Key{{ID: "old", Secret: oldKey.Secret}})
	tok := oldSigner.SignAt(subscribers.PurposeUnsubscribe, sub.ID, e2.clock.now())
	if r := e2.get("/unsubscribe/" + tok); r.Status != 200 {
		t.Fatalf("old-key token before retire_at: %d", r.Status)
	}
	// New links are signed with the new key.
	if !strings.HasPrefix(rotated.Sign(subscribers.PurposeUnsubscribe, sub.ID), "k1.") {
		t.Fatal("new links not signed with the first key")
	}
	e2.clock.advance(retire.Add(time.Hour).Sub(e2.clock.now()))
	if r := e2.get("/unsubscribe/" + tok); r.Status != 410 {
		t.Fatalf("old-key token after retire_at: %d", r.Status)
	}
	if r := e2.post("/unsubscribe/"+tok, url.Values{"List-Unsubscribe": {"One-Click"}}); r.Status != 404 {
		t.Fatalf("one-click with retired key: %d", r.Status)
	}
	if s := e2.sub("r@example.com"); s.Status != subscribers.Confirmed {
		t.Fatal("retired key unsubscribed the reader")
	}
}

func TestUnsubscribeGetShowsPagePostActs(t *testing.T) {
	e := newEnv(t, nil)
	sub, _ := e.store.Add(context.Background(), subscribers.Subscriber{Email: "u@example.com", Language: "vi"})
	path := "/unsubscribe/" + e.tokens.Sign(subscribers.PurposeUnsubscribe, sub.ID)
	for i := 0; i < 3; i++ {
		r := e.get(path)
		if r.Status != 200 || !strings.Contains(r.Body, "Hủy đăng ký") || !strings.Contains(r.Body, `method="post"`) {
			t.Fatalf("GET unsubscribe: %d\n%s", r.Status, r.Body)
		}
	}
	if s := e.sub("u@example.com"); s.Status != subscribers.Confirmed {
		t.Fatal("GET unsubscribed the reader")
	}
	r := e.post(path, url.Values{"confirm": {"1"}, "lang": {"en"}})
	if r.Status != 200 || !strings.Contains(r.Body, "You are unsubscribed") {
		t.Fatalf("POST unsubscribe: %d\n%s", r.Status, r.Body)
	}
	if s := e.sub("u@example.com"); s.Status != subscribers.Unsubscribed {
		t.Fatalf("status %s", s.Status)
	}
	if page, _ := e.store.ConfirmedAfter(context.Background(), 0, 10); len(page) != 0 {
		t.Fatal("unsubscribed reader still streamed to the delivery engine")
	}
	// Visiting again says so, and offers to subscribe again.
	if r := e.get(path); !strings.Contains(r.Body, "/news/subscribe") {
		t.Fatalf("second visit:\n%s", r.Body)
	}
}

func TestOneClickUnsubscribe(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	a, _ := e.store.Add(ctx, subscribers.Subscriber{Email: "a@example.com"})
	b, _ := e.store.Add(ctx, subscribers.Subscriber{Email: "b@example.com"})

	// As Gmail sends it: urlencoded, from a server (cross-site headers must not matter).
	r := e.post("/unsubscribe/"+e.tokens.Sign(subscribers.PurposeUnsubscribe, a.ID), url.Values{"List-Unsubscribe": {"One-Click"}}, "Sec-Fetch-Site", "cross-site")
	if r.Status != 200 {
		t.Fatalf("one-click: %d %s", r.Status, r.Body)
	}
	if s := e.sub("a@example.com"); s.Status != subscribers.Unsubscribed {
		t.Fatalf("a: %s", s.Status)
	}
	// multipart/form-data is allowed by RFC 8058 too.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("List-Unsubscribe", "One-Click")
	mw.Close()
	req, _ := http.NewRequest("POST", e.url("/unsubscribe/"+e.tokens.Sign(subscribers.PurposeUnsubscribe, b.ID)), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r := e.do(req); r.Status != 200 {
		t.Fatalf("multipart one-click: %d", r.Status)
	}
	if s := e.sub("b@example.com"); s.Status != subscribers.Unsubscribed {
		t.Fatalf("b: %s", s.Status)
	}
	// Repeating is fine.
	if r := e.post("/unsubscribe/"+e.tokens.Sign(subscribers.PurposeUnsubscribe, a.ID), url.Values{"List-Unsubscribe": {"One-Click"}}); r.Status != 200 {
		t.Fatalf("repeat: %d", r.Status)
	}
	ev, _ := e.store.Events(ctx, a.ID)
	if last := ev[len(ev)-1]; last.Kind != subscribers.EventUnsubscribed || !strings.Contains(last.Detail, "one-click") {
		t.Fatalf("event %+v", last)
	}
	if n := len(ev); n != 3 { // subscribed, confirmed, unsubscribed once
		t.Fatalf("%d events: %+v", n, ev)
	}
}

func TestPreferences(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	sub, _ := e.store.Add(ctx, subscribers.Subscriber{Email: "p@example.com", Language: "vi", Themes: []string{"diaspora"}})
	path := "/preferences/" + e.tokens.Sign(subscribers.PurposePreferences, sub.ID)
	r := e.get(path)
	if r.Status != 200 || !strings.Contains(r.Body, "Tùy chọn nhận bản tin") || !strings.Contains(r.Body, `value="diaspora" checked`) {
		t.Fatalf("GET preferences (in the reader's language, vi):\n%s", r.Body)
	}
	r = e.post(path, url.Values{"action": {"save"}, "language": {"en"}, "themes": {"fdi", "china"}, "paused": {"1"}, "lang": {"en"}})
	if r.Status != 200 || !strings.Contains(r.Body, "Your changes are saved") || !strings.Contains(r.Body, `value="fdi" checked`) {
		t.Fatalf("POST preferences: %d\n%s", r.Status, r.Body)
	}
	s := e.sub("p@example.com")
	if s.Language != "en" || strings.Join(s.Themes, ",") != "fdi,china" || !s.Paused || s.Status != subscribers.Confirmed {
		t.Fatalf("saved %+v", s)
	}
	if page, _ := e.store.ConfirmedAfter(ctx, 0, 10); len(page) != 0 {
		t.Fatal("paused reader still streamed")
	}
	// Resume with all themes (none ticked); the form without a time zone
	// field leaves it alone.
	e.post(path, url.Values{"action": {"save"}, "language": {"en"}})
	if s := e.sub("p@example.com"); s.Paused || len(s.Themes) != 0 || s.Timezone != "" {
		t.Fatalf("resume: %+v", s)
	}
	// Time zone for delivery at local time.
	if r := e.get(path); !strings.Contains(html.UnescapeString(r.Body), `<option value="Europe/Berlin">Europe/Berlin (UTC+02:00)</option>`) {
		t.Fatalf("time zone choices:\n%s", r.Body)
	}
	if r := e.post(path, url.Values{"action": {"save"}, "language": {"en"}, "timezone": {"Mars/Olympus"}}); r.Status != 400 || !strings.Contains(r.Body, "time zone is not valid") {
		t.Fatalf("bad time zone: %d", r.Status)
	}
	r = e.post(path, url.Values{"action": {"save"}, "language": {"en"}, "timezone": {"Europe/Berlin"}})
	if s := e.sub("p@example.com"); r.Status != 200 || s.Timezone != "Europe/Berlin" || !strings.Contains(r.Body, `value="Europe/Berlin" selected`) {
		t.Fatalf("time zone: %d %+v", r.Status, s)
	}
	ev, _ := e.store.Events(ctx, sub.ID)
	var kinds []string
	for _, x := range ev {
		kinds = append(kinds, x.Kind)
	}
	if strings.Join(kinds, " ") != "subscribed confirmed changed paused changed resumed changed" {
		t.Fatalf("events %v", kinds)
	}
	// Unsubscribe from the preferences page.
	r = e.post(path, url.Values{"action": {"unsubscribe"}})
	if r.Status != 200 || e.sub("p@example.com").Status != subscribers.Unsubscribed {
		t.Fatalf("unsubscribe from preferences: %d", r.Status)
	}
	// Afterwards the page offers to subscribe again and saves nothing.
	if r := e.post(path, url.Values{"action": {"save"}, "language": {"vi"}}); r.Status != http.StatusConflict || e.sub("p@example.com").Language != "en" {
		t.Fatalf("saving while unsubscribed: %d", r.Status)
	}
}

func TestOldConfirmLinkDoesNotResubscribe(t *testing.T) {
	e := newEnv(t, nil)
	e.subscribe("s@example.com", "c1")
	confirm := e.pathOf(e.linkIn(e.waitMails(1)[0], "/confirm/"))
	if r := e.post(confirm, nil); r.Status != 200 {
		t.Fatalf("confirm: %d", r.Status)
	}
	e.clock.advance(time.Hour)
	s := e.sub("s@example.com")
	e.store.Unsubscribe(context.Background(), s.ID, "test")
	e.clock.advance(time.Hour)
	if r := e.post(confirm, nil); r.Status != 410 {
		t.Fatalf("old confirm link after unsubscribe: %d", r.Status)
	}
	if s := e.sub("s@example.com"); s.Status != subscribers.Unsubscribed {
		t.Fatalf("resurrected: %s", s.Status)
	}
	// Subscribing again and confirming the new link works.
	e.subscribe("s@example.com", "c2")
	fresh := e.pathOf(e.linkIn(e.waitMails(2)[1], "/confirm/"))
	if r := e.post(fresh, nil); r.Status != 200 || e.sub("s@example.com").Status != subscribers.Confirmed {
		t.Fatalf("fresh confirm: %d", r.Status)
	}
}

func TestConfirmationMailFailureFreesTheSlot(t *testing.T) {
	e := newEnv(t, nil)
	e.smtp.mu.Lock()
	e.smtp.reject["nobody@example.com"] = true
	e.smtp.mu.Unlock()
	r := e.subscribe("nobody@example.com", "c1")
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("rejected confirmation: %d", r.Status)
	}
	e.smtp.mu.Lock()
	delete(e.smtp.reject, "nobody@example.com")
	e.smtp.mu.Unlock()
	if r := e.subscribe("nobody@example.com", "c2"); r.Status != 200 {
		t.Fatalf("retry: %d", r.Status)
	}
	if n := len(e.waitMails(1)); n != 1 {
		t.Fatalf("%d mails", n)
	}
}
