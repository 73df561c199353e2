package inbound

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/subscribers"
)

// fixtures is the directory of the real-world formats the parser is
// tested on (written for the project after the formats of Postfix, Exim,
// Sendmail, Exchange, Gmail, Yahoo, qmail, Amazon SES, the ARF reports of
// Yahoo, AOL and Microsoft, and common autoresponders).
const fixtures = "../../../testdata/inbound"

func testParser() *Parser {
	return &Parser{BounceLocalPart: "bounces", FindTokens: subscribers.FindTokens}
}

type wantRecipient struct {
	addr, status string
	class        Class
	diag         string // a part of the diagnostic
}

func TestParseRealWorldFormats(t *testing.T) {
	for _, tc := range []struct {
		file      string
		kind      Kind
		reason    string // a part of Report.Reason
		rcpts     []wantRecipient
		mta       string // Report.ReportingMTA
		messageID string
		verp      string
		token     string // the first token found ("" = none)
	}{
		{file: "postfix-dsn-user-unknown.eml", kind: KindBounce, reason: "RFC 3464",
			rcpts:     []wantRecipient{{"nguyen.van.an@example.net", "5.1.1", Hard, "User unknown in virtual mailbox table"}},
			mta:       "mail.haiphong.example.org",
			messageID: "<hpd.12.345.1772758839@haiphong.example.org>", verp: "1c.7q.Xy3kPq9dTsw", token: "k2026.9l.t9m2b3.AbCdEfGhIjKlMnOpQrStUv"},
		{file: "postfix-dsn-gmail-overquota.eml", kind: KindBounce, reason: "RFC 3464",
			rcpts:     []wantRecipient{{"tran.thi.binh@gmail.com", "5.2.2", Soft, "out of storage space"}},
			messageID: "<hpd.12.346.1772758927@haiphong.example.org>", verp: "2d.8r.Qw7mNb4xTyc", token: "k2026.9m.t9m2b3.ZyXwVuTsRqPoNmLkJiHgFe"},
		{file: "postfix-delay.eml", kind: KindDelay, reason: "RFC 3464",
			rcpts:     []wantRecipient{{"le.minh@example.com", "4.4.1", Delayed, "Connection timed out"}},
			messageID: "<hpd.12.347.1772758860@haiphong.example.org>", verp: "3e.9s.Lk2jHg5fDsa"},
		{file: "exim-dsn.eml", kind: KindBounce, reason: "RFC 3464",
			// Status 5.0.0 is generic: the diagnostic's 5.1.1 is more telling.
			rcpts:     []wantRecipient{{"pham.quoc.huy@example.org.vn", "5.1.1", Hard, "Recipient address rejected"}},
			mta:       "mx.example.org.vn",
			messageID: "<hpd.12.348.1772758990@haiphong.example.org>", verp: "4f.a1.Mn8bVc6xZas"},
		{file: "exim-text-two-recipients.eml", kind: KindBounce, reason: "bounce text",
			rcpts: []wantRecipient{
				{"vu.thanh@example.edu.vn", "5.1.1", Hard, "User unknown"},
				{"do.hoa@example.edu.vn", "5.2.2", Soft, "Mailbox full"},
			},
			messageID: "<hpd.12.349.1772759038@haiphong.example.org>", verp: "5g.b2.Pq4rSt7uVwx", token: "k2026.9n.t9m2b3.QqWwEeRrTtYyUuIiOoPpAa"},
		{file: "sendmail-dsn.eml", kind: KindBounce, reason: "RFC 3464",
			rcpts:     []wantRecipient{{"hoang.lan@example.ac.jp", "5.1.1", Hard, "User unknown"}},
			mta:       "mail.example.ac.jp",
			messageID: "<hpd.12.350.1772759100@haiphong.example.org>", verp: "6h.c3.Gh5jKl8mNop"},
		{file: "exchange-ndr.eml", kind: KindBounce, reason: "RFC 3464",
			rcpts:     []wantRecipient{{"ngo.duc@example-corp.vn", "5.1.10", Hard, "RESOLVER.ADR.RecipientNotFound"}},
			mta:       "HK2PR02MB5678.apcprd02.prod.outlook.com",
			messageID: "<hpd.12.351.1772759160@haiphong.example.org>", verp: "7i.d4.Rt6yUi9oPas"},
		{file: "outlook-ndr-text.eml", kind: KindBounce, reason: "read as text",
			rcpts:     []wantRecipient{{"mai.phuong@outlook.example", "5.1.10", Hard, "Remote Server returned '550 5.1.10"}},
			messageID: "<hpd.12.352.1772759229@haiphong.example.org>", verp: "8j.e5.Yu7iOp0aSdf", token: "k2026.9p.t9m2b3.MmNnBbVvCcXxZzLlKkJjHh"},
		{file: "exchange2003-text.eml", kind: KindBounce, reason: "bounce text",
			rcpts: []wantRecipient{{"dang.khoa@example-ministry.vn", "5.0.0", Hard, "recipient name is not recognized"}},
			verp:  "9k.f6.Io8pAs1dFgh"},
		{file: "gmail-text.eml", kind: KindBounce, reason: "bounce text",
			rcpts:     []wantRecipient{{"bui.thu@example.net", "5.1.1", Hard, "User Unknown"}},
			messageID: "<hpd.12.353.1772759341@haiphong.example.org>", verp: "ab.g7.Kl9aSd2fGhj"},
		{file: "gmail-dsn.eml", kind: KindBounce, reason: "RFC 3464",
			rcpts:     []wantRecipient{{"ly.quang.vinh@gmail.com", "5.1.1", Hard, "does not exist"}},
			mta:       "googlemail.com",
			messageID: "<hpd.12.354.1772759401@haiphong.example.org>", verp: "bc.h8.Zx1cVb3nMqw"},
		{file: "yahoo-text.eml", kind: KindBounce, reason: "bounce text",
			rcpts:     []wantRecipient{{"trinh.mai@yahoo.com", "5.0.0", Hard, "doesn't have a yahoo.com account"}},
			messageID: "<hpd.12.355.1772759458@haiphong.example.org>", verp: "cd.i9.Wq2eRt4yUio", token: "k2026.9r.t9m2b3.GgHhJjKkLlZzXxCcVvBbNn"},
		{file: "qmail-text.eml", kind: KindBounce, reason: "bounce text",
			rcpts:     []wantRecipient{{"cao.son@example.com.vn", "5.1.1", Hard, "no mailbox here"}},
			messageID: "<hpd.12.356.1772759518@haiphong.example.org>", verp: "de.j0.Ty5uIo7pAsd"},
		{file: "qmail-overquota.eml", kind: KindBounce, reason: "bounce text",
			rcpts:     []wantRecipient{{"ha.linh@example.net.vn", "5.2.2", Soft, "over the allowed quota"}},
			messageID: "<hpd.12.357.1772759578@haiphong.example.org>", verp: "ef.k1.Gh6jKl8zXcv"},
		{file: "amazon-ses-dsn.eml", kind: KindBounce, reason: "RFC 3464",
			rcpts:     []wantRecipient{{"kim.ngan@example.org", "5.1.1", Hard, "user unknown"}},
			mta:       "a8-30.smtp-out.amazonses.com",
			messageID: "<hpd.12.358.1772759638@haiphong.example.org>", verp: "fg.l2.Bn7mQw9eRty"},
		{file: "arf-yahoo.eml", kind: KindComplaint, reason: "Yahoo!-Mail-Feedback",
			messageID: "<hpd.12.359.1772759698@haiphong.example.org>", token: "k2026.9t.t9m2b3.QwErTyUiOpAsDfGhJkLzXc"},
		// The returned original was delivered: its Return-Path is the
		// VERP address it was sent with.
		{file: "arf-aol.eml", kind: KindComplaint, reason: "AOL SComp", verp: "hi.n4.Zx9cVb1nMas",
			messageID: "<hpd.12.360.1772759758@haiphong.example.org>", token: "k2026.9u.t9m2b3.PoIuYtReWqLkJhGfDsAmNb"},
		{file: "arf-microsoft-jmrp.eml", kind: KindComplaint, reason: "Microsoft Junk Mail Reporting",
			messageID: "<hpd.12.361.1772759818@haiphong.example.org>", token: "k2026.9v.t9m2b3.MnBvCxZlKjHgFdSaPoIuYt"},
		{file: "arf-auth-failure.eml", kind: KindOther, reason: "authentication failure", messageID: "<forged-123@spoofer.example>"},
		{file: "vacation-gmail.eml", kind: KindAutoReply, reason: "Auto-Submitted: auto-replied", verp: "jk.p6.Qa2sWd4eRft"},
		{file: "ooo-exchange.eml", kind: KindAutoReply, reason: "Auto-Submitted: auto-generated"},
		// A vacation reply that quotes the digest, unsubscribe link and
		// all, must not unsubscribe anyone: its subject gives it away.
		{file: "vacation-vi-quoting-token.eml", kind: KindAutoReply, reason: "vacation subject", token: "k2026.9w.t9m2b3.LkJhGfDsAqWeRtYuIoPzXc"},
		{file: "mailto-unsubscribe.eml", kind: KindUnsubscribe, token: "k2026.9x.t9m2b3.ZaQwSxCdErFvBgTyHnMjUk"},
		{file: "human-reply.eml", kind: KindOther},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(fixtures, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			// Mail arrives with CRLF over SMTP and with LF from an MTA pipe.
			for _, variant := range []string{"LF", "CRLF"} {
				in := data
				if variant == "CRLF" {
					in = []byte(strings.ReplaceAll(string(data), "\n", "\r\n"))
				}
				rep, err := testParser().Parse(in, Envelope{})
				if err != nil {
					t.Fatalf("%s: %v", variant, err)
				}
				checkReport(t, variant, rep, tc.kind, tc.reason, tc.rcpts, tc.mta, tc.messageID, tc.verp, tc.token)
			}
		})
	}
}

func checkReport(t *testing.T, variant string, rep *Report, kind Kind, reason string, rcpts []wantRecipient, mta, messageID, verp, token string) {
	t.Helper()
	if rep.Kind != kind {
		t.Errorf("%s: kind %q (%s), want %q", variant, rep.Kind, rep.Reason, kind)
	}
	if !strings.Contains(rep.Reason, reason) {
		t.Errorf("%s: reason %q, want it to mention %q", variant, rep.Reason, reason)
	}
	if len(rep.Recipients) != len(rcpts) {
		t.Fatalf("%s: %d recipients %+v, want %d", variant, len(rep.Recipients), rep.Recipients, len(rcpts))
	}
	for i, w := range rcpts {
		got := rep.Recipients[i]
		if !strings.EqualFold(got.Address, w.addr) || got.Status != w.status || got.Class != w.class {
			t.Errorf("%s: recipient %d = %s %s %s, want %s %s %s", variant, i, got.Address, got.Status, got.Class, w.addr, w.status, w.class)
		}
		if !strings.Contains(got.Diagnostic, w.diag) {
			t.Errorf("%s: recipient %d diagnostic %q, want it to contain %q", variant, i, got.Diagnostic, w.diag)
		}
	}
	if mta != "" && rep.ReportingMTA != mta {
		t.Errorf("%s: reporting MTA %q, want %q", variant, rep.ReportingMTA, mta)
	}
	if rep.MessageID != messageID {
		t.Errorf("%s: original Message-ID %q, want %q", variant, rep.MessageID, messageID)
	}
	if rep.VERPToken != verp {
		t.Errorf("%s: VERP token %q (envelope to %q), want %q", variant, rep.VERPToken, rep.EnvelopeTo, verp)
	}
	switch {
	case token == "" && len(rep.Tokens) > 0:
		t.Errorf("%s: tokens %v, want none", variant, rep.Tokens)
	case token != "" && (len(rep.Tokens) == 0 || rep.Tokens[0] != token):
		t.Errorf("%s: tokens %v, want %s first", variant, rep.Tokens, token)
	}
}

func TestParseComplaintFields(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtures, "arf-yahoo.eml"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := testParser().Parse(data, Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Complaint
	if c == nil || c.FeedbackType != "abuse" || !slices.Equal(c.OriginalRcptTo, []string{"duong.thao@yahoo.com"}) ||
		c.OriginalMailFrom != "bounces+gh.m3.Cv8bNm0qWer@haiphong.example.org" || c.ReportedDomain != "haiphong.example.org" {
		t.Fatalf("complaint %+v", c)
	}
	if !strings.Contains(rep.ListUnsubscribe, "mailto:unsubscribe@haiphong.example.org") {
		t.Errorf("List-Unsubscribe of the original: %q", rep.ListUnsubscribe)
	}
	aol, _ := os.ReadFile(filepath.Join(fixtures, "arf-aol.eml"))
	rep, _ = testParser().Parse(aol, Envelope{})
	if rep.Complaint.SourceIP != "203.0.113.10" || rep.Complaint.UserAgent != "AOL SComp" || len(rep.Complaint.OriginalRcptTo) != 0 {
		t.Errorf("AOL complaint %+v (its recipient is redacted)", rep.Complaint)
	}
}

// The SMTP envelope, when known, beats the headers: the VERP token comes
// from the RCPT TO.
func TestParseEnvelopeWins(t *testing.T) {
	data, _ := os.ReadFile(filepath.Join(fixtures, "qmail-text.eml"))
	rep, err := testParser().Parse(data, Envelope{From: "", To: "<BOUNCES+zz.q9.Envelope1@haiphong.example.org>"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.VERPToken != "zz.q9.Envelope1" || rep.EnvelopeTo != "BOUNCES+zz.q9.Envelope1@haiphong.example.org" {
		t.Fatalf("token %q, envelope to %q", rep.VERPToken, rep.EnvelopeTo)
	}
	// Without a bounce local part nothing is read as a VERP token.
	rep, _ = (&Parser{}).Parse(data, Envelope{To: "bounces+zz@haiphong.example.org"})
	if rep.VERPToken != "" || rep.Kind != KindBounce {
		t.Fatalf("zero parser: token %q kind %s", rep.VERPToken, rep.Kind)
	}
}

// A report that does not return the original still names it in
// In-Reply-To (Exchange, Gmail).
func TestParseMessageIDFromInReplyTo(t *testing.T) {
	data, _ := os.ReadFile(filepath.Join(fixtures, "exchange-ndr.eml"))
	cut := strings.Index(string(data), "Content-Type: message/rfc822")
	rep, err := testParser().Parse(data[:cut], Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != KindBounce || rep.MessageID != "<hpd.12.351.1772759160@haiphong.example.org>" {
		t.Fatalf("kind %s, Message-ID %q", rep.Kind, rep.MessageID)
	}
}

func TestParseRejectsNonMail(t *testing.T) {
	for _, in := range []string{"", "just some bytes without a header\n", "\x00\x01\x02"} {
		if rep, err := testParser().Parse([]byte(in), Envelope{}); err == nil {
			t.Errorf("%q: parsed as %+v", in, rep)
		}
	}
}

// A truncated report (the pipe or the poller read only the first bytes of
// a huge message) still yields what its first parts say.
func TestParseTruncated(t *testing.T) {
	data, _ := os.ReadFile(filepath.Join(fixtures, "sendmail-dsn.eml"))
	cut := strings.Index(string(data), "Content-Type: message/rfc822")
	rep, err := testParser().Parse(data[:cut+40], Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != KindBounce || len(rep.Recipients) != 1 || rep.Recipients[0].Class != Hard {
		t.Fatalf("%+v", rep)
	}
}

func TestStatusCodesInText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"host 192.5.2.153 said: 550 5.1.1 no such user", "5.1.1"}, // not 5.2.153 of the address
		{"Sorry (#5.1.1).", "5.1.1"},
		{"Microsoft SMTP Server id 15.1.112.19", ""},
		{"version 8.14.4/8.14.4", ""},
		{"550-5.7.26 unauthenticated", "5.7.26"},
		{"said: 554 delivery error", "5.0.0"},
		{"The mailbox is full", "5.2.2"},
		{"452 4.2.2 over quota", "4.2.2"},
		{"nothing to see here", ""},
	} {
		if got, _ := statusIn(tc.in); got != tc.want {
			t.Errorf("statusIn(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		action, status, diag string
		want                 Class
	}{
		{"failed", "5.1.1", "550 5.1.1 user unknown", Hard},
		{"failed", "5.2.2", "552 5.2.2 mailbox full", Soft},
		{"failed", "5.7.1", "554 5.7.1 mailbox is full", Soft},
		{"failed", "4.4.7", "delivery time expired", Soft},
		{"delayed", "4.4.1", "connection timed out", Delayed},
		{"relayed", "2.0.0", "", Delivered},
		{"failed", "5.7.26", "550-5.7.26 unauthenticated sender", Hard},
	} {
		if got := classify(tc.action, tc.status, tc.diag); got != tc.want {
			t.Errorf("classify(%s, %s, %q) = %s, want %s", tc.action, tc.status, tc.diag, got, tc.want)
		}
	}
}
