package inbound

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/haiphong/hpdigest/internal/dovecottest"
)

// mailbox is a test's own IMAP session, to put mail in and look.
type mailbox struct {
	t *testing.T
	c *imapclient.Client
}

func openMailbox(t *testing.T, addr, user, pass string) *mailbox {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	return &mailbox{t, c}
}

func (m *mailbox) append(folder string, msg []byte) {
	m.t.Helper()
	cmd := m.c.Append(folder, int64(len(msg)), nil)
	if _, err := cmd.Write(msg); err != nil {
		m.t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		m.t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		m.t.Fatalf("append to %s: %v", folder, err)
	}
}

func (m *mailbox) count(folder string) int {
	m.t.Helper()
	st, err := m.c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return -1 // no such folder
	}
	return int(*st.NumMessages)
}

// flags returns the flags of every message in folder.
func (m *mailbox) flags(folder string) [][]imap.Flag {
	m.t.Helper()
	if _, err := m.c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		m.t.Fatal(err)
	}
	msgs, err := m.c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		m.t.Fatal(err)
	}
	var out [][]imap.Flag
	for _, msg := range msgs {
		out = append(out, msg.Flags)
	}
	m.c.Unselect().Wait()
	return out
}

func imapConfig(addr, user, pass string) IMAPConfig {
	host, port, _ := net.SplitHostPort(addr)
	c := IMAPConfig{Host: host, TLS: "none", Username: user, Password: pass, PasswordEnv: "X"}
	c.Port, _ = strconv.Atoi(port)
	c.defaults()
	return c
}

// A DSN and an ARF complaint put in the mailbox are processed once and
// moved; a second poll, and a poller started afresh (a restart), find
// nothing to do. A message the handler cannot take now stays for the next
// poll.
func TestIMAPPollMovesProcessedMail(t *testing.T) {
	dc := dovecottest.Start(t)
	addr, user, pass := dc.Addr, dc.Username, dc.Password
	box := openMailbox(t, addr, user, pass)
	box.append("INBOX", fixture(t, "postfix-dsn-user-unknown.eml"))
	box.append("INBOX", fixture(t, "arf-yahoo.eml"))
	box.append("INBOX", fixture(t, "vacation-gmail.eml"))

	cfg := imapConfig(addr, user, pass)
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	h := &recorder{}
	proc := &Processor{Parser: testParser(), Handler: h, Log: quietLog()}
	ctx := context.Background()
	res, err := NewPoller(cfg, proc, 1<<20).Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := h.got()
	if res.Processed != 3 || len(got) != 2 || got[0].Kind != KindBounce || got[1].Kind != KindComplaint {
		t.Fatalf("first poll: %+v, handler got %d reports", res, len(got))
	}
	if got[0].MessageID != "<hpd.12.345.1772758839@haiphong.example.org>" || got[1].Tokens[0] != "k2026.9t.t9m2b3.QwErTyUiOpAsDfGhJkLzXc" {
		t.Errorf("reports: %+v / %+v", got[0], got[1])
	}
	if n, moved := box.count("INBOX"), box.count(cfg.MoveTo); n != 0 || moved != 3 {
		t.Fatalf("INBOX holds %d, %s holds %d; want 0 and 3", n, cfg.MoveTo, moved)
	}
	for i := 0; i < 2; i++ { // the same poller again, then a new one
		res, err = NewPoller(cfg, proc, 1<<20).Poll(ctx)
		if err != nil || res.Processed != 0 || len(h.got()) != 2 {
			t.Fatalf("poll %d after: %+v %v, handler got %d", i+2, res, err, len(h.got()))
		}
	}

	// The database is busy: the message stays for the next poll.
	box.append("INBOX", fixture(t, "qmail-text.eml"))
	h.setFailing(true)
	res, err = NewPoller(cfg, proc, 1<<20).Poll(ctx)
	if err != nil || res.Deferred != 1 || res.Processed != 0 || box.count("INBOX") != 1 {
		t.Fatalf("poll with a failing handler: %+v %v, INBOX %d", res, err, box.count("INBOX"))
	}
	h.setFailing(false)
	res, err = NewPoller(cfg, proc, 1<<20).Poll(ctx)
	if err != nil || res.Processed != 1 || box.count("INBOX") != 0 || len(h.got()) != 3 {
		t.Fatalf("poll after recovery: %+v %v, INBOX %d", res, err, box.count("INBOX"))
	}
}

// With processed = "flag" the mail stays in its folder, \Seen and with the
// keyword, and is not processed again.
func TestIMAPPollFlagsProcessedMail(t *testing.T) {
	dc := dovecottest.Start(t)
	addr, user, pass := dc.Addr, dc.Username, dc.Password
	box := openMailbox(t, addr, user, pass)
	if err := box.c.Create("Bounces", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	box.append("Bounces", fixture(t, "exchange-ndr.eml"))
	box.append("Bounces", fixture(t, "arf-aol.eml"))

	cfg := imapConfig(addr, user, pass)
	cfg.Folder, cfg.Processed = "Bounces", "flag"
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	h := &recorder{}
	proc := &Processor{Parser: testParser(), Handler: h, Log: quietLog()}
	for i, want := range []int{2, 0} {
		res, err := NewPoller(cfg, proc, 1<<20).Poll(context.Background())
		if err != nil || res.Processed != want {
			t.Fatalf("poll %d: %+v %v, want %d processed", i+1, res, err, want)
		}
	}
	if n := len(h.got()); n != 2 {
		t.Fatalf("handler got %d reports, want 2", n)
	}
	flags := box.flags("Bounces")
	if len(flags) != 2 {
		t.Fatalf("Bounces holds %d messages, want 2", len(flags))
	}
	for _, f := range flags {
		if !slices.Contains(f, imap.FlagSeen) || !slices.Contains(f, imap.Flag(cfg.Keyword)) {
			t.Errorf("flags %v, want \\Seen and %s", f, cfg.Keyword)
		}
	}
}

func TestIMAPLoginFailureIsAnError(t *testing.T) {
	dc := dovecottest.Start(t)
	addr, user := dc.Addr, dc.Username
	cfg := imapConfig(addr, user, "wrong")
	_, err := NewPoller(cfg, &Processor{Parser: testParser(), Handler: &recorder{}, Log: quietLog()}, 1<<20).Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "imap login as bounces") {
		t.Fatalf("wrong password: %v", err)
	}
}
