package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest/deliver/dkimkey"
	"github.com/haiphong/hpdigest/digest/deliver/dnscheck"
	"github.com/haiphong/hpdigest/digest/deliver/inbound"
)

// deliverabilityFlags are the commands about mail coming back and about
// what DNS must publish.
type deliverabilityFlags struct {
	inboundMail bool

	dkimKeygen, dkimAlgo, dkimDir, dkimDomain string

	checkDNS    bool
	dnsResolver string
}

func (d *deliverabilityFlags) register(fs *flag.FlagSet) {
	const inboundUsage = "read one inbound mail (a bounce, a spam complaint, an unsubscribe request) from standard input and act on it, for an MTA pipe: exits 0 when done or not for us, 75 to have the MTA retry"
	fs.BoolVar(&d.inboundMail, "inbound-mail", false, inboundUsage)
	fs.BoolVar(&d.inboundMail, "unsubscribe-mail", false, "the same as -inbound-mail")
	fs.StringVar(&d.dkimKeygen, "dkim-keygen", "", "write a new DKIM private key for `selector` (to -dkim-dir, else the directory of the configured key files) and print the DNS TXT record to publish")
	fs.StringVar(&d.dkimAlgo, "dkim-algo", "rsa", "with -dkim-keygen: rsa (2048 bits) or ed25519")
	fs.StringVar(&d.dkimDir, "dkim-dir", "", "with -dkim-keygen: the `directory` to write the key file to")
	fs.StringVar(&d.dkimDomain, "dkim-domain", "", "with -dkim-keygen: the signing `domain` (default: smtp.dkim.domain, else the sender's domain)")
	fs.BoolVar(&d.checkDNS, "check-dns", false, "print the DNS records the configuration needs (SPF, DKIM, DMARC, MX) and check what is published; exits non-zero if one fails")
	fs.StringVar(&d.dnsResolver, "dns-resolver", "", "with -check-dns: the DNS server to ask, `host:port` (default: dns_check.resolver, else the system's)")
}

// failCode is the exit code for a failure before the command ran: an MTA
// pipe keeps the message and retries (a broken config is fixed, the mail
// is not lost); other commands exit with code.
func (d *deliverabilityFlags) failCode(code int) int {
	if d.inboundMail {
		return inbound.ExitTempFail
	}
	return code
}

// inboundMail is -inbound-mail: one message on standard input, from an MTA
// pipe, whose envelope Postfix and Exim pass in the environment.
func inboundMail(ctx context.Context, a *app.App, stdin io.Reader) int {
	env := inbound.Envelope{From: os.Getenv("SENDER"), To: os.Getenv("ORIGINAL_RECIPIENT")}
	if env.To == "" {
		env.To = os.Getenv("RECIPIENT")
	}
	return a.InboundProcessor().Pipe(ctx, stdin, env, a.Cfg().Inbound.MaxMessageBytes)
}

// dkimKeygen is -dkim-keygen SELECTOR: a new key file, never over an
// existing one, and the record to publish. The config is optional (the
// key usually exists before the config names it).
func dkimKeygen(d *deliverabilityFlags, configPath string, stdout io.Writer) error {
	dir, domain := d.dkimDir, d.dkimDomain
	if configPath != "" {
		cfg, err := config.Load(configPath)
		if err != nil {
			return err
		}
		if dir == "" {
			files := []string{cfg.SMTP.DKIM.PrivateKeyFile}
			for _, k := range cfg.SMTP.DKIM.Keys {
				files = append(files, k.PrivateKeyFile)
			}
			for _, f := range files {
				if f != "" {
					dir = filepath.Dir(f)
					break
				}
			}
		}
		if domain == "" {
			domain = cfg.SMTP.DKIM.Domain
		}
		if domain == "" {
			domain = cfg.Sender.Domain()
		}
	}
	switch {
	case !validSelector(d.dkimKeygen):
		return fmt.Errorf("-dkim-keygen %q: a selector is letters, digits, '-' and '.'", d.dkimKeygen)
	case dir == "":
		return errors.New("-dkim-keygen: where to write the key? give -dkim-dir, or a -config with smtp.dkim.private_key_file")
	case domain == "":
		return errors.New("-dkim-keygen: for which domain? give -dkim-domain, or a -config")
	}
	key, err := dkimkey.Generate(d.dkimAlgo)
	if err != nil {
		return fmt.Errorf("-dkim-algo: %w", err)
	}
	path := filepath.Join(dir, d.dkimKeygen+".pem")
	if err := dkimkey.WriteNew(path, key); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists: a key file is never overwritten (pick a new selector to rotate keys)", path)
		}
		return err
	}
	rec, err := dkimkey.Record(key.Public())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the %s private key to %s (readable by its owner only)\n\n", d.dkimAlgo, path)
	fmt.Fprintf(stdout, "publish this DNS record (the value is split into strings of at most 255 bytes; resolvers join them):\n\n%s\n\n", dkimkey.ZoneLine(d.dkimKeygen, domain, rec))
	fmt.Fprintf(stdout, "add it to the configuration, not signing yet, and check the record with -check-dns:\n\n[[smtp.dkim.keys]]\nselector = %q\nalgorithm = %q\nprivate_key_file = %q\nactive = false\n\n", d.dkimKeygen, d.dkimAlgo, path)
	fmt.Fprintf(stdout, "once it passes, set active = true (and active = false on the key it replaces, after a few days remove that one).\nsigning domain: %s (smtp.dkim.domain)\n", domain)
	return nil
}

func validSelector(s string) bool {
	if s == "" || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// checkDNS is -check-dns: what the configuration needs published, checked
// against the resolver.
func checkDNS(ctx context.Context, cfg *config.Config, d *deliverabilityFlags, stdout, stderr io.Writer) int {
	needs, err := dnsNeeds(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "hpdigest:", err)
		return 2
	}
	resolver := d.dnsResolver
	if resolver == "" {
		resolver = cfg.DNSCheck.Resolver
	}
	where := "the system's resolver"
	if resolver != "" {
		where = resolver
	}
	fmt.Fprintf(stdout, "DNS records for sending as %s with bounces to %s (asking %s):\n\n", cfg.Sender.Address, cfg.BounceAddress(), where)
	results := dnscheck.Run(ctx, dnscheck.NewResolver(resolver), needs)
	dnscheck.Print(stdout, results)
	if dnscheck.Failed(results) > 0 {
		return 1
	}
	return 0
}

// dnsNeeds turns the configuration into what DNS must publish for it.
func dnsNeeds(cfg *config.Config) (dnscheck.Needs, error) {
	_, envDomain, _ := strings.Cut(cfg.BounceAddress(), "@")
	n := dnscheck.Needs{
		EnvelopeDomain: strings.ToLower(envDomain),
		FromDomain:     cfg.Sender.Domain(),
		SendingIPs:     cfg.DNSCheck.SendingIPs,
	}
	if cfg.SMTP.Host != "" {
		n.Relays = append(n.Relays, cfg.SMTP.Host)
	}
	for _, r := range cfg.SMTP.Relays {
		n.Relays = append(n.Relays, r.Host)
	}
	if cfg.SMTP.DKIM.Enabled() {
		keys, err := cfg.SMTP.DKIM.LoadKeys()
		if err != nil {
			return n, err
		}
		for _, k := range keys {
			src := k.Source
			if !k.Active {
				src += ", not signing yet"
			}
			n.DKIM = append(n.DKIM, dnscheck.Key{Domain: k.Domain, Selector: k.Selector, Signer: k.Signer, Source: src})
		}
	}
	if cfg.Inbound.Listen != "" {
		n.MXDomains = cfg.Inbound.Domains
	}
	return n, nil
}
