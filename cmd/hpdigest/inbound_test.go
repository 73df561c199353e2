package main

import (
	"context"
	"fmt"
	"io"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/store"
	"github.com/haiphong/hpdigest/subscribers"
)

const inboundKey = "0123456789abcdef0123456789abcdef-inbound-test"

func inboundConfig(t *testing.T, db string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	cfg := fmt.Sprintf(`database = %q

[http]
base_url = "https://digest.example.org"

[sender]
address = "digest@haiphong.example.org"
unsubscribe_address = "unsubscribe@haiphong.example.org"

[smtp]
envelope_from = "bounces@haiphong.example.org"

[[subscribers.keys]]
id = "k1"
secret = %q

[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"
`, db, inboundKey)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pipe runs the command with msg on standard input, as an MTA pipe does.
func pipe(t *testing.T, msg string, args ...string) (int, string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(msg)
	f.Seek(0, io.SeekStart)
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old; f.Close() }()
	var out, errOut strings.Builder
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String() + errOut.String()
}

func readInboundFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "inbound", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The MTA pipe: an unsubscribe request and a complaint unsubscribe their
// reader (-unsubscribe-mail still works, as an alias); a bounce, an
// auto-reply quoting a valid token and a forged token change nothing; all
// exit 0 so the MTA never bounces them. A database that cannot be opened
// exits 75 so the MTA keeps the message.
func TestInboundMailPipe(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "hp.db")
	cfg := inboundConfig(t, dbPath)
	for _, e := range []string{"a@example.net", "b@example.net", "c@example.net"} {
		if code, out := pipe(t, "", "-config", cfg, "-add-subscriber", e); code != 0 {
			t.Fatalf("add %s: %d %s", e, code, out)
		}
	}
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	subs := subscribers.NewStore(db)
	tokens, err := subscribers.NewTokens([]subscribers.Key{{ID: "k1", Secret: inboundKey}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	get := func(email string) subscribers.Subscriber {
		s, err := subs.ByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	token := func(email string) string { return tokens.Sign(subscribers.PurposeUnsubscribe, get(email).ID) }
	lastEvent := func(email string) subscribers.Event {
		ev, err := subs.Events(ctx, get(email).ID)
		if err != nil || len(ev) == 0 {
			t.Fatal(err)
		}
		return ev[len(ev)-1]
	}

	mailto := strings.ReplaceAll(readInboundFixture(t, "mailto-unsubscribe.eml"), "k2026.9x.t9m2b3.ZaQwSxCdErFvBgTyHnMjUk", token("a@example.net"))
	if code, out := pipe(t, mailto, "-config", cfg, "-unsubscribe-mail"); code != 0 {
		t.Fatalf("mailto: exit %d\n%s", code, out)
	}
	if s := get("a@example.net"); s.Status != subscribers.Unsubscribed || lastEvent("a@example.net").Detail != subscribers.ReasonMailto {
		t.Fatalf("a: %s, %+v", s.Status, lastEvent("a@example.net"))
	}

	arf := strings.ReplaceAll(readInboundFixture(t, "arf-microsoft-jmrp.eml"), "k2026.9v.t9m2b3.MnBvCxZlKjHgFdSaPoIuYt", token("b@example.net"))
	if code, out := pipe(t, arf, "-config", cfg, "-inbound-mail"); code != 0 {
		t.Fatalf("complaint: exit %d\n%s", code, out)
	}
	if s := get("b@example.net"); s.Status != subscribers.Unsubscribed || !strings.Contains(lastEvent("b@example.net").Detail, "complaint") {
		t.Fatalf("b: %s, %+v", s.Status, lastEvent("b@example.net"))
	}

	forged := strings.ReplaceAll(readInboundFixture(t, "mailto-unsubscribe.eml"), "k2026.9x.t9m2b3.ZaQwSxCdErFvBgTyHnMjUk", token("c@example.net")[:len(token("c@example.net"))-3]+"AAA")
	vacation := strings.ReplaceAll(readInboundFixture(t, "ooo-exchange.eml"), "I am out", "unsubscribe "+token("c@example.net")+" I am out")
	for name, msg := range map[string]string{
		"forged token":          forged,
		"bounce":                readInboundFixture(t, "postfix-dsn-user-unknown.eml"),
		"auto-reply with token": vacation,
		"not a mail":            "hello",
	} {
		code, out := pipe(t, msg, "-config", cfg, "-inbound-mail")
		if code != 0 {
			t.Errorf("%s: exit %d (an MTA would bounce it)\n%s", name, code, out)
		}
		if s := get("c@example.net"); s.Status != subscribers.Confirmed {
			t.Fatalf("%s changed c to %s", name, s.Status)
		}
	}

	// The database's directory cannot be made (a file stands in its way).
	os.WriteFile(filepath.Join(dir, "not-a-dir"), nil, 0o600)
	broken := inboundConfig(t, filepath.Join(dir, "not-a-dir", "hp.db"))
	if code, out := pipe(t, mailto, "-config", broken, "-inbound-mail"); code != 75 {
		t.Errorf("database unavailable: exit %d, want 75\n%s", code, out)
	}
	if code, _ := pipe(t, mailto, "-config", filepath.Join(dir, "missing.toml"), "-inbound-mail"); code != 75 {
		t.Errorf("config missing: exit %d, want 75", code)
	}
	if code, _ := pipe(t, "", "-config", filepath.Join(dir, "missing.toml"), "-subscribers"); code != 2 {
		t.Errorf("config missing for another command: exit %d, want 2", code)
	}
}

// The daemon runs the inbound listener: the reader answers the issue it
// got through its List-Unsubscribe mailto, the office MTA relays that mail
// to the listener, and the reader is unsubscribed.
func TestDaemonInboundListenerUnsubscribes(t *testing.T) {
	smtpServer, _, logs, stop := startDaemon(t, func(cfg string) string {
		cfg = strings.Replace(cfg, `schedule = "0 8 * * FRI"`, `schedule = "@every 2s"`, 1)
		return cfg + "\n[inbound]\nlisten = \"127.0.0.1:0\"\n"
	})
	var inboundAddr string
	waitFor(t, "the inbound listener", func() bool {
		if m := regexp.MustCompile(`msg="inbound SMTP listener" addr=(\S+)`).FindStringSubmatch(logs.String()); m != nil {
			inboundAddr = m[1]
		}
		return inboundAddr != ""
	})
	waitFor(t, "the issue to reach the reader", func() bool { return len(smtpServer.For("lan@example.jp")) > 0 })
	m, err := smtpServer.For("lan@example.jp")[0].Parsed()
	if err != nil {
		t.Fatal(err)
	}
	lu := m.Header.Get("List-Unsubscribe")
	i := strings.Index(lu, "<mailto:")
	if i < 0 {
		t.Fatalf("no mailto in List-Unsubscribe %q", lu)
	}
	mailto, err := url.Parse(strings.TrimSuffix(strings.SplitN(lu[i+1:], ">", 2)[0], ">"))
	if err != nil {
		t.Fatal(err)
	}
	// What a mail client makes of the mailto: URL.
	msg := "From: Lan <lan@example.jp>\r\nTo: " + mailto.Opaque + "\r\nSubject: " + mailto.Query().Get("subject") + "\r\n\r\n"
	if err := smtp.SendMail(inboundAddr, nil, "lan@example.jp", []string{mailto.Opaque}, []byte(msg)); err != nil {
		t.Fatalf("the listener refused the unsubscribe mail: %v", err)
	}
	waitFor(t, "the unsubscribe", func() bool { return strings.Contains(logs.String(), "unsubscribed by mail") })
	if err := smtp.SendMail(inboundAddr, nil, "x@example.net", []string{"someone@example.net"}, []byte(msg)); err == nil {
		t.Error("the listener relayed mail for someone@example.net")
	}
	if code := stop(); code != 0 {
		t.Fatalf("daemon exit %d:\n%s", code, logs.String())
	}
	if !strings.Contains(logs.String(), "email=lan@example.jp") {
		t.Errorf("log does not name the reader:\n%s", logs.String())
	}
}
