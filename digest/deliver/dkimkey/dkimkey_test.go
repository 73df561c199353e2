package dkimkey

import (
	"bytes"
	"crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// A key written by WriteNew signs a message that verifies against the TXT
// record Record gives, for both algorithms: what an operator publishes is
// what receivers need.
func TestKeySignsAndRecordVerifies(t *testing.T) {
	for _, algo := range []string{"rsa", "ed25519"} {
		t.Run(algo, func(t *testing.T) {
			key, err := Generate(algo)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "hp2026.pem")
			if err := WriteNew(path, key); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("key file mode %v, %v; want 0600", fi.Mode(), err)
			}
			if err := WriteNew(path, key); err == nil {
				t.Fatal("an existing key file was overwritten")
			}
			data, _ := os.ReadFile(path)
			back, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := Record(back.Public())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(rec, "v=DKIM1; k="+algo+"; p=") || Algorithm(back) != algo {
				t.Fatalf("record %q", rec)
			}
			line := ZoneLine("hp2026", "haiphong.example.org", rec)
			if !strings.HasPrefix(line, "hp2026._domainkey.haiphong.example.org IN TXT \"v=DKIM1;") {
				t.Fatalf("zone line %q", line)
			}
			for _, s := range Split(rec) {
				if len(s) > 255 {
					t.Fatalf("a TXT string of %d bytes", len(s))
				}
			}
			if strings.Join(Split(rec), "") != rec {
				t.Fatal("split loses bytes")
			}
			verifyWith(t, back, rec)
		})
	}
}

func verifyWith(t *testing.T, key crypto.Signer, record string) {
	t.Helper()
	msg := "From: digest@haiphong.example.org\r\nTo: a@example.net\r\nSubject: hi\r\n\r\nbody\r\n"
	var signed bytes.Buffer
	err := dkim.Sign(&signed, strings.NewReader(msg), &dkim.SignOptions{Domain: "haiphong.example.org", Selector: "hp2026", Signer: key})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := dkim.VerifyWithOptions(&signed, &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if name != "hp2026._domainkey.haiphong.example.org" {
			t.Errorf("looked up %q", name)
		}
		return []string{record}, nil
	}})
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		t.Fatalf("verify: %v %+v", err, vs)
	}
}

func TestParseRejects(t *testing.T) {
	if _, err := Parse([]byte("not pem")); err == nil {
		t.Fatal("garbage parsed")
	}
	if _, err := Generate("dsa"); err == nil {
		t.Fatal("dsa generated")
	}
}
