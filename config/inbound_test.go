package config

import (
	"strings"
	"testing"
)

// The [inbound] section takes its addresses from the rest of the config
// unless told otherwise.
func TestInboundDefaultsFromSenderAndEnvelope(t *testing.T) {
	src := strings.Replace(valid, `host = "smtp.example.org"`, `host = "smtp.example.org"
envelope_from = "bounces@mail.example.org"`, 1) + `
[inbound]
listen = "127.0.0.1:2526"
`
	c, err := Parse("test.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	in := c.Inbound
	if in.BounceLocalPart != "bounces" || in.UnsubscribeLocalPart != "digest" ||
		strings.Join(in.Domains, ",") != "mail.example.org,example.org" {
		t.Fatalf("defaults: %+v", in)
	}
	if !in.Accepts("bounces+abc.def@mail.example.org") || !in.Accepts("DIGEST@example.org") ||
		in.Accepts("bounces@elsewhere.example") || in.Accepts("postmaster@example.org") || in.Accepts("bounces+@example.org") {
		t.Error("Accepts takes the wrong addresses")
	}
	if in.IMAP.Host != "" || in.IMAP.Port != 993 || in.IMAP.Processed != "move" {
		t.Errorf("imap defaults: %+v", in.IMAP)
	}
}

func TestInboundErrorsNameKeyAndLine(t *testing.T) {
	t.Setenv("HP_IMAP_PW", "secret")
	base := valid + `
[inbound]
listen = "127.0.0.1:2526"
max_message_bytes = 10485760

[inbound.imap]
host = "imap.example.org"
username = "bounces@example.org"
password_env = "HP_IMAP_PW"
processed = "move"
poll_interval = "5m"

[dns_check]
resolver = "127.0.0.1:5353"
`
	if _, err := Parse("test.toml", []byte(base)); err != nil {
		t.Fatalf("the base config: %v", err)
	}
	for _, tc := range []struct{ name, edit, want string }{
		{"listen", `listen = "127.0.0.1:2526"|listen = "2526"`, `line 24: inbound.listen: "2526" is not host:port`},
		{"size", `max_message_bytes = 10485760|max_message_bytes = 1000`, `line 25: inbound.max_message_bytes: 1000 is too small`},
		{"tls mode", `processed = "move"|processed = "delete"`, `line 31: inbound.imap.processed: "delete": use move or flag`},
		{"password", `password_env = "HP_IMAP_PW"|password_env = "HP_IMAP_UNSET"`, `line 30: inbound.imap.password_env: environment variable HP_IMAP_UNSET is empty or unset`},
		{"interval", `poll_interval = "5m"|poll_interval = "1s"`, `line 32: inbound.imap.poll_interval: 1s is too short`},
		{"plain imap", `host = "imap.example.org"|host = "imap.example.org"
tls = "none"`, `inbound.imap.tls: "none" sends the password in clear`},
		{"resolver", `resolver = "127.0.0.1:5353"|resolver = "a:b:c"`, `line 35: dns_check.resolver: "a:b:c" is not host:port`},
		{"unknown key", `poll_interval = "5m"|poll_interval = "5m"
folders = ["INBOX"]`, `line 33: unknown key "inbound.imap.folders"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, repl, _ := strings.Cut(tc.edit, "|")
			cfg, err := Parse("test.toml", []byte(strings.Replace(base, old, repl, 1)))
			if err == nil && tc.name == "password" { // only the daemon needs it: checked by Require
				err = cfg.Require(NeedIMAPPassword)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "config test.toml: ") {
				t.Fatalf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}
