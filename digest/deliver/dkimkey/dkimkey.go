// Package dkimkey makes and reads DKIM signing keys and writes the DNS TXT
// record that publishes their public half (RFC 6376 §3.6.1; Ed25519 keys
// per RFC 8463).
package dkimkey

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// RSABits is the size of generated RSA keys: what large senders use and
// every verifier accepts.
const RSABits = 2048

// Generate makes a new key: algo is "rsa" (2048 bits) or "ed25519".
func Generate(algo string) (crypto.Signer, error) {
	switch algo {
	case "rsa":
		return rsa.GenerateKey(rand.Reader, RSABits)
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("dkim key algorithm %q: use rsa or ed25519", algo)
}

// WriteNew writes key as PEM (PKCS #8) to a new file readable by its owner
// only. It never replaces an existing file.
func WriteNew(path string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// Parse reads a PEM private key: RSA (PKCS #1 or #8) or Ed25519 (PKCS #8).
func Parse(pemData []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(pemData)
	if blk == nil {
		return nil, errors.New("private key is not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("private key: %T is neither RSA nor Ed25519", k)
}

// Record is the TXT record value for pub: "v=DKIM1; k=rsa; p=...".
func Record(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return "", err
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k), nil
	}
	return "", fmt.Errorf("dkim: %T is neither RSA nor Ed25519", pub)
}

// Name is the DNS name of a selector's record.
func Name(selector, domain string) string {
	return selector + "._domainkey." + strings.TrimSuffix(domain, ".")
}

// ZoneLine is the record as a zone-file line, its value split into
// quoted strings of at most 255 bytes (one TXT string cannot be longer;
// resolvers join them).
func ZoneLine(selector, domain, value string) string {
	var quoted []string
	for _, s := range Split(value) {
		quoted = append(quoted, `"`+s+`"`)
	}
	return Name(selector, domain) + " IN TXT " + strings.Join(quoted, " ")
}

// Split cuts a TXT value into strings of at most 255 bytes.
func Split(value string) []string {
	var out []string
	for len(value) > 255 {
		out = append(out, value[:255])
		value = value[255:]
	}
	return append(out, value)
}

// Algorithm names a key's algorithm as DKIM's k= tag does.
func Algorithm(key crypto.Signer) string {
	if _, ok := key.Public().(ed25519.PublicKey); ok {
		return "ed25519"
	}
	return "rsa"
}
