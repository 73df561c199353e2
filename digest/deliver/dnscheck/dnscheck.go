// Package dnscheck is the DNS preflight: it works out the records a
// sending configuration needs (SPF for the envelope domain covering the
// relays, a DKIM key record per selector, DMARC for the From domain with an
// aligned pass, MX for the bounce domain when the inbound listener takes
// the bounces), asks a resolver what is published, and says PASS or FAIL
// per record with what to publish.
package dnscheck

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"

	"github.com/haiphong/hpdigest/digest/deliver/dkimkey"
)

// Config is the [dns_check] section.
type Config struct {
	// Resolver is the DNS server asked, "host:port" (port 53 when left
	// out); "" asks the system's resolver.
	Resolver string `toml:"resolver"`
	// SendingIPs are the public addresses the relays send from, which SPF
	// must cover. Default: the addresses of the relay host names (wrong
	// when the relay is on this machine or behind NAT: then list them).
	SendingIPs []string `toml:"sending_ips"`
}

// Validate checks the section; errors name the key.
func (c Config) Validate() error {
	if c.Resolver != "" {
		host, _, err := net.SplitHostPort(resolverAddr(c.Resolver))
		if err != nil || host == "" || strings.Contains(host, ":") && net.ParseIP(host) == nil {
			return fmt.Errorf("dns_check.resolver: %q is not host:port", c.Resolver)
		}
	}
	for _, ip := range c.SendingIPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("dns_check.sending_ips: %q is not an IP address", ip)
		}
	}
	return nil
}

func resolverAddr(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return net.JoinHostPort(strings.Trim(addr, "[]"), "53")
	}
	return addr
}

// NewResolver asks the DNS server at addr ("host:port" or "host"); ""
// is the system's resolver.
func NewResolver(addr string) *net.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	addr = resolverAddr(addr)
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
}

// Needs is what a configuration sends with, and so needs published.
type Needs struct {
	EnvelopeDomain string   // the domain of the envelope sender (where bounces go): SPF
	FromDomain     string   // the domain of From: DMARC
	Relays         []string // the relays' host names or addresses
	SendingIPs     []string // when set, used instead of the relays' addresses
	DKIM           []Key
	MXDomains      []string // the domains the inbound listener receives bounces for
}

// Key is one DKIM signing key.
type Key struct {
	Domain, Selector string
	Signer           crypto.Signer
	Source           string // where it was read from, for messages
}

// Result is the verdict on one record.
type Result struct {
	Check   string // SPF, DKIM, DMARC, MX
	Name    string // what was asked: "haiphong.gov.vn TXT"
	Pass    bool
	Found   []string // what is published
	Detail  []string // why it passes or fails
	Publish string   // when it fails: the record to publish (zone-file line)
}

// Run checks every record the needs call for.
func Run(ctx context.Context, r *net.Resolver, n Needs) []Result {
	spfRes, spfPass := checkSPF(ctx, r, n)
	out := []Result{spfRes}
	dkimPass := map[string]bool{}
	for _, k := range n.DKIM {
		res := checkDKIM(ctx, r, k)
		if res.Pass {
			dkimPass[strings.ToLower(k.Domain)] = true
		}
		out = append(out, res)
	}
	out = append(out, checkDMARC(ctx, r, n, spfPass, dkimPass))
	for _, d := range n.MXDomains {
		out = append(out, checkMX(ctx, r, d))
	}
	return out
}

// Failed counts the results that did not pass.
func Failed(results []Result) int {
	n := 0
	for _, r := range results {
		if !r.Pass {
			n++
		}
	}
	return n
}

// Print writes the results for people.
func Print(w io.Writer, results []Result) {
	for _, r := range results {
		verdict := "FAIL"
		if r.Pass {
			verdict = "PASS"
		}
		fmt.Fprintf(w, "%s  %-5s  %s\n", verdict, r.Check, r.Name)
		for _, f := range r.Found {
			fmt.Fprintf(w, "        published: %s\n", f)
		}
		for _, d := range r.Detail {
			fmt.Fprintf(w, "        %s\n", d)
		}
		if !r.Pass && r.Publish != "" {
			fmt.Fprintf(w, "        publish:   %s\n", r.Publish)
		}
	}
	fmt.Fprintf(w, "%d of %d records pass\n", len(results)-Failed(results), len(results))
}

// lookupTXT returns the TXT records of name that start with prefix (case
// aside; "" takes all); a name that does not exist has none.
func lookupTXT(ctx context.Context, r *net.Resolver, name, prefix string) ([]string, error) {
	txts, err := r.LookupTXT(ctx, name)
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range txts {
		if l := strings.ToLower(t); prefix == "" || l == prefix || strings.HasPrefix(l, prefix+" ") || strings.HasPrefix(l, prefix+";") {
			out = append(out, t)
		}
	}
	return out, nil
}

// sendingIPs lists the addresses SPF must cover, with the name each came
// from, and notes about relays that tell nothing (on loopback or a private
// network).
func sendingIPs(ctx context.Context, r *net.Resolver, n Needs) (ips []net.IP, from []string, notes []string) {
	if len(n.SendingIPs) > 0 {
		for _, s := range n.SendingIPs {
			if ip := net.ParseIP(s); ip != nil {
				ips, from = append(ips, ip), append(from, "dns_check.sending_ips")
			}
		}
		return ips, from, nil
	}
	for _, h := range n.Relays {
		var addrs []net.IP
		if ip := net.ParseIP(h); ip != nil {
			addrs = []net.IP{ip}
		} else {
			ias, err := r.LookupIPAddr(ctx, h)
			if err != nil {
				notes = append(notes, fmt.Sprintf("relay %s: %v", h, err))
				continue
			}
			for _, ia := range ias {
				addrs = append(addrs, ia.IP)
			}
		}
		for _, ip := range addrs {
			if ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() {
				notes = append(notes, fmt.Sprintf("relay %s is at %s, not a public address: list the addresses it sends from in dns_check.sending_ips", h, ip))
				continue
			}
			ips, from = append(ips, ip), append(from, h)
		}
	}
	return ips, from, notes
}

// checkSPF evaluates the envelope domain's SPF policy (RFC 7208, include,
// redirect, a, mx, ip4, ip6 and the rest, at most 10 DNS lookups) for
// every sending address: all must pass.
func checkSPF(ctx context.Context, r *net.Resolver, n Needs) (Result, bool) {
	res := Result{Check: "SPF", Name: n.EnvelopeDomain + " TXT"}
	ips, from, notes := sendingIPs(ctx, r, n)
	res.Detail = append(res.Detail, notes...)
	var mechs []string
	for _, ip := range ips {
		if ip.To4() != nil {
			mechs = append(mechs, "ip4:"+ip.String())
		} else {
			mechs = append(mechs, "ip6:"+ip.String())
		}
	}
	records, err := lookupTXT(ctx, r, n.EnvelopeDomain, "v=spf1")
	res.Found = records
	res.Publish = n.EnvelopeDomain + ` IN TXT "v=spf1 ` + strings.Join(append(mechs, "-all"), " ") + `"`
	switch {
	case err != nil:
		res.Detail = append(res.Detail, "lookup failed: "+err.Error())
		return res, false
	case len(records) == 0:
		res.Detail = append(res.Detail, "no SPF record: receivers cannot tell the relays may send for "+n.EnvelopeDomain)
		return res, false
	case len(records) > 1:
		res.Detail = append(res.Detail, fmt.Sprintf("%d SPF records: receivers treat that as an error (publish exactly one)", len(records)))
		return res, false
	case len(records) == 1 && len(mechs) > 0:
		res.Publish = n.EnvelopeDomain + ` IN TXT "` + addMechanisms(records[0], mechs) + `"`
	}
	if len(ips) == 0 {
		res.Detail = append(res.Detail, "no sending address to check: configure [smtp] relays or dns_check.sending_ips")
		return res, false
	}
	res.Pass = true
	for i, ip := range ips {
		result, err := spf.CheckHostWithSender(ip, n.EnvelopeDomain, "postmaster@"+n.EnvelopeDomain,
			spf.WithResolver(r), spf.WithContext(ctx))
		line := fmt.Sprintf("%s (%s): %s", ip, from[i], result)
		switch {
		case errors.Is(err, spf.ErrLookupLimitReached):
			line += ": more than 10 DNS lookups (include, a, mx, ptr, exists, redirect): flatten the record"
		case result != spf.Pass && err != nil && !strings.HasPrefix(err.Error(), "matched"):
			line += ": " + err.Error()
		}
		if result != spf.Pass {
			res.Pass = false
		}
		res.Detail = append(res.Detail, line)
	}
	return res, res.Pass
}

// addMechanisms puts the missing mechanisms in front of an existing
// record's "all".
func addMechanisms(record string, mechs []string) string {
	fields := strings.Fields(record)
	var missing []string
	for _, m := range mechs {
		found := false
		for _, f := range fields {
			found = found || strings.EqualFold(strings.TrimPrefix(f, "+"), m)
		}
		if !found {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return record
	}
	out := []string{fields[0]}
	out = append(out, missing...)
	return strings.Join(append(out, fields[1:]...), " ")
}

// checkDKIM signs a probe message with the key and verifies it against
// the published record, as a receiver would.
func checkDKIM(ctx context.Context, r *net.Resolver, k Key) Result {
	name := dkimkey.Name(k.Selector, k.Domain)
	res := Result{Check: "DKIM", Name: name + " TXT"}
	want, err := dkimkey.Record(k.Signer.Public())
	if err != nil {
		res.Detail = append(res.Detail, err.Error())
		return res
	}
	res.Publish = dkimkey.ZoneLine(k.Selector, k.Domain, want)
	published, err := lookupTXT(ctx, r, name, "v=dkim1")
	if err == nil && len(published) == 0 {
		// v= is optional in a key record: take any record with p=.
		all, _ := lookupTXT(ctx, r, name, "")
		for _, t := range all {
			if strings.Contains(t, "p=") {
				published = append(published, t)
			}
		}
	}
	res.Found = published
	switch {
	case err != nil:
		res.Detail = append(res.Detail, "lookup failed: "+err.Error())
		return res
	case len(published) == 0:
		res.Detail = append(res.Detail, "not published: receivers cannot verify the signature of "+k.Source)
		return res
	}
	probe := "From: <postmaster@" + k.Domain + ">\r\nTo: <postmaster@" + k.Domain + ">\r\nSubject: DNS preflight\r\nDate: " +
		time.Now().UTC().Format(time.RFC1123Z) + "\r\n\r\nprobe\r\n"
	var signed bytes.Buffer
	if err := dkim.Sign(&signed, strings.NewReader(probe), &dkim.SignOptions{Domain: k.Domain, Selector: k.Selector, Signer: k.Signer}); err != nil {
		res.Detail = append(res.Detail, "signing with "+k.Source+": "+err.Error())
		return res
	}
	vs, err := dkim.VerifyWithOptions(&signed, &dkim.VerifyOptions{LookupTXT: func(n string) ([]string, error) {
		return r.LookupTXT(ctx, n)
	}})
	switch {
	case err != nil:
		res.Detail = append(res.Detail, "verifying: "+err.Error())
	case len(vs) != 1:
		res.Detail = append(res.Detail, "verifying: no signature found")
	case vs[0].Err != nil:
		res.Detail = append(res.Detail, "a signature by "+k.Source+" does not verify: "+vs[0].Err.Error())
		if !publishesKey(published, want) {
			res.Detail = append(res.Detail, "the published key is not the public half of "+k.Source)
		}
	default:
		res.Pass = true
		res.Detail = append(res.Detail, fmt.Sprintf("a signature by %s (%s) verifies", k.Source, dkimkey.Algorithm(k.Signer)))
	}
	return res
}

// publishesKey reports whether one published record holds want's p=.
func publishesKey(published []string, want string) bool {
	p := tag(want, "p")
	for _, rec := range published {
		if strings.ReplaceAll(tag(rec, "p"), " ", "") == p {
			return true
		}
	}
	return false
}

// tag returns the value of a tag in a "k=v; k=v" record.
func tag(record, name string) string {
	for _, kv := range strings.Split(record, ";") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// checkDMARC looks for the From domain's policy (or its organizational
// domain's) and an aligned pass: SPF passing for an envelope domain
// aligned with From, or DKIM passing for a signing domain aligned with it.
func checkDMARC(ctx context.Context, r *net.Resolver, n Needs, spfPass bool, dkimPass map[string]bool) Result {
	from := strings.ToLower(n.FromDomain)
	res := Result{Check: "DMARC", Name: "_dmarc." + from + " TXT",
		Publish: "_dmarc." + from + ` IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@` + from + `"`}
	lookup := func(name string) ([]string, error) { return lookupTXT(ctx, r, name, "v=dmarc1") }
	rec, err := dmarc.LookupWithOptions(from, &dmarc.LookupOptions{LookupTXT: lookup})
	if errors.Is(err, dmarc.ErrNoPolicy) {
		if org, oerr := publicsuffix.EffectiveTLDPlusOne(from); oerr == nil && org != from {
			res.Name += " (and _dmarc." + org + ")"
			rec, err = dmarc.LookupWithOptions(org, &dmarc.LookupOptions{LookupTXT: lookup})
		}
	}
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		res.Detail = append(res.Detail, "no DMARC record: Gmail and Yahoo require one from bulk senders (p=none is enough to start)")
		return res
	case err != nil:
		res.Detail = append(res.Detail, "DMARC record: "+err.Error())
		return res
	}
	res.Found = []string{fmt.Sprintf("p=%s adkim=%s aspf=%s", rec.Policy, alignName(rec.DKIMAlignment), alignName(rec.SPFAlignment))}
	spfAligned := aligned(n.EnvelopeDomain, from, rec.SPFAlignment)
	res.Detail = append(res.Detail, fmt.Sprintf("SPF: envelope domain %s %s From, SPF %s", n.EnvelopeDomain, alignWord(spfAligned), passWord(spfPass)))
	dkimOK := false
	for _, k := range n.DKIM {
		a := aligned(k.Domain, from, rec.DKIMAlignment)
		p := dkimPass[strings.ToLower(k.Domain)]
		dkimOK = dkimOK || a && p
		res.Detail = append(res.Detail, fmt.Sprintf("DKIM: d=%s (selector %s) %s From, DKIM %s", k.Domain, k.Selector, alignWord(a), passWord(p)))
	}
	if len(n.DKIM) == 0 {
		res.Detail = append(res.Detail, "DKIM: not configured ([smtp.dkim])")
	}
	res.Pass = spfAligned && spfPass || dkimOK
	if !res.Pass {
		res.Detail = append(res.Detail, "no aligned pass: receivers apply p="+string(rec.Policy)+" to this mail")
		res.Publish = ""
	}
	return res
}

func alignName(m dmarc.AlignmentMode) string {
	if m == dmarc.AlignmentStrict {
		return "s"
	}
	return "r"
}

func alignWord(ok bool) string {
	if ok {
		return "aligned with"
	}
	return "NOT aligned with"
}

func passWord(ok bool) string {
	if ok {
		return "passes"
	}
	return "does NOT pass"
}

// aligned compares two domains as DMARC does: equal (strict), or the same
// organizational domain (relaxed, the default).
func aligned(a, b string, mode dmarc.AlignmentMode) bool {
	a, b = strings.ToLower(strings.TrimSuffix(a, ".")), strings.ToLower(strings.TrimSuffix(b, "."))
	if a == b {
		return true
	}
	if mode == dmarc.AlignmentStrict || a == "" || b == "" {
		return false
	}
	oa, err1 := publicsuffix.EffectiveTLDPlusOne(a)
	ob, err2 := publicsuffix.EffectiveTLDPlusOne(b)
	return err1 == nil && err2 == nil && oa == ob
}

// checkMX makes sure bounces to the domain can be delivered: an MX record
// whose hosts resolve.
func checkMX(ctx context.Context, r *net.Resolver, domain string) Result {
	res := Result{Check: "MX", Name: domain + " MX", Publish: domain + " IN MX 10 mail." + domain + "."}
	mxs, err := r.LookupMX(ctx, domain)
	var de *net.DNSError
	if err != nil && !(errors.As(err, &de) && de.IsNotFound) {
		res.Detail = append(res.Detail, "lookup failed: "+err.Error())
		return res
	}
	if len(mxs) == 0 {
		res.Detail = append(res.Detail, "no MX record: bounces to "+domain+" have nowhere to go (point it at the MTA that relays to the inbound listener)")
		return res
	}
	res.Pass = true
	for _, mx := range mxs {
		res.Found = append(res.Found, fmt.Sprintf("%d %s", mx.Pref, mx.Host))
		if ips, err := r.LookupIPAddr(ctx, mx.Host); err != nil || len(ips) == 0 {
			res.Pass = false
			res.Detail = append(res.Detail, fmt.Sprintf("%s does not resolve to an address", mx.Host))
		}
	}
	return res
}
