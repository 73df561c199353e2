package inbound

import (
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/internal/postfixtest"
)

// A real Postfix accepts a message for an unknown user, bounces it with
// its own DSN to the VERP envelope sender, and relays that DSN to the
// listener, as an office MTA with a transport map does.
func TestPostfixDSNReachesListener(t *testing.T) {
	h := &recorder{}
	listener := startListener(t, listenerConfig(), h)
	pf := postfixtest.Start(t, postfixtest.Options{Hostname: "mail.haiphong.example.org", Relay: []string{"haiphong.example.org"}, RelayTo: listener})

	msg := "From: Hai Phong Digest <digest@haiphong.example.org>\r\n" +
		"To: nosuchuser@readers.test.example\r\n" +
		"Subject: Hai Phong Digest no. 12\r\n" +
		"Message-ID: <hpd.12.999.1772760000@haiphong.example.org>\r\n" +
		"List-Unsubscribe: <mailto:unsubscribe@haiphong.example.org?subject=unsubscribe%20k2026.9z.t9m2b3.PostfixTestTokenAbcdeF>\r\n" +
		"\r\nHai Phong Digest, issue 12.\r\n"
	if err := smtp.SendMail(pf.Addr, nil, "bounces+9z.Zq.Postfix1@haiphong.example.org", []string{"nosuchuser@readers.test.example"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(h.got()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no DSN reached the listener:\n%s", pf.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	rep := h.got()[0]
	if rep.Kind != KindBounce || rep.Reason != "RFC 3464 delivery status" || rep.VERPToken != "9z.Zq.Postfix1" ||
		rep.MessageID != "<hpd.12.999.1772760000@haiphong.example.org>" || rep.ReportingMTA != "mail.haiphong.example.org" {
		t.Fatalf("report %+v", rep)
	}
	rc := rep.Recipients[0]
	if len(rep.Recipients) != 1 || rc.Address != "nosuchuser@readers.test.example" || rc.Status != "5.1.1" || rc.Class != Hard ||
		!strings.Contains(rc.Diagnostic, "unknown user") {
		t.Fatalf("recipient %+v", rc)
	}
	if len(rep.Tokens) != 1 || rep.Tokens[0] != "k2026.9z.t9m2b3.PostfixTestTokenAbcdeF" {
		t.Errorf("tokens %v", rep.Tokens)
	}
}
