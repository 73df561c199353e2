package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/internal/dnstest"
)

// The operator's path: -dkim-keygen writes a key and prints the record,
// the record is published as printed, -check-dns passes; an unpublished
// DMARC record makes it fail with what to publish.
func TestDKIMKeygenThenCheckDNS(t *testing.T) {
	dir := t.TempDir()
	code, out := pipe(t, "", "-dkim-keygen", "hp2026", "-dkim-dir", dir, "-dkim-domain", "haiphong.example.org")
	if code != 0 {
		t.Fatalf("keygen: exit %d\n%s", code, out)
	}
	keyFile := filepath.Join(dir, "hp2026.pem")
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	var record string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "hp2026._domainkey.haiphong.example.org IN TXT \"v=DKIM1; k=rsa; p=") {
			record = l
		}
	}
	if record == "" {
		t.Fatalf("no record printed:\n%s", out)
	}
	if code, out := pipe(t, "", "-dkim-keygen", "hp2026", "-dkim-dir", dir, "-dkim-domain", "haiphong.example.org"); code == 0 || !strings.Contains(out, "never overwritten") {
		t.Fatalf("second keygen over the same file: exit %d\n%s", code, out)
	}

	name, rest, _ := strings.Cut(record, " ")
	zone := dnstest.Start(t,
		name+". 300 "+rest, // published exactly as printed
		`haiphong.example.org. 300 IN TXT "v=spf1 a:smtp.haiphong.example.org -all"`,
		`haiphong.example.org. 300 IN MX 10 mx.haiphong.example.org.`,
		`mx.haiphong.example.org. 300 IN A 203.0.113.25`,
		`smtp.haiphong.example.org. 300 IN A 203.0.113.10`,
	)
	cfgPath := filepath.Join(dir, "config.toml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`database = %q

[sender]
address = "digest@haiphong.example.org"

[smtp]
host = "smtp.haiphong.example.org"
envelope_from = "bounces@haiphong.example.org"

[smtp.dkim]
domain = "haiphong.example.org"
selector = "hp2026"
private_key_file = %q

[inbound]
listen = "127.0.0.1:2526"

[dns_check]
resolver = %q

[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"
`, filepath.Join(dir, "hp.db"), keyFile, zone.Addr)), 0o600)

	code, out = pipe(t, "", "-config", cfgPath, "-check-dns")
	if code != 1 || !strings.Contains(out, "FAIL  DMARC  _dmarc.haiphong.example.org TXT") ||
		!strings.Contains(out, `publish:   _dmarc.haiphong.example.org IN TXT "v=DMARC1; p=none;`) {
		t.Fatalf("without DMARC: exit %d\n%s", code, out)
	}
	for _, want := range []string{"PASS  SPF    haiphong.example.org TXT", "PASS  DKIM   hp2026._domainkey.haiphong.example.org TXT", "PASS  MX     haiphong.example.org MX", "3 of 4 records pass"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	zone.Add(t, `_dmarc.haiphong.example.org. 300 IN TXT "v=DMARC1; p=none"`)
	if code, out = pipe(t, "", "-config", cfgPath, "-check-dns"); code != 0 || !strings.Contains(out, "4 of 4 records pass") {
		t.Fatalf("with DMARC: exit %d\n%s", code, out)
	}
	// The flag beats the config: a resolver that knows nothing fails every record.
	empty := dnstest.Start(t)
	if code, out = pipe(t, "", "-config", cfgPath, "-check-dns", "-dns-resolver", empty.Addr); code != 1 || !strings.Contains(out, "0 of 4 records pass") {
		t.Fatalf("empty resolver: exit %d\n%s", code, out)
	}
}

// Key rotation with two selectors: the next key, made with -dkim-keygen
// and listed with active = false, is checked by -check-dns before it
// signs; once its record is published both selectors pass.
func TestCheckDNSChecksTheNextKeyOfARotation(t *testing.T) {
	dir := t.TempDir()
	records := map[string]string{}
	for _, c := range []struct{ sel, algo string }{{"hp2026", "rsa"}, {"hp2027", "ed25519"}} {
		code, out := pipe(t, "", "-dkim-keygen", c.sel, "-dkim-algo", c.algo, "-dkim-dir", dir, "-dkim-domain", "haiphong.example.org")
		if code != 0 || !strings.Contains(out, "active = false") {
			t.Fatalf("keygen %s: exit %d\n%s", c.sel, code, out)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, c.sel+"._domainkey.") {
				records[c.sel] = l
			}
		}
	}
	publish := func(sel string) string {
		name, rest, _ := strings.Cut(records[sel], " ")
		return name + ". 300 " + rest
	}
	zone := dnstest.Start(t, publish("hp2026"), `haiphong.example.org. 300 IN TXT "v=spf1 ip4:203.0.113.10 -all"`,
		`_dmarc.haiphong.example.org. 300 IN TXT "v=DMARC1; p=none"`)
	cfgPath := filepath.Join(dir, "config.toml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`database = %q

[sender]
address = "digest@haiphong.example.org"

[smtp]
host = "127.0.0.1"
envelope_from = "bounces@haiphong.example.org"

[smtp.dkim]
domain = "haiphong.example.org"

[[smtp.dkim.keys]]
selector = "hp2026"
algorithm = "rsa"
private_key_file = %q

[[smtp.dkim.keys]]
selector = "hp2027"
algorithm = "ed25519"
private_key_file = %q
active = false

[dns_check]
resolver = %q
sending_ips = ["203.0.113.10"]

[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"
`, filepath.Join(dir, "hp.db"), filepath.Join(dir, "hp2026.pem"), filepath.Join(dir, "hp2027.pem"), zone.Addr)), 0o600)
	code, out := pipe(t, "", "-config", cfgPath, "-check-dns")
	if code != 1 || !strings.Contains(out, "PASS  DKIM   hp2026._domainkey.haiphong.example.org TXT") ||
		!strings.Contains(out, "FAIL  DKIM   hp2027._domainkey.haiphong.example.org TXT") || !strings.Contains(out, `k=ed25519`) {
		t.Fatalf("the next key unpublished: exit %d\n%s", code, out)
	}
	zone.Add(t, publish("hp2027"))
	if code, out = pipe(t, "", "-config", cfgPath, "-check-dns"); code != 0 || !strings.Contains(out, "PASS  DKIM   hp2027._domainkey.haiphong.example.org TXT") {
		t.Fatalf("both published: exit %d\n%s", code, out)
	}
}
