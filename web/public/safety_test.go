package public

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/subscribers"
)

// The office's confirmation mail goes to any address typed into the form:
// nothing else a visitor typed may ride along in it (no name, no greeting
// built from one), or the form becomes a way to send official spam.
func TestConfirmationMailCarriesNoVisitorText(t *testing.T) {
	e := newEnv(t, nil)
	if r := e.get("/subscribe?lang=vi"); strings.Contains(r.Body, `name="name"`) {
		t.Error("the public form still asks for a name")
	}
	spam := "Chúc mừng! Bạn trúng thưởng 500 triệu, nhận tại http://evil.example/claim"
	r := e.subscribe("victim@example.org", "c1", "name", spam, "language", "vi", "lang", "vi")
	if r.Status != http.StatusOK {
		t.Fatalf("subscribe: %d", r.Status)
	}
	m := e.waitMails(1)[0]
	for _, bad := range []string{"evil.example", "trúng thưởng", "Chúc mừng"} {
		if strings.Contains(string(m.Data), bad) {
			t.Errorf("the raw confirmation mail contains %q", bad)
		}
	}
	hdr, text := textPart(t, m.Data)
	_, htmlBody := mailPart(t, m.Data, "text/html")
	for _, part := range []string{text, htmlBody, hdr.Get("To"), hdr.Get("Subject")} {
		if strings.Contains(part, "evil.example") || strings.Contains(part, "trúng thưởng") {
			t.Errorf("visitor text in the confirmation mail:\n%s", part)
		}
	}
	if s := e.sub("victim@example.org"); s.Name != "" {
		t.Errorf("a name from the public form was stored: %q", s.Name)
	}
}

// user+1@, user+2@, ... are one mailbox: however many tags and clients,
// it gets one confirmation per interval.
func TestPlusAddressesGetOneConfirmation(t *testing.T) {
	e := newEnv(t, nil)
	for i, addr := range []string{"victim+1@example.org", "victim+2@example.org", "VICTIM+3@example.org", "victim@example.org", "victim+4@example.org"} {
		if r := e.subscribe(addr, "client-"+string(rune('a'+i))); r.Status != http.StatusOK {
			t.Fatalf("%s: %d", addr, r.Status)
		}
	}
	e.subscribe("someone.else@example.org", "client-z")
	if n := len(e.waitMails(2)); n != 2 {
		t.Errorf("%d mails: want one to the victim's mailbox and one to the other reader", n)
	}
}

// A body that is not a valid form is a bad request (400); one over the
// limit is too large (413).
func TestMalformedBodiesAreBadRequests(t *testing.T) {
	e := newEnv(t, nil)
	sub, _ := e.store.Add(context.Background(), subscribers.Subscriber{Email: "m@example.org"})
	for _, path := range []string{"/subscribe", "/confirm/" + e.tokens.Sign(subscribers.PurposeConfirm, sub.ID), "/preferences/" + e.tokens.Sign(subscribers.PurposePreferences, sub.ID)} {
		req, _ := http.NewRequest("POST", e.url(path), strings.NewReader("--xyz\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nno end boundary"))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=xyz")
		if r := e.do(req); r.Status != http.StatusBadRequest {
			t.Errorf("%s with a broken multipart body: %d, want 400", path, r.Status)
		}
		big := url.Values{"email": {"ok@example.com"}, "x": {strings.Repeat("x", 20000)}}
		if r := e.post(path, big); r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with an oversized body: %d, want 413", path, r.Status)
		}
	}
}

// A reader names themselves on their preferences page (the page of their
// own link); "Local" is not a time zone they can pick.
func TestPreferencesNameAndTimezone(t *testing.T) {
	e := newEnv(t, nil)
	sub, _ := e.store.Add(context.Background(), subscribers.Subscriber{Email: "p@example.org", Language: "en"})
	path := "/preferences/" + e.tokens.Sign(subscribers.PurposePreferences, sub.ID)
	if r := e.post(path, url.Values{"action": {"save"}, "language": {"en"}, "name": {"Phạm Thu"}}); r.Status != http.StatusOK || !strings.Contains(r.Body, `value="Phạm Thu"`) {
		t.Fatalf("saving a name: %d", r.Status)
	}
	if s := e.sub("p@example.org"); s.Name != "Phạm Thu" {
		t.Errorf("name %q", s.Name)
	}
	if r := e.post(path, url.Values{"action": {"save"}, "language": {"en"}, "timezone": {"Local"}}); r.Status != http.StatusBadRequest {
		t.Errorf("time zone Local: %d, want 400", r.Status)
	}
	if s := e.sub("p@example.org"); s.Timezone != "" {
		t.Errorf("time zone %q stored", s.Timezone)
	}
}
