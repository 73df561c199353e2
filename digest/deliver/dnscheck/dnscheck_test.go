package dnscheck

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"strings"
	"testing"

	"github.com/haiphong/hpdigest/digest/deliver/dkimkey"
	"github.com/haiphong/hpdigest/internal/dnstest"
)

// txtLine writes a TXT record with its value split into 255-byte strings,
// as a DNS host would publish a long DKIM key.
func txtLine(name, value string) string {
	var q []string
	for _, s := range dkimkey.Split(value) {
		q = append(q, `"`+s+`"`)
	}
	return name + " 300 IN TXT " + strings.Join(q, " ")
}

func mustKey(t *testing.T, algo string) crypto.Signer {
	k, err := dkimkey.Generate(algo)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRecord(t *testing.T, k crypto.Signer) string {
	rec, err := dkimkey.Record(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func byCheck(results []Result) map[string]Result {
	m := map[string]Result{}
	for _, r := range results {
		key := r.Check
		if _, dup := m[key]; dup {
			key += "2"
		}
		m[key] = r
	}
	return m
}

func TestAllRecordsPublished(t *testing.T) {
	rsaKey, edKey := mustKey(t, "rsa"), mustKey(t, "ed25519")
	zone := dnstest.Start(t,
		// SPF through an include and an mx mechanism, the way an office
		// that relays through a provider publishes it.
		`bounces.haiphong.example.org. 300 IN TXT "v=spf1 mx include:_spf.relay.example.net -all"`,
		`bounces.haiphong.example.org. 300 IN MX 10 mx.haiphong.example.org.`,
		`mx.haiphong.example.org. 300 IN A 203.0.113.25`,
		`_spf.relay.example.net. 300 IN TXT "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:25::/48 ~all"`,
		`smtp.relay.example.net. 300 IN A 198.51.100.7`,
		`smtp.relay.example.net. 300 IN AAAA 2001:db8:25::7`,
		txtLine("hp2026._domainkey.haiphong.example.org.", mustRecord(t, rsaKey)),
		txtLine("hp2026e._domainkey.haiphong.example.org.", mustRecord(t, edKey)),
		`_dmarc.haiphong.example.org. 300 IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@haiphong.example.org"`,
	)
	n := Needs{
		EnvelopeDomain: "bounces.haiphong.example.org",
		FromDomain:     "haiphong.example.org",
		Relays:         []string{"smtp.relay.example.net", "203.0.113.25"},
		DKIM: []Key{
			{Domain: "haiphong.example.org", Selector: "hp2026", Signer: rsaKey, Source: "rsa.pem"},
			{Domain: "haiphong.example.org", Selector: "hp2026e", Signer: edKey, Source: "ed.pem"},
		},
		MXDomains: []string{"bounces.haiphong.example.org"},
	}
	results := Run(context.Background(), NewResolver(zone.Addr), n)
	var out bytes.Buffer
	Print(&out, results)
	t.Log("\n" + out.String())
	if Failed(results) != 0 || len(results) != 5 {
		t.Fatalf("%d of %d failed:\n%s", Failed(results), len(results), out.String())
	}
	for _, want := range []string{"PASS  SPF    bounces.haiphong.example.org TXT", "198.51.100.7 (smtp.relay.example.net): pass",
		"2001:db8:25::7 (smtp.relay.example.net): pass", "203.0.113.25 (203.0.113.25): pass",
		"a signature by ed.pem (ed25519) verifies", "DKIM: d=haiphong.example.org (selector hp2026) aligned with From, DKIM passes",
		"SPF: envelope domain bounces.haiphong.example.org aligned with From, SPF passes", "published: 10 mx.haiphong.example.org.", "5 of 5 records pass"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestMissingAndWrongRecords(t *testing.T) {
	key, other := mustKey(t, "rsa"), mustKey(t, "rsa")
	var includes []string
	lines := []string{
		// The relay's address is not covered: soft fail.
		`haiphong.example.org. 300 IN TXT "v=spf1 ip4:192.0.2.1 ~all"`,
		`smtp.haiphong.example.org. 300 IN A 203.0.113.10`,
		// A key record, but for another key.
		txtLine("hp2026._domainkey.haiphong.example.org.", mustRecord(t, other)),
		// An SPF record that needs more than 10 lookups.
		`big.example.org. 300 IN TXT "v=spf1 include:i1.example.org -all"`,
	}
	for i := 1; i <= 11; i++ {
		next := fmt.Sprintf("include:i%d.example.org", i+1)
		if i == 11 {
			next = "ip4:192.0.2.99"
		}
		includes = append(includes, fmt.Sprintf(`i%d.example.org. 300 IN TXT "v=spf1 %s -all"`, i, next))
	}
	lines = append(lines, includes...)
	// Two SPF records at once.
	lines = append(lines, `twice.example.org. 300 IN TXT "v=spf1 ip4:203.0.113.10 -all"`, `twice.example.org. 300 IN TXT "v=spf1 a -all"`)
	zone := dnstest.Start(t, lines...)
	r := NewResolver(zone.Addr)
	ctx := context.Background()

	results := byCheck(Run(ctx, r, Needs{
		EnvelopeDomain: "haiphong.example.org", FromDomain: "haiphong.example.org",
		Relays:    []string{"smtp.haiphong.example.org"},
		DKIM:      []Key{{Domain: "haiphong.example.org", Selector: "hp2026", Signer: key, Source: "/etc/hpdigest/dkim.pem"}},
		MXDomains: []string{"haiphong.example.org"},
	}))
	spfRes := results["SPF"]
	if spfRes.Pass || !strings.Contains(strings.Join(spfRes.Detail, "\n"), "203.0.113.10 (smtp.haiphong.example.org): softfail") ||
		spfRes.Publish != `haiphong.example.org IN TXT "v=spf1 ip4:203.0.113.10 ip4:192.0.2.1 ~all"` {
		t.Errorf("SPF: %+v", spfRes)
	}
	dk := results["DKIM"]
	if dk.Pass || !strings.Contains(strings.Join(dk.Detail, "\n"), "the published key is not the public half of /etc/hpdigest/dkim.pem") ||
		!strings.HasPrefix(dk.Publish, `hp2026._domainkey.haiphong.example.org IN TXT "v=DKIM1; k=rsa; p=`) {
		t.Errorf("DKIM: %+v", dk)
	}
	if dm := results["DMARC"]; dm.Pass || !strings.Contains(dm.Detail[0], "no DMARC record") ||
		dm.Publish != `_dmarc.haiphong.example.org IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@haiphong.example.org"` {
		t.Errorf("DMARC: %+v", dm)
	}
	if mx := results["MX"]; mx.Pass || !strings.Contains(mx.Detail[0], "no MX record") {
		t.Errorf("MX: %+v", mx)
	}

	limit, _ := checkSPF(ctx, r, Needs{EnvelopeDomain: "big.example.org", SendingIPs: []string{"192.0.2.99"}})
	if limit.Pass || !strings.Contains(strings.Join(limit.Detail, "\n"), "more than 10 DNS lookups") {
		t.Errorf("SPF with 11 lookups: %+v", limit)
	}
	twice, _ := checkSPF(ctx, r, Needs{EnvelopeDomain: "twice.example.org", SendingIPs: []string{"203.0.113.10"}})
	if twice.Pass || !strings.Contains(strings.Join(twice.Detail, "\n"), "2 SPF records") {
		t.Errorf("two SPF records: %+v", twice)
	}
	// A relay on this machine says nothing about the public address.
	local, _ := checkSPF(ctx, r, Needs{EnvelopeDomain: "haiphong.example.org", Relays: []string{"127.0.0.1"}})
	if local.Pass || !strings.Contains(strings.Join(local.Detail, "\n"), "dns_check.sending_ips") {
		t.Errorf("loopback relay: %+v", local)
	}
}

// DMARC passes on DKIM alone when SPF is not aligned (the envelope is on
// the provider's domain), and fails when the aligned DKIM does not verify.
func TestDMARCAlignment(t *testing.T) {
	key := mustKey(t, "ed25519")
	zone := dnstest.Start(t,
		`bounce.provider.example. 300 IN TXT "v=spf1 ip4:203.0.113.10 -all"`,
		txtLine("s1._domainkey.news.haiphong.example.org.", mustRecord(t, key)),
		`_dmarc.haiphong.example.org. 300 IN TXT "v=DMARC1; p=reject; adkim=r"`,
	)
	n := Needs{EnvelopeDomain: "bounce.provider.example", FromDomain: "haiphong.example.org", SendingIPs: []string{"203.0.113.10"},
		DKIM: []Key{{Domain: "news.haiphong.example.org", Selector: "s1", Signer: key, Source: "k"}}}
	res := byCheck(Run(context.Background(), NewResolver(zone.Addr), n))
	if !res["SPF"].Pass || !res["DKIM"].Pass || !res["DMARC"].Pass {
		t.Fatalf("%+v", res)
	}
	if d := strings.Join(res["DMARC"].Detail, "\n"); !strings.Contains(d, "bounce.provider.example NOT aligned with From") {
		t.Errorf("DMARC detail: %s", d)
	}
	n.DKIM[0].Selector = "s2" // not published
	res = byCheck(Run(context.Background(), NewResolver(zone.Addr), n))
	if res["DMARC"].Pass || !strings.Contains(strings.Join(res["DMARC"].Detail, "\n"), "receivers apply p=reject") {
		t.Errorf("DMARC without an aligned pass: %+v", res["DMARC"])
	}
}

// v= is optional in a DKIM key record (RFC 6376 §3.6.1).
func TestDKIMRecordWithoutVersion(t *testing.T) {
	key := mustKey(t, "rsa")
	rec := strings.TrimPrefix(mustRecord(t, key), "v=DKIM1; ")
	zone := dnstest.Start(t, txtLine("s1._domainkey.haiphong.example.org.", rec))
	res := checkDKIM(context.Background(), NewResolver(zone.Addr), Key{Domain: "haiphong.example.org", Selector: "s1", Signer: key, Source: "k"})
	if !res.Pass || len(res.Found) != 1 || !strings.HasPrefix(res.Found[0], "k=rsa; p=") {
		t.Fatalf("%+v", res)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Resolver: "127.0.0.1:5353"}, {Resolver: "1.1.1.1"}, {SendingIPs: []string{"203.0.113.10", "2001:db8::1"}}} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if err := (Config{SendingIPs: []string{"smtp.example"}}).Validate(); err == nil || !strings.HasPrefix(err.Error(), "dns_check.sending_ips:") {
		t.Errorf("bad IP: %v", err)
	}
}
