package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/deliver/inbound"
	"github.com/haiphong/hpdigest/internal/clock"
	"github.com/haiphong/hpdigest/subscribers"
)

const inboundLinkKey = "0123456789abcdef0123456789abcdef-app-inbound"

// inboundApp is the daemon's state for inbound tests: a real SQLite file,
// the link keys (which sign the VERP tokens) and a clock moved by hand.
type inboundApp struct {
	t     *testing.T
	a     *app.App
	clock *clock.Manual
	verp  *deliver.VERP
	logs  *syncBuffer
}

// newInboundApp starts an App on a base config with smtpLines in its
// [smtp] section and cfgTail appended. With dryRun the outbox goes to
// .eml files (the rows are real).
func newInboundApp(t *testing.T, smtpLines, cfgTail string, dryRun bool) *inboundApp {
	t.Helper()
	dir := t.TempDir()
	toml := fmt.Sprintf(`database = %q

[http]
base_url = "https://digest.haiphong.example.org"

[sender]
address = "digest@haiphong.example.org"
unsubscribe_address = "unsubscribe@haiphong.example.org"

[[subscribers.keys]]
id = "k1"
secret = %q

[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"

[smtp]
envelope_from = "bounces@haiphong.example.org"
`, filepath.Join(dir, "hp.db"), inboundLinkKey) + smtpLines + "\n" + cfgTail
	cfg, err := config.Parse("inbound.toml", []byte(toml))
	if err != nil {
		t.Fatal(err)
	}
	ia := &inboundApp{t: t, clock: clock.NewManual(time.Date(2026, 3, 6, 8, 0, 0, 0, time.UTC)), logs: &syncBuffer{}}
	opts := app.Options{Log: slog.New(slog.NewTextHandler(ia.logs, nil)), Clock: ia.clock}
	if dryRun {
		opts.DryRunDir = filepath.Join(dir, "outbox")
	}
	if ia.a, err = app.New(context.Background(), cfg, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ia.a.Close() })
	if ia.verp, err = deliver.NewVERP([]deliver.VERPKey{{Secret: inboundLinkKey}}); err != nil {
		t.Fatal(err)
	}
	return ia
}

func (ia *inboundApp) add(email string) subscribers.Subscriber {
	ia.t.Helper()
	s, err := ia.a.Subscribers.Add(context.Background(), subscribers.Subscriber{Email: email})
	if err != nil {
		ia.t.Fatal(err)
	}
	return s
}

func (ia *inboundApp) reader(id int64) subscribers.Subscriber {
	ia.t.Helper()
	s, err := ia.a.Subscribers.Get(context.Background(), id)
	if err != nil {
		ia.t.Fatal(err)
	}
	return s
}

// events counts a reader's events of kind.
func (ia *inboundApp) events(id int64, kind string) int {
	ev, err := ia.a.Subscribers.Events(context.Background(), id)
	if err != nil {
		ia.t.Fatal(err)
	}
	n := 0
	for _, e := range ev {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// send mails issue issueID to every confirmed reader through the engine.
func (ia *inboundApp) send(issueID int64) {
	ia.t.Helper()
	ctx := context.Background()
	sum, err := ia.a.Engine.Send(ctx, deliver.Job{IssueID: issueID,
		Recipients: func(ctx context.Context, after int64, limit int) ([]deliver.Recipient, error) {
			subs, err := ia.a.Subscribers.ConfirmedAfter(ctx, after, limit)
			out := make([]deliver.Recipient, len(subs))
			for i, s := range subs {
				out[i] = deliver.Recipient{SubscriberID: s.ID, Email: s.Email}
			}
			return out, err
		},
		Compose: func(_ context.Context, r deliver.Recipient) (*deliver.Message, error) {
			return &deliver.Message{FromName: "Hai Phong Digest", FromAddress: "digest@haiphong.example.org", To: r.Email,
				Subject: fmt.Sprintf("Hai Phong Digest no. %d", issueID), Text: "Xin chào", MessageIDDomain: "haiphong.example.org",
				Headers: map[string]string{"List-Unsubscribe": "<" + ia.a.Cfg().HTTP.BaseURL + "/unsubscribe/" + ia.a.Tokens.Sign(subscribers.PurposeUnsubscribe, r.SubscriberID) + ">"}}, nil
		}})
	if err != nil || sum.Failed > 0 {
		ia.t.Fatalf("send issue %d: %+v %v", issueID, sum, err)
	}
}

func (ia *inboundApp) delivery(issueID, sid int64) deliver.Delivery {
	ia.t.Helper()
	d, err := ia.a.Engine.Delivery(context.Background(), issueID, sid)
	if err != nil {
		ia.t.Fatal(err)
	}
	return d
}

func (ia *inboundApp) outcomes(issueID, sid int64) []deliver.Outcome {
	ia.t.Helper()
	o, err := ia.a.Engine.Outcomes(context.Background(), issueID, sid)
	if err != nil {
		ia.t.Fatal(err)
	}
	return o
}

// process hands one raw message to the daemon's inbound processor, as
// the listener, the IMAP poller and the pipe do.
func (ia *inboundApp) process(raw string, to string) {
	ia.t.Helper()
	if err := ia.a.InboundProcessor().Process(context.Background(), []byte(raw), inbound.Envelope{From: "", To: to}); err != nil {
		ia.t.Fatalf("process: %v", err)
	}
}

// dsn is what a mail system sends back: an RFC 3464 report about one
// recipient, with the original's header returned.
type dsn struct {
	id, to               string // its own Message-ID; where it is addressed
	rcpt, status, action string
	diag, mta            string
	original             string // the returned original's Message-ID ("": not returned)
}

func (d dsn) String() string {
	if d.action == "" {
		d.action = "failed"
	}
	if d.mta == "" {
		d.mta = "mx.readers.example"
	}
	var orig string
	if d.original != "" {
		orig = "--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: Hai Phong Digest <digest@haiphong.example.org>\r\nTo: " + d.rcpt +
			"\r\nSubject: Hai Phong Digest\r\nMessage-ID: " + d.original + "\r\n\r\n"
	}
	return "From: MAILER-DAEMON@" + d.mta + "\r\nTo: " + d.to + "\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"Message-ID: " + d.id + "\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host " + d.mta + ".\r\n\r\n" +
		"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; " + d.mta + "\r\n\r\n" +
		"Final-Recipient: rfc822; " + d.rcpt + "\r\nAction: " + d.action + "\r\nStatus: " + d.status + "\r\n" +
		"Diagnostic-Code: smtp; " + d.diag + "\r\n\r\n" + orig + "--B--\r\n"
}

// arf is a spam complaint (RFC 5965) returning the whole original.
func arf(id, rcpt, messageID, returnPath, unsubToken string) string {
	return "From: Yahoo! Mail <feedback@arf.mail.yahoo.example>\r\nTo: fbl@haiphong.example.org\r\nSubject: FW: Hai Phong Digest\r\n" +
		"Message-ID: " + id + "\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n\r\n" +
		"--F\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n\r\n" +
		"--F\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: Yahoo!-Mail-Feedback/2.0\r\nVersion: 1\r\n\r\n" +
		"--F\r\nContent-Type: message/rfc822\r\n\r\nReturn-Path: <" + returnPath + ">\r\nFrom: Hai Phong Digest <digest@haiphong.example.org>\r\nTo: " + rcpt + "\r\n" +
		"Subject: Hai Phong Digest\r\nMessage-ID: " + messageID + "\r\n" +
		"List-Unsubscribe: <https://digest.haiphong.example.org/unsubscribe/" + unsubToken + ">\r\n\r\nXin chào\r\n--F--\r\n"
}

const bounceBase = "bounces@haiphong.example.org"

// The handler's decisions, one report after another: hard bounces count
// toward bounce_limit once per delivery (a report offered again, or a
// second report about the same delivery, counts nothing); soft bounces
// make a reader bounced only at soft_bounce_limit within
// soft_bounce_window; a complaint unsubscribes; a delay and an
// auto-reply only note or drop; forged and foreign tokens change nothing;
// a bounce without a token finds its delivery by Message-ID, else by the
// failed address.
func TestInboundHandlerDecisions(t *testing.T) {
	ia := newInboundApp(t, "", `
[subscribers]
bounce_limit = 2
soft_bounce_limit = 3
soft_bounce_window = "240h"
`, true)
	hard, soft, compl, other, quiet, old := ia.add("hard@readers.example"), ia.add("soft@readers.example"),
		ia.add("angry@readers.example"), ia.add("other@readers.example"), ia.add("quiet@readers.example"), ia.add("old@readers.example")
	for i := int64(1); i <= 5; i++ {
		ia.send(i)
	}
	verpTo := func(issue, sid int64) string { return ia.verp.Address(bounceBase, issue, sid) }
	day := func(n int) { ia.clock.Set(time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC).AddDate(0, 0, n)) }
	unsub := func(id int64) string { return ia.a.Tokens.Sign(subscribers.PurposeUnsubscribe, id) }

	type want struct {
		reader            int64
		status            string
		bounceCount       int
		kind              string // a reader event kind ...
		kindEvents        int    // ... and how many of it
		issue             int64  // a delivery ...
		deliveryOutcomes  int    // ... and its recorded outcomes
		deliveryLastKind  string
		deliveryLastFound string
	}
	steps := []struct {
		name string
		day  int
		msg  string
		to   string
		want want
	}{
		{"hard bounce 1 of 2", 0,
			dsn{id: "<d1@mx>", to: verpTo(1, hard.ID), rcpt: hard.Email, status: "5.1.1", diag: "550 5.1.1 user unknown"}.String(), verpTo(1, hard.ID),
			want{hard.ID, subscribers.Confirmed, 1, subscribers.EventBounce, 1, 1, 1, deliver.OutcomeHardBounce, deliver.FoundByVERP}},
		{"the same report again (IMAP after a crash)", 0,
			dsn{id: "<d1@mx>", to: verpTo(1, hard.ID), rcpt: hard.Email, status: "5.1.1", diag: "550 5.1.1 user unknown"}.String(), verpTo(1, hard.ID),
			want{hard.ID, subscribers.Confirmed, 1, subscribers.EventBounce, 1, 1, 1, deliver.OutcomeHardBounce, deliver.FoundByVERP}},
		{"a second report about the same delivery", 0,
			dsn{id: "<d1b@other-mx>", to: verpTo(1, hard.ID), rcpt: hard.Email, status: "5.1.1", diag: "550 no such user", mta: "other-mx.example"}.String(), verpTo(1, hard.ID),
			want{hard.ID, subscribers.Confirmed, 1, subscribers.EventBounce, 1, 1, 2, deliver.OutcomeHardBounce, deliver.FoundByVERP}},
		{"hard bounce 2 of 2: bounced", 1,
			dsn{id: "<d2@mx>", to: verpTo(2, hard.ID), rcpt: hard.Email, status: "5.1.1", diag: "550 5.1.1 user unknown"}.String(), verpTo(2, hard.ID),
			want{hard.ID, subscribers.Bounced, 2, subscribers.EventBounce, 2, 2, 1, deliver.OutcomeHardBounce, deliver.FoundByVERP}},

		{"soft bounce 1 of 3 (day 0)", 0,
			dsn{id: "<s1@mx>", to: verpTo(1, soft.ID), rcpt: soft.Email, status: "4.2.2", diag: "452 4.2.2 mailbox full"}.String(), verpTo(1, soft.ID),
			want{soft.ID, subscribers.Confirmed, 0, subscribers.EventSoftBounce, 1, 1, 1, deliver.OutcomeSoftBounce, deliver.FoundByVERP}},
		{"soft bounce 2 (day 5)", 5,
			dsn{id: "<s2@mx>", to: verpTo(2, soft.ID), rcpt: soft.Email, status: "5.2.2", diag: "552 5.2.2 over quota"}.String(), verpTo(2, soft.ID),
			want{soft.ID, subscribers.Confirmed, 0, subscribers.EventSoftBounce, 2, 2, 1, deliver.OutcomeSoftBounce, deliver.FoundByVERP}},
		{"soft bounce 3 (day 12): the first is out of the 10-day window", 12,
			dsn{id: "<s3@mx>", to: verpTo(3, soft.ID), rcpt: soft.Email, status: "4.2.2", diag: "452 4.2.2 mailbox full"}.String(), verpTo(3, soft.ID),
			want{soft.ID, subscribers.Confirmed, 0, subscribers.EventSoftBounce, 3, 3, 1, deliver.OutcomeSoftBounce, deliver.FoundByVERP}},
		{"soft bounce 4 (day 14): three within ten days: bounced", 14,
			dsn{id: "<s4@mx>", to: verpTo(4, soft.ID), rcpt: soft.Email, status: "4.2.2", diag: "452 4.2.2 mailbox full"}.String(), verpTo(4, soft.ID),
			want{soft.ID, subscribers.Bounced, 0, subscribers.EventSoftBounce, 4, 4, 1, deliver.OutcomeSoftBounce, deliver.FoundByVERP}},

		{"complaint: unsubscribed", 14,
			arf("<c1@fbl>", "redacted@yahoo.example", ia.delivery(3, compl.ID).MessageID, verpTo(3, compl.ID), unsub(compl.ID)), "fbl@haiphong.example.org",
			want{compl.ID, subscribers.Unsubscribed, 0, subscribers.EventComplained, 1, 3, 1, deliver.OutcomeComplaint, deliver.FoundByVERP}},
		{"the same complaint again", 15,
			arf("<c1@fbl>", "redacted@yahoo.example", ia.delivery(3, compl.ID).MessageID, verpTo(3, compl.ID), unsub(compl.ID)), "fbl@haiphong.example.org",
			want{compl.ID, subscribers.Unsubscribed, 0, subscribers.EventComplained, 1, 3, 1, deliver.OutcomeComplaint, deliver.FoundByVERP}},

		{"a delay: noted on the delivery only", 15,
			dsn{id: "<w1@mx>", to: verpTo(5, quiet.ID), rcpt: quiet.Email, status: "4.4.1", action: "delayed", diag: "connect timed out"}.String(), verpTo(5, quiet.ID),
			want{quiet.ID, subscribers.Confirmed, 0, subscribers.EventSoftBounce, 0, 5, 1, deliver.OutcomeDelayed, deliver.FoundByVERP}},
		{"an auto-reply to the VERP address: dropped", 15,
			"From: Quiet <quiet@readers.example>\r\nTo: " + verpTo(4, quiet.ID) + "\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo@readers>\r\n\r\nI am away until March.\r\n", verpTo(4, quiet.ID),
			want{quiet.ID, subscribers.Confirmed, 0, subscribers.EventBounce, 0, 4, 0, "", ""}},
		{"a forged token (bad MAC) naming a reader", 15,
			dsn{id: "<f1@evil>", to: "bounces+" + strings.Repeat("a", 22) + "@haiphong.example.org", rcpt: other.Email, status: "5.1.1", diag: "550 user unknown"}.String(), "bounces+" + strings.Repeat("a", 22) + "@haiphong.example.org",
			want{other.ID, subscribers.Confirmed, 0, subscribers.EventBounce, 0, 5, 0, "", ""}},
		{"another reader's token naming this reader", 15,
			dsn{id: "<f2@evil>", to: verpTo(5, quiet.ID), rcpt: other.Email, status: "5.1.1", diag: "550 user unknown"}.String(), verpTo(5, quiet.ID),
			want{other.ID, subscribers.Confirmed, 0, subscribers.EventBounce, 0, 5, 0, "", ""}},
		{"... and it left the token's reader alone too", 15,
			dsn{id: "<f2@evil>", to: verpTo(5, quiet.ID), rcpt: other.Email, status: "5.1.1", diag: "550 user unknown"}.String(), verpTo(5, quiet.ID),
			want{quiet.ID, subscribers.Confirmed, 0, subscribers.EventBounce, 0, 5, 1, deliver.OutcomeDelayed, deliver.FoundByVERP}},
		{"a Message-ID of ours that was never sent", 15,
			dsn{id: "<f3@evil>", to: bounceBase, rcpt: other.Email, status: "5.1.1", diag: "550 user unknown", original: "<hpd.5." + fmt.Sprint(other.ID) + ".0000000000000000@haiphong.example.org>"}.String(), bounceBase,
			want{other.ID, subscribers.Confirmed, 0, subscribers.EventBounce, 0, 5, 0, "", ""}},

		{"no token: found by the returned Message-ID", 15,
			dsn{id: "<m1@mx>", to: bounceBase, rcpt: old.Email, status: "5.7.1", diag: "550 5.7.1 rejected by policy", original: ia.delivery(2, old.ID).MessageID}.String(), bounceBase,
			want{old.ID, subscribers.Confirmed, 1, subscribers.EventBounce, 1, 2, 1, deliver.OutcomeHardBounce, deliver.FoundByMessageID}},
		{"no token, no original: the failed address's newest delivery", 16,
			dsn{id: "<r1@mx>", to: bounceBase, rcpt: old.Email, status: "5.1.1", diag: "550 5.1.1 user unknown"}.String(), bounceBase,
			want{old.ID, subscribers.Bounced, 2, subscribers.EventBounce, 2, 5, 1, deliver.OutcomeHardBounce, deliver.FoundByRecipient}},
	}
	for _, s := range steps {
		day(s.day)
		ia.process(s.msg, s.to)
		w := s.want
		r := ia.reader(w.reader)
		if r.Status != w.status || r.BounceCount != w.bounceCount {
			t.Errorf("%s: reader %s is %s with %d bounces, want %s with %d", s.name, r.Email, r.Status, r.BounceCount, w.status, w.bounceCount)
		}
		if n := ia.events(w.reader, w.kind); n != w.kindEvents {
			t.Errorf("%s: reader %s has %d %s events, want %d", s.name, r.Email, n, w.kind, w.kindEvents)
		}
		outs := ia.outcomes(w.issue, w.reader)
		if len(outs) != w.deliveryOutcomes {
			t.Errorf("%s: issue %d to %s has %d outcomes, want %d: %+v", s.name, w.issue, r.Email, len(outs), w.deliveryOutcomes, outs)
		} else if len(outs) > 0 {
			if last := outs[len(outs)-1]; last.Kind != w.deliveryLastKind || last.FoundBy != w.deliveryLastFound {
				t.Errorf("%s: last outcome %+v, want %s found by %s", s.name, last, w.deliveryLastKind, w.deliveryLastFound)
			}
		}
	}
	// The reader's events carry the report's code and reporting MTA.
	ev, _ := ia.a.Subscribers.Events(context.Background(), hard.ID)
	var seen bool
	for _, e := range ev {
		if e.Kind == subscribers.EventBounce && e.Status == "5.1.1" && e.ReportingMTA == "mx.readers.example" && strings.Contains(e.Detail, "user unknown") {
			seen = true
		}
	}
	if !seen {
		t.Errorf("hard@'s events do not show the code and MTA: %+v", ev)
	}
	// Nothing of the forged reports reached anybody.
	if n := ia.events(other.ID, subscribers.EventBounce) + ia.events(other.ID, subscribers.EventComplained); n != 0 {
		t.Errorf("other@ has %d bounce or complaint events", n)
	}
	counts, err := ia.a.Engine.IssueOutcomes(context.Background(), []int64{1, 2, 3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	if c := counts[1]; c.HardBounces != 1 || c.SoftBounces != 1 {
		t.Errorf("issue 1 outcomes %+v", c)
	}
	if c := counts[3]; c.Complaints != 1 || c.SoftBounces != 1 {
		t.Errorf("issue 3 outcomes %+v", c)
	}
	if !strings.Contains(ia.logs.String(), "nothing recorded") {
		t.Errorf("the forged reports were not logged as refused:\n%s", ia.logs.String())
	}
}
