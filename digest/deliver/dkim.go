package deliver

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/haiphong/hpdigest/digest/deliver/dkimkey"
)

// DKIMConfig is [smtp.dkim]: signing is on when it names a key, either
// the one key of the section itself (domain, selector, private_key_file)
// or a list of keys:
//
//	[smtp.dkim]
//	domain = "haiphong.gov.vn"
//
//	[[smtp.dkim.keys]]               # signs (RSA 2048)
//	selector = "hp2026a"
//	algorithm = "rsa"
//	private_key_file = "/etc/hpdigest/hp2026a.pem"
//
//	[[smtp.dkim.keys]]               # signs too: a second, Ed25519 signature (RFC 8463)
//	selector = "hp2026e"
//	algorithm = "ed25519"
//	private_key_file = "/etc/hpdigest/hp2026e.pem"
//
//	[[smtp.dkim.keys]]               # published, not signing yet: the next key of a rotation
//	selector = "hp2026b"
//	private_key_file = "/etc/hpdigest/hp2026b.pem"
//	active = false
//
// Every active key signs every message.
type DKIMConfig struct {
	Domain         string    `toml:"domain"`
	Selector       string    `toml:"selector"`
	PrivateKeyFile string    `toml:"private_key_file"` // PEM (RSA PKCS#1/PKCS#8 or Ed25519 PKCS#8)
	PrivateKeyEnv  string    `toml:"private_key_env"`  // or: name of an environment variable holding the PEM
	Headers        []string  `toml:"headers"`          // signed headers; default: see DefaultDKIMHeaders
	Keys           []DKIMKey `toml:"keys"`
}

// DKIMKey is one signing key of [[smtp.dkim.keys]].
type DKIMKey struct {
	Selector       string `toml:"selector"`
	Domain         string `toml:"domain"`    // default: smtp.dkim.domain
	Algorithm      string `toml:"algorithm"` // rsa | ed25519; checked against the key file (default: the file's)
	PrivateKeyFile string `toml:"private_key_file"`
	PrivateKeyEnv  string `toml:"private_key_env"`
	// Active: the key signs (default). A key with active = false is only
	// checked by -check-dns: the next key of a rotation, published ahead.
	Active *bool `toml:"active"`
}

// DefaultDKIMHeaders are signed when DKIMConfig.Headers is empty. Headers
// absent from a message are still listed (RFC 6376 §5.4: that stops anyone
// adding them later).
var DefaultDKIMHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "Reply-To",
	"MIME-Version", "Content-Type", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"}

// OverSignedHeaders are listed in h= once more than the message holds them,
// as large senders do: a copy added in transit (a second From, a
// different List-Unsubscribe) then breaks the signature.
var OverSignedHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"}

// LoadedKey is one configured key, read.
type LoadedKey struct {
	Domain, Selector string
	Signer           crypto.Signer
	Active           bool
	Source           string // the file, or $VARIABLE
}

// Enabled reports whether the section asks for signing at all.
func (c DKIMConfig) Enabled() bool {
	return c.Domain != "" || c.Selector != "" || c.PrivateKeyFile != "" || c.PrivateKeyEnv != "" || len(c.Keys) > 0
}

// keys is the section's key list: the single key of the section itself
// first (when it names one), then [[smtp.dkim.keys]], with their config
// key prefixes for errors.
func (c DKIMConfig) keys() (keys []DKIMKey, prefixes []string) {
	if c.Selector != "" || c.PrivateKeyFile != "" || c.PrivateKeyEnv != "" || len(c.Keys) == 0 {
		keys = append(keys, DKIMKey{Selector: c.Selector, Domain: c.Domain, PrivateKeyFile: c.PrivateKeyFile, PrivateKeyEnv: c.PrivateKeyEnv})
		prefixes = append(prefixes, "smtp.dkim.")
	}
	for i, k := range c.Keys {
		if k.Domain == "" {
			k.Domain = c.Domain
		}
		keys = append(keys, k)
		prefixes = append(prefixes, fmt.Sprintf("smtp.dkim.keys[%d].", i))
	}
	return keys, prefixes
}

// validateSettings checks the section without reading key files.
func (c DKIMConfig) validateSettings() error {
	keys, prefixes := c.keys()
	seen := map[string]bool{}
	active := 0
	for i, k := range keys {
		p := prefixes[i]
		if k.Domain == "" {
			return errors.New("smtp.dkim.domain: is empty (required with DKIM)")
		}
		if k.Selector == "" {
			return errors.New(p + "selector: is empty (required with DKIM)")
		}
		id := strings.ToLower(k.Selector + "._domainkey." + k.Domain)
		if seen[id] {
			return fmt.Errorf("%sselector: %q is listed twice for %s", p, k.Selector, k.Domain)
		}
		seen[id] = true
		switch k.Algorithm {
		case "", "rsa", "ed25519":
		default:
			return fmt.Errorf("%salgorithm: %q: use rsa or ed25519", p, k.Algorithm)
		}
		if k.PrivateKeyFile == "" && k.PrivateKeyEnv == "" {
			return errors.New(p + "private_key_file: set it or private_key_env")
		}
		if k.Active == nil || *k.Active {
			active++
		}
	}
	if active == 0 {
		return errors.New("smtp.dkim.keys: no key is active: set active = true on the key that signs")
	}
	hk := c.Headers
	if len(hk) == 0 {
		hk = DefaultDKIMHeaders
	}
	for _, h := range hk {
		if strings.EqualFold(h, "From") {
			return nil
		}
	}
	return errors.New("smtp.dkim.headers: must include From")
}

// LoadKeys checks the section and reads every key, active or not.
func (c DKIMConfig) LoadKeys() ([]LoadedKey, error) {
	if err := c.validateSettings(); err != nil {
		return nil, err
	}
	keys, prefixes := c.keys()
	var out []LoadedKey
	for i, k := range keys {
		p := prefixes[i]
		var pemData []byte
		field, source := p+"private_key_file", k.PrivateKeyFile
		if k.PrivateKeyEnv != "" {
			field, source = p+"private_key_env", "$"+k.PrivateKeyEnv
			pemData = []byte(os.Getenv(k.PrivateKeyEnv))
			if len(pemData) == 0 {
				return nil, fmt.Errorf("%s: environment variable %s is empty or unset", field, k.PrivateKeyEnv)
			}
		} else {
			b, err := os.ReadFile(k.PrivateKeyFile)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			pemData = b
		}
		signer, err := dkimkey.Parse(pemData)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		if algo := dkimkey.Algorithm(signer); k.Algorithm != "" && k.Algorithm != algo {
			return nil, fmt.Errorf("%salgorithm: %q, but %s holds an %s key", p, k.Algorithm, source, algo)
		}
		out = append(out, LoadedKey{Domain: k.Domain, Selector: k.Selector, Signer: signer,
			Active: k.Active == nil || *k.Active, Source: source})
	}
	return out, nil
}

// dkimSigner signs rendered messages with every active key. go-mail's
// own signer produces signatures that fail to verify once the h= list
// wraps, so the finished bytes are signed here instead.
type dkimSigner struct {
	keys    []LoadedKey
	headers []string        // the configured list, in order
	over    map[string]bool // lower-case names listed once more than present
}

func newDKIMSigner(c DKIMConfig) (*dkimSigner, error) {
	all, err := c.LoadKeys()
	if err != nil {
		return nil, err
	}
	s := &dkimSigner{headers: c.Headers, over: map[string]bool{}}
	if len(s.headers) == 0 {
		s.headers = DefaultDKIMHeaders
	}
	for _, h := range OverSignedHeaders {
		s.over[strings.ToLower(h)] = true
	}
	for _, k := range all {
		if k.Active {
			s.keys = append(s.keys, k)
		}
	}
	return s, nil
}

// headerKeys is the h= list for a message: each configured header as many
// times as the message holds it (at least once, so that one cannot be
// added), the over-signed ones once more.
func (s *dkimSigner) headerKeys(msg []byte) []string {
	head := msg
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		head = msg[:i+2]
	}
	counts := make([]int, len(s.headers)) // by position in s.headers
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			continue // a folded continuation
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		name := bytes.TrimRight(line[:colon], " \t")
		for i, h := range s.headers {
			if len(h) == len(name) && strings.EqualFold(h, string(name)) {
				counts[i]++
				break
			}
		}
	}
	keys := make([]string, 0, 2*len(s.headers))
	for i, h := range s.headers {
		n := max(counts[i], 1)
		if s.over[strings.ToLower(h)] {
			n = counts[i] + 1
		}
		for j := 0; j < n; j++ {
			keys = append(keys, h)
		}
	}
	return keys
}

// sign writes one DKIM-Signature per active key, then the message.
func (s *dkimSigner) sign(out *bytes.Buffer, data []byte) error {
	hk := s.headerKeys(data)
	for _, k := range s.keys {
		sg, err := dkim.NewSigner(&dkim.SignOptions{Domain: k.Domain, Selector: k.Selector, Signer: k.Signer, Hash: crypto.SHA256,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
			HeaderKeys: hk})
		if err != nil {
			return err
		}
		if _, err := io.Copy(sg, bytes.NewReader(data)); err != nil {
			sg.Close()
			return err
		}
		if err := sg.Close(); err != nil {
			return fmt.Errorf("selector %s: %w", k.Selector, err)
		}
		out.WriteString(sg.Signature())
	}
	out.Write(data)
	return nil
}
