package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-msgauth/dkim"

	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/deliver/dkimkey"
	"github.com/haiphong/hpdigest/digest/deliver/inbound"
	"github.com/haiphong/hpdigest/internal/daemontest"
	"github.com/haiphong/hpdigest/internal/dovecottest"
	"github.com/haiphong/hpdigest/internal/postfixtest"
	"github.com/haiphong/hpdigest/internal/smtptest"
	"github.com/haiphong/hpdigest/subscribers"
)

// writeDKIMKey makes a key with -dkim-keygen's code and returns its file
// and the TXT record that publishes it.
func writeDKIMKey(t *testing.T, dir, selector, algo string) (path, txt string) {
	t.Helper()
	key, err := dkimkey.Generate(algo)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, selector+".pem")
	if err := dkimkey.WriteNew(path, key); err != nil {
		t.Fatal(err)
	}
	if txt, err = dkimkey.Record(key.Public()); err != nil {
		t.Fatal(err)
	}
	return path, txt
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s:\n%s", what, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The engine sends an issue through a real Postfix. For a reader whose
// address does not exist Postfix accepts the message, fails to deliver
// it, and sends its own DSN to the VERP envelope sender, which it relays
// (transport map) to the daemon's inbound listener: the delivery row and
// the reader show the hard bounce, and the reader is bounced. The
// message for a reader whose mailbox exists arrives with the VERP
// envelope sender and two DKIM signatures (RSA and Ed25519) that verify
// with go-msgauth after Postfix handled it; a second From added to it
// breaks both.
func TestPostfixBounceAndDKIMThroughRealPostfix(t *testing.T) {
	listen := fmt.Sprintf("127.0.0.1:%d", daemontest.FreePort(t))
	mailboxes := smtptest.Start(t)
	pf := postfixtest.Start(t, postfixtest.Options{Hostname: "mail.haiphong.example.org",
		Relay: []string{"haiphong.example.org"}, RelayTo: listen,
		Routes: map[string]string{"inbox.test.example": net.JoinHostPort(mailboxes.Host, fmt.Sprint(mailboxes.Port))}})
	host, port, _ := net.SplitHostPort(pf.Addr)
	dir := t.TempDir()
	rsaFile, rsaTXT := writeDKIMKey(t, dir, "hp2026r", "rsa")
	edFile, edTXT := writeDKIMKey(t, dir, "hp2026e", "ed25519")
	records := map[string]string{
		dkimkey.Name("hp2026r", "haiphong.example.org"): rsaTXT,
		dkimkey.Name("hp2026e", "haiphong.example.org"): edTXT,
	}
	ia := newInboundApp(t, fmt.Sprintf(`host = %q
port = %s
tls = "none"
timeout = "10s"

[smtp.dkim]
domain = "haiphong.example.org"

[[smtp.dkim.keys]]
selector = "hp2026r"
algorithm = "rsa"
private_key_file = %q

[[smtp.dkim.keys]]
selector = "hp2026e"
algorithm = "ed25519"
private_key_file = %q
`, host, port, rsaFile, edFile), fmt.Sprintf(`
[subscribers]
bounce_limit = 1

[inbound]
listen = %q
`, listen), false)
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := ia.a.StartInbound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); wait() }()

	dead := ia.add("nosuchuser@readers.test.example")
	lan := ia.add("lan@inbox.test.example")
	ia.send(1)
	logs := func() string { return pf.Log() + "\n" + ia.logs.String() }

	waitFor(t, "the DSN to reach the listener and be recorded", 60*time.Second, func() bool { return len(ia.outcomes(1, dead.ID)) > 0 }, logs)
	o := ia.outcomes(1, dead.ID)[0]
	if o.Kind != deliver.OutcomeHardBounce || o.FoundBy != deliver.FoundByVERP || o.Status != "5.1.1" || o.ReportingMTA != "mail.haiphong.example.org" ||
		!strings.Contains(o.Reason, "unknown user") {
		t.Errorf("delivery outcome %+v", o)
	}
	r := ia.reader(dead.ID)
	if r.Status != subscribers.Bounced || r.BounceCount != 1 {
		t.Errorf("reader %s: %s, %d bounces", r.Email, r.Status, r.BounceCount)
	}
	ev, _ := ia.a.Subscribers.Events(context.Background(), dead.ID)
	var shown bool
	for _, e := range ev {
		shown = shown || e.Kind == subscribers.EventBounce && e.Status == "5.1.1" && e.ReportingMTA == "mail.haiphong.example.org"
	}
	if !shown {
		t.Errorf("the reader's events do not show the bounce with its code and MTA: %+v", ev)
	}

	waitFor(t, "the message to reach lan's mailbox", 30*time.Second, func() bool { return len(mailboxes.For(lan.Email)) > 0 }, logs)
	got := mailboxes.For(lan.Email)[0]
	token, ok := strings.CutPrefix(strings.Split(got.From, "@")[0], "bounces+")
	if !ok {
		t.Fatalf("envelope sender %q is not a VERP address", got.From)
	}
	if iss, sid, err := ia.verp.Check(token); err != nil || iss != 1 || sid != lan.ID {
		t.Errorf("the VERP token of %q names %d/%d (%v)", got.From, iss, sid, err)
	}
	if !bytes.Contains(got.Data, []byte("Received: from ")) {
		t.Errorf("the message does not show Postfix's Received header:\n%s", got.Data[:min(len(got.Data), 800)])
	}
	lookup := &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if r, ok := records[name]; ok {
			return []string{r}, nil
		}
		return nil, fmt.Errorf("no record at %s", name)
	}}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(got.Data), lookup)
	if err != nil || len(vs) != 2 {
		t.Fatalf("DKIM: %v, %d signatures", err, len(vs))
	}
	for _, v := range vs {
		if v.Err != nil {
			t.Errorf("a signature fails after Postfix: %v", v.Err)
		}
	}
	vs, _ = dkim.VerifyWithOptions(bytes.NewReader(append([]byte("From: <ceo@haiphong.example.org>\r\n"), got.Data...)), lookup)
	for _, v := range vs {
		if v.Err == nil {
			t.Error("a signature still verifies with a second From added")
		}
	}
}

// imapLogin opens a session on the test's dovecot, closed when the test ends.
func imapLogin(t *testing.T, dc *dovecottest.Server) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(dc.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(dc.Username, dc.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// imapAppend puts messages in a folder of the test's dovecot.
func imapAppend(t *testing.T, dc *dovecottest.Server, folder string, msgs ...string) {
	t.Helper()
	c := imapLogin(t, dc)
	for _, m := range msgs {
		cmd := c.Append(folder, int64(len(m)), nil)
		cmd.Write([]byte(m))
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

func imapCount(t *testing.T, dc *dovecottest.Server, folder string) int {
	t.Helper()
	st, err := imapLogin(t, dc).Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return -1
	}
	return int(*st.NumMessages)
}

// A hosted bounce mailbox (dovecot over IMAP): a DSN, the same DSN a
// second time (a mailbox that offers it again) and an ARF complaint are
// processed once each and moved; the delivery rows and the readers show
// one hard bounce and one complaint, and a second poll finds nothing.
func TestIMAPMailboxReportsRecordedOnce(t *testing.T) {
	dc := dovecottest.Start(t)
	host, port, _ := net.SplitHostPort(dc.Addr)
	t.Setenv("HPDIGEST_TEST_IMAP_PASSWORD", dc.Password)
	ia := newInboundApp(t, "", fmt.Sprintf(`
[subscribers]
bounce_limit = 3

[inbound.imap]
host = %q
port = %s
tls = "none"
username = %q
password_env = "HPDIGEST_TEST_IMAP_PASSWORD"
`, host, port, dc.Username), true)
	dead, angry, calm := ia.add("gone@readers.example"), ia.add("angry@readers.example"), ia.add("calm@readers.example")
	ia.send(1)
	verpTo := ia.verp.Address(bounceBase, 1, dead.ID)
	// A hosted mailbox keeps the envelope recipient in Delivered-To.
	bounce := "Delivered-To: " + verpTo + "\r\n" + dsn{id: "<dsn-77@mx.readers.example>", to: verpTo, rcpt: dead.Email,
		status: "5.1.1", diag: "550 5.1.1 <gone@readers.example>: Recipient address rejected: User unknown"}.String()
	complaint := arf("<arf-5@fbl.yahoo.example>", "redacted", ia.delivery(1, angry.ID).MessageID,
		ia.verp.Address(bounceBase, 1, angry.ID), ia.a.Tokens.Sign(subscribers.PurposeUnsubscribe, angry.ID))
	imapAppend(t, dc, "INBOX", bounce, complaint, bounce)

	poll := func() inbound.PollResult {
		t.Helper()
		res, err := inbound.NewPoller(ia.a.Cfg().Inbound.IMAP, ia.a.InboundProcessor(), ia.a.Cfg().Inbound.MaxMessageBytes).Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := poll(); res.Processed != 3 || res.Deferred != 0 {
		t.Fatalf("first poll: %+v\n%s", res, ia.logs.String())
	}
	if n, moved := imapCount(t, dc, "INBOX"), imapCount(t, dc, ia.a.Cfg().Inbound.IMAP.MoveTo); n != 0 || moved != 3 {
		t.Errorf("INBOX holds %d, %s holds %d; want 0 and 3", n, ia.a.Cfg().Inbound.IMAP.MoveTo, moved)
	}
	if res := poll(); res.Processed != 0 {
		t.Errorf("second poll processed %d", res.Processed)
	}

	if r := ia.reader(dead.ID); r.BounceCount != 1 || r.Status != subscribers.Confirmed || ia.events(dead.ID, subscribers.EventBounce) != 1 {
		t.Errorf("gone@: %s with %d bounces and %d bounce events; want confirmed, 1 and 1", r.Status, r.BounceCount, ia.events(dead.ID, subscribers.EventBounce))
	}
	if os := ia.outcomes(1, dead.ID); len(os) != 1 || os[0].Kind != deliver.OutcomeHardBounce || os[0].ReportID != "<dsn-77@mx.readers.example>" {
		t.Errorf("gone@'s delivery: %+v", os)
	}
	if r := ia.reader(angry.ID); r.Status != subscribers.Unsubscribed || ia.events(angry.ID, subscribers.EventComplained) != 1 {
		t.Errorf("angry@: %s with %d complaint events", r.Status, ia.events(angry.ID, subscribers.EventComplained))
	}
	if os := ia.outcomes(1, angry.ID); len(os) != 1 || os[0].Kind != deliver.OutcomeComplaint || os[0].ReportingMTA != "Yahoo!-Mail-Feedback/2.0" {
		t.Errorf("angry@'s delivery: %+v", os)
	}
	if r := ia.reader(calm.ID); r.Status != subscribers.Confirmed || len(ia.outcomes(1, calm.ID)) != 0 {
		t.Errorf("calm@ was touched: %s", r.Status)
	}
}
