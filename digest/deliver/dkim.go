package deliver

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

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

// dkimSigner signs rendered messages with every active key (relaxed
// header and body canonicalisation, SHA-256; RFC 6376, RFC 8463 for
// Ed25519). It signs a message from its header fields and its body hash,
// so that the body hash of a message built from a Body covers only what
// differs between readers (see Body.bodyHash); go-msgauth, which hashes
// the whole body itself, verifies the signatures in the tests.
type dkimSigner struct {
	keys    []LoadedKey
	algos   []string        // a= of each key
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
			s.algos = append(s.algos, dkimkey.Algorithm(k.Signer)+"-sha256")
		}
	}
	return s, nil
}

// headerFields splits a header block (CRLF line ends) into its fields,
// each with its folded lines, without the final CRLF.
func headerFields(head []byte) [][]byte {
	fields := make([][]byte, 0, 16)
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			i = len(head) - 1
		}
		line := head[:i+1]
		head = head[i+1:]
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			f := fields[len(fields)-1]
			fields[len(fields)-1] = f[:len(f)+len(line)] // the next bytes of the same block
			continue
		}
		fields = append(fields, line)
	}
	for i, f := range fields {
		fields[i] = bytes.TrimRight(f, "\r\n")
	}
	return fields
}

// fieldName is a field's name as written.
func fieldName(f []byte) []byte {
	if i := bytes.IndexByte(f, ':'); i >= 0 {
		return bytes.TrimRight(f[:i], " \t")
	}
	return nil
}

// headerKeys is the h= list for a message: each configured header as many
// times as the message holds it (at least once, so that one cannot be
// added), the over-signed ones once more.
func (s *dkimSigner) headerKeys(fields [][]byte) []string {
	counts := make([]int, len(s.headers)) // by position in s.headers
	for _, f := range fields {
		name := fieldName(f)
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

// appendSignatures appends one DKIM-Signature field per active key for
// the message whose header block is head (without the empty line) and
// whose body hash is bh.
func (s *dkimSigner) appendSignatures(out, head, bh []byte, now time.Time) ([]byte, error) {
	fields := headerFields(head)
	keys := s.headerKeys(fields)
	// The signed fields in relaxed form, each instance picked from the
	// bottom up (RFC 6376 §5.4.2); a name listed more often than present
	// adds nothing.
	used := make([]bool, len(fields))
	canon := make([]byte, 0, len(head))
	for _, k := range keys {
		for i := len(fields) - 1; i >= 0; i-- {
			if !used[i] && strings.EqualFold(string(fieldName(fields[i])), k) {
				used[i] = true
				canon = appendRelaxedField(canon, fields[i])
				canon = append(canon, '\r', '\n')
				break
			}
		}
	}
	bhB64 := base64.StdEncoding.EncodeToString(bh)
	ts := strconv.FormatInt(now.Unix(), 10)
	for ki, k := range s.keys {
		start := len(out)
		f := folder{b: out, col: 0}
		f.raw("DKIM-Signature:")
		f.word("v=1;")
		f.word("a=" + s.algos[ki] + ";")
		f.word("c=relaxed/relaxed;")
		f.word("d=" + k.Domain + ";")
		f.word("s=" + k.Selector + ";")
		f.word("t=" + ts + ";")
		for i, h := range keys {
			w := h + ":"
			switch {
			case i == 0 && len(keys) == 1:
				w = "h=" + h + ";"
			case i == 0:
				w = "h=" + w
			case i == len(keys)-1:
				w = h + ";"
			}
			if i == 0 {
				f.word(w)
			} else {
				f.next(w)
			}
		}
		f.word("bh=" + bhB64 + ";")
		f.word("b=")
		sum := sha256.New()
		sum.Write(canon)
		sum.Write(appendRelaxedField(nil, f.b[start:]))
		hashed := sum.Sum(nil)
		opts := crypto.Hash(crypto.SHA256)
		if s.algos[ki] == "ed25519-sha256" {
			opts = 0 // Ed25519 signs the hash itself (RFC 8463)
		}
		sig, err := k.Signer.Sign(rand.Reader, hashed, opts)
		if err != nil {
			return out, fmt.Errorf("selector %s: %w", k.Selector, err)
		}
		f.base64(base64.StdEncoding.EncodeToString(sig))
		out = append(f.b, '\r', '\n')
	}
	return out, nil
}

// appendRelaxedField appends a header field in relaxed form (RFC 6376
// §3.4.2) without its CRLF: the name lower-cased, the value unfolded,
// runs of white space made one space, none around the colon or at the end.
func appendRelaxedField(dst, f []byte) []byte {
	i := bytes.IndexByte(f, ':')
	if i < 0 {
		return append(dst, bytes.ToLower(bytes.TrimSpace(f))...)
	}
	for _, c := range bytes.TrimRight(f[:i], " \t") {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	dst = append(dst, ':')
	return appendCollapsed(dst, bytes.TrimLeft(f[i+1:], " \t\r\n"), true)
}

// appendCollapsed appends s with every run of white space (space and tab;
// CR and LF too with unfold, as in a folded header field) made one space,
// and none at the end.
func appendCollapsed(dst, s []byte, unfold bool) []byte {
	space := false
	for _, c := range s {
		if c == ' ' || c == '\t' || unfold && (c == '\r' || c == '\n') {
			space = true
			continue
		}
		if space {
			dst = append(dst, ' ')
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// folder writes a header field, folding before a word that would take a
// line past 78 characters.
type folder struct {
	b   []byte
	col int
}

func (f *folder) raw(s string) {
	f.b = append(f.b, s...)
	f.col += len(s)
}

// word writes a space (or a fold) and s.
func (f *folder) word(s string) {
	if f.col+1+len(s) > maxHeaderLine {
		f.b = append(f.b, "\r\n"...)
		f.col = 0
	}
	f.raw(" " + s)
}

// next writes s right after what is there, or on a new line.
func (f *folder) next(s string) {
	if f.col+len(s) > maxHeaderLine {
		f.b = append(f.b, "\r\n "...)
		f.col = 1
	}
	f.raw(s)
}

// base64 writes a base64 value, folded wherever a line is full.
func (f *folder) base64(s string) {
	for len(s) > 0 {
		room := maxHeaderLine - f.col
		if room <= 0 {
			f.b = append(f.b, "\r\n "...)
			f.col = 1
			continue
		}
		n := min(room, len(s))
		f.raw(s[:n])
		s = s[n:]
	}
}
