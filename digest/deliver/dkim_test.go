package deliver

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/haiphong/hpdigest/digest/deliver/dkimkey"
)

// testDKIMKeys writes a key file per algorithm and answers DNS for them.
type testDKIMKeys struct {
	dir     string
	records map[string]string // selector._domainkey.domain -> TXT
}

func newTestDKIMKeys(t testing.TB) *testDKIMKeys {
	return &testDKIMKeys{dir: t.TempDir(), records: map[string]string{}}
}

// add writes a new key for selector and returns its key entry.
func (k *testDKIMKeys) add(t testing.TB, selector, algo string, active bool) DKIMKey {
	t.Helper()
	key, err := dkimkey.Generate(algo)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(k.dir, selector+".pem")
	if err := dkimkey.WriteNew(path, key); err != nil {
		t.Fatal(err)
	}
	rec, err := dkimkey.Record(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	k.records[dkimkey.Name(selector, "haiphong.example")] = rec
	return DKIMKey{Selector: selector, Algorithm: algo, PrivateKeyFile: path, Active: &active}
}

func (k *testDKIMKeys) verify(raw []byte) ([]*dkim.Verification, error) {
	return dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if r, ok := k.records[name]; ok {
			return []string{r}, nil
		}
		return nil, fmt.Errorf("no TXT record at %s", name)
	}})
}

// sendSigned sends one issue message to u1@example.org with cfg's DKIM
// and returns it as received.
func sendSigned(t *testing.T, dk DKIMConfig) []byte {
	t.Helper()
	ts := newTestServer(t)
	_, mk := openDB(t)
	cfg := relayCfg(ts, 1)
	cfg.DKIM = dk
	e := mk(cfg)
	if e.err != nil {
		t.Fatal(e.err)
	}
	if _, err := e.Send(context.Background(), job(1, newPeople(1))); err != nil {
		t.Fatal(err)
	}
	return ts.message(addr(1))
}

// The headers large senders over-sign are listed once more than the
// message holds them: a copy added in transit breaks the signature,
// while trace headers an MTA adds do not.
func TestDKIMOverSigning(t *testing.T) {
	keys := newTestDKIMKeys(t)
	k := keys.add(t, "hp2026a", "rsa", true)
	raw := sendSigned(t, DKIMConfig{Domain: "haiphong.example", Keys: []DKIMKey{k}})
	vs, err := keys.verify(raw)
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		t.Fatalf("verify: %v %+v", err, vs)
	}
	count := map[string]int{}
	for _, h := range vs[0].HeaderKeys {
		count[strings.ToLower(h)]++
	}
	for _, h := range OverSignedHeaders {
		if count[strings.ToLower(h)] != 2 {
			t.Errorf("%s listed %d times in h=, want 2 (present once, plus one)", h, count[strings.ToLower(h)])
		}
	}
	for _, h := range []string{"MIME-Version", "Content-Type", "List-Id", "Reply-To"} {
		if count[strings.ToLower(h)] != 1 {
			t.Errorf("%s listed %d times in h=, want 1", h, count[strings.ToLower(h)])
		}
	}

	headerEnd := bytes.Index(raw, []byte("\r\n\r\n")) + 2
	withHeader := func(h string, atTop bool) []byte {
		if atTop {
			return append([]byte(h+"\r\n"), raw...)
		}
		out := slices.Clone(raw[:headerEnd])
		out = append(out, h+"\r\n"...)
		return append(out, raw[headerEnd:]...)
	}
	for _, c := range []struct {
		name   string
		msg    []byte
		passes bool
	}{
		{"a Received header on top", withHeader("Received: from relay.example by mx.example; Fri, 6 Mar 2026 08:00:00 +0700", true), true},
		{"a second From on top", withHeader("From: Bank <security@bank.example>", true), false},
		{"a second From below", withHeader("From: Bank <security@bank.example>", false), false},
		{"a second List-Unsubscribe", withHeader("List-Unsubscribe: <https://evil.example/u>", true), false},
		{"a second Subject", withHeader("Subject: Your account is locked", false), false},
		{"an added Reply-To", withHeader("Reply-To: <phish@evil.example>", false), false},
	} {
		vs, err := keys.verify(c.msg)
		ok := err == nil && len(vs) == 1 && vs[0].Err == nil
		if ok != c.passes {
			t.Errorf("%s: verifies %v, want %v (%v %+v)", c.name, ok, c.passes, err, vs)
		}
	}
}

// Dual signing: every active key signs (RSA-2048 and Ed25519, RFC 8463),
// each signature verifies on its own; a key kept for the next rotation
// (active = false) does not sign.
func TestDKIMDualSignatureAndRotation(t *testing.T) {
	keys := newTestDKIMKeys(t)
	rsaKey := keys.add(t, "hp2026r", "rsa", true)
	edKey := keys.add(t, "hp2026e", "ed25519", true)
	next := keys.add(t, "hp2027r", "rsa", false)
	raw := sendSigned(t, DKIMConfig{Domain: "haiphong.example", Keys: []DKIMKey{rsaKey, edKey, next}})
	vs, err := keys.verify(raw)
	if err != nil || len(vs) != 2 {
		t.Fatalf("verify: %v, %d signatures, want 2", err, len(vs))
	}
	head := compactHeader(raw)
	for _, want := range []string{"a=rsa-sha256", "a=ed25519-sha256", "s=hp2026r", "s=hp2026e"} {
		if !strings.Contains(head, want) {
			t.Errorf("no %s in the signatures", want)
		}
	}
	if strings.Contains(head, "hp2027r") {
		t.Error("the inactive key signed")
	}
	for _, v := range vs {
		if v.Err != nil {
			t.Errorf("signature by %s does not verify: %v", v.Domain, v.Err)
		}
	}
	// A second From breaks both.
	vs, _ = keys.verify(append([]byte("From: <x@evil.example>\r\n"), raw...))
	for _, v := range vs {
		if v.Err == nil {
			t.Error("a signature survived a second From")
		}
	}

	// The rotation's next step: the new key signs, the old one is published
	// but no longer signs.
	f := false
	rsaKey.Active, next.Active = &f, nil
	raw = sendSigned(t, DKIMConfig{Domain: "haiphong.example", Keys: []DKIMKey{rsaKey, next}})
	vs, err = keys.verify(raw)
	if err != nil || len(vs) != 1 || vs[0].Err != nil || !strings.Contains(compactHeader(raw), "s=hp2027r;") {
		t.Fatalf("after the rotation: %v %+v\n%s", err, vs, raw[:300])
	}
}

// compactHeader is a message's header without white space (folding).
func compactHeader(raw []byte) string {
	return strings.Join(strings.Fields(string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))])), "")
}

func TestDKIMKeyListValidation(t *testing.T) {
	keys := newTestDKIMKeys(t)
	rsaKey := keys.add(t, "a", "rsa", true)
	f := false
	for _, c := range []struct {
		dk   DKIMConfig
		want string
	}{
		{DKIMConfig{Keys: []DKIMKey{rsaKey}}, "smtp.dkim.domain: is empty"},
		{DKIMConfig{Domain: "d.example", Keys: []DKIMKey{{PrivateKeyFile: rsaKey.PrivateKeyFile}}}, "smtp.dkim.keys[0].selector: is empty"},
		{DKIMConfig{Domain: "d.example", Keys: []DKIMKey{rsaKey, rsaKey}}, "smtp.dkim.keys[1].selector: \"a\" is listed twice"},
		{DKIMConfig{Domain: "d.example", Keys: []DKIMKey{{Selector: "a", Algorithm: "dsa", PrivateKeyFile: "k"}}}, "smtp.dkim.keys[0].algorithm"},
		{DKIMConfig{Domain: "d.example", Keys: []DKIMKey{{Selector: "a"}}}, "smtp.dkim.keys[0].private_key_file: set it or private_key_env"},
		{DKIMConfig{Domain: "d.example", Keys: []DKIMKey{{Selector: "a", PrivateKeyFile: rsaKey.PrivateKeyFile, Active: &f}}}, "smtp.dkim.keys: no key is active"},
		{DKIMConfig{Domain: "d.example", Keys: []DKIMKey{{Selector: "a", Algorithm: "ed25519", PrivateKeyFile: rsaKey.PrivateKeyFile}}}, "smtp.dkim.keys[0].algorithm: \"ed25519\", but"},
		{DKIMConfig{Domain: "d.example", Headers: []string{"To"}, Keys: []DKIMKey{rsaKey}}, "smtp.dkim.headers: must include From"},
	} {
		err := Config{Host: "x", DKIM: c.dk}.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.dk, err, c.want)
		}
	}
	loaded, err := DKIMConfig{Domain: "d.example", Keys: []DKIMKey{rsaKey}}.LoadKeys()
	if err != nil || len(loaded) != 1 || loaded[0].Selector != "a" || !loaded[0].Active || loaded[0].Domain != "d.example" {
		t.Errorf("loaded %+v %v", loaded, err)
	}
}

// One parser reads every key form the project writes or accepts.
func TestDKIMKeyFormsParse(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ek, _ := ed25519.GenerateKey(rand.Reader)
	for _, key := range []crypto.Signer{rk, ek} {
		path := filepath.Join(t.TempDir(), "k.pem")
		if err := dkimkey.WriteNew(path, key); err != nil {
			t.Fatal(err)
		}
		loaded, err := DKIMConfig{Domain: "d.example", Selector: "s", PrivateKeyFile: path}.LoadKeys()
		if err != nil || len(loaded) != 1 || dkimkey.Algorithm(loaded[0].Signer) != dkimkey.Algorithm(key) {
			t.Errorf("%T: %+v %v", key, loaded, err)
		}
	}
}
