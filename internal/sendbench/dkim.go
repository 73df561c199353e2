package sendbench

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// Signer signs copies of one message with DKIM (relaxed/relaxed, SHA-256)
// as a bare client that signs every message it sends would: the body hash
// and the canonical form of the signed header fields are computed once,
// the private-key signature for every copy.
type Signer struct {
	key     crypto.Signer
	hash    crypto.Hash // 0 for Ed25519, which hashes itself
	signed  []byte      // the signed header fields, canonical
	field   string      // the DKIM-Signature field up to "b="
	canonTS []byte      // the field without its b= value, canonical, no CRLF
}

// NewSigner prepares to sign msg (CRLF line ends) for domain and selector
// with key, listing headers in h= as given (a name more often than the
// message holds it over-signs it).
func NewSigner(msg []byte, domain, selector string, key crypto.Signer, headers []string) (*Signer, error) {
	head, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		return nil, errors.New("sendbench: message without a body")
	}
	algo, hash := "rsa-sha256", crypto.SHA256
	if _, ok := key.Public().(ed25519.PublicKey); ok {
		algo, hash = "ed25519-sha256", 0
	}
	bh := sha256.Sum256(canonicalBody(body))
	s := &Signer{key: key, hash: hash}
	s.signed = canonicalHeaders(head, headers)
	s.field = "DKIM-Signature: v=1; a=" + algo + "; c=relaxed/relaxed; d=" + domain + "; s=" + selector + ";\r\n h=" +
		strings.Join(headers, ":") + ";\r\n bh=" + base64.StdEncoding.EncodeToString(bh[:]) + ";\r\n b="
	s.canonTS = []byte(canonicalField(s.field))
	return s, nil
}

// Sign returns a DKIM-Signature field, CRLF-terminated, for one copy.
func (s *Signer) Sign() ([]byte, error) {
	h := sha256.New()
	h.Write(s.signed)
	h.Write(s.canonTS)
	sig, err := s.key.Sign(rand.Reader, h.Sum(nil), s.hash) // Ed25519 signs the hash itself (RFC 8463)
	if err != nil {
		return nil, err
	}
	b64 := base64.StdEncoding.EncodeToString(sig)
	out := make([]byte, 0, len(s.field)+len(b64)+len(b64)/70*3+2)
	out = append(out, s.field...)
	for len(b64) > 70 {
		out = append(out, b64[:70]...)
		out = append(out, "\r\n "...)
		b64 = b64[70:]
	}
	out = append(out, b64...)
	return append(out, '\r', '\n'), nil
}

// canonicalHeaders returns the fields names picks, each instance taken
// from the bottom up, in relaxed canonical form (RFC 6376 §3.4.2).
func canonicalHeaders(head []byte, names []string) []byte {
	var fields []string
	for _, line := range strings.SplitAfter(string(head)+"\r\n", "\r\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			fields[len(fields)-1] += line
			continue
		}
		fields = append(fields, line)
	}
	used := make([]bool, len(fields))
	var out []byte
	for _, name := range names {
		for i := len(fields) - 1; i >= 0; i-- {
			k, _, _ := strings.Cut(fields[i], ":")
			if !used[i] && strings.EqualFold(strings.TrimSpace(k), name) {
				used[i] = true
				out = append(out, canonicalField(fields[i])...)
				out = append(out, "\r\n"...)
				break
			}
		}
	}
	return out
}

// canonicalField is one field in relaxed form without its CRLF: the name
// lower-cased, runs of white space (line folds included) made one space,
// none around the colon or at the end.
func canonicalField(f string) string {
	k, v, _ := strings.Cut(f, ":")
	return strings.ToLower(strings.TrimSpace(k)) + ":" + strings.Join(strings.Fields(v), " ")
}

// canonicalBody is the relaxed canonical body (RFC 6376 §3.4.4): white
// space runs made one space, none at a line's end, no empty lines at the
// end.
func canonicalBody(body []byte) []byte {
	var out []byte
	blank := 0
	for _, line := range bytes.Split(body, []byte("\r\n")) {
		var canon []byte
		space := false
		for _, c := range line {
			if c == ' ' || c == '\t' {
				space = true
				continue
			}
			if space {
				canon = append(canon, ' ')
				space = false
			}
			canon = append(canon, c)
		}
		if len(canon) == 0 {
			blank++
			continue
		}
		for ; blank > 0; blank-- {
			out = append(out, "\r\n"...)
		}
		out = append(append(out, canon...), "\r\n"...)
	}
	return out
}
