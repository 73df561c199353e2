package public

import (
	"mime"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/digest/render"
)

// The digest's name on the pages and in the confirmation mail is the one
// the config gives, in the reader's language.
func TestDigestNameComesFromTheConfig(t *testing.T) {
	e := newEnv(t, func(d *Deps) {
		d.DigestName = render.Localized{VI: "Tin Đất Cảng", EN: "Port City News"}
	})
	if r := e.get("/subscribe?lang=vi"); !strings.Contains(r.Body, "<strong>Tin Đất Cảng</strong>") || strings.Contains(r.Body, "Bản tin Hải Phòng") {
		t.Errorf("the subscribe page does not show the configured name:\n%s", r.Body)
	}
	if r := e.subscribe("reader@example.org", "c1"); r.Status != 200 {
		t.Fatalf("subscribe: %d", r.Status)
	}
	m := e.waitMails(1)[0]
	hdr, text := textPart(t, m.Data)
	subject, _ := new(mime.WordDecoder).DecodeHeader(hdr.Get("Subject"))
	if subject != "Confirm your Port City News subscription" {
		t.Errorf("subject %q", subject)
	}
	if !strings.Contains(text, "asked to receive Port City News at this address") || !strings.HasSuffix(strings.TrimSpace(text), "Port City News") {
		t.Errorf("confirmation text does not use the configured name:\n%s", text)
	}
}
