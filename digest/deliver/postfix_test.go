package deliver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/haiphong/hpdigest/internal/postfixtest"
	"github.com/haiphong/hpdigest/internal/smtptest"
)

// TestEndToEndWithPostfixSmtpSink sends through a real MTA implementation
// (Postfix's smtp-sink, dumping each message to a file) and checks what
// arrived: one message per recipient, envelope, headers, parts, DKIM.
func TestEndToEndWithPostfixSmtpSink(t *testing.T) {
	// Under /tmp directly: smtp-sink runs as nobody when started by root and
	// cannot enter t.TempDir()'s private parent.
	dump, err := os.MkdirTemp("", "hpd-smtp-sink-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dump, 0o777)
	t.Cleanup(func() { os.RemoveAll(dump) })
	port := postfixtest.Sink(t, dump)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyFile := filepath.Join(t.TempDir(), "k.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	txt := "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)

	_, mk := openDB(t)
	e := mk(Config{Host: "127.0.0.1", Port: port, TLS: "none", Workers: 2, PerConn: 3, Timeout: 10 * time.Second,
		EnvelopeFrom: "bounces@haiphong.example",
		DKIM:         DKIMConfig{Domain: "haiphong.example", Selector: "s1", PrivateKeyFile: keyFile}})
	const n = 7
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a dead sink pauses the send
	defer cancel()
	sum, err := e.Send(ctx, job(1, newPeople(n)))
	if err != nil || sum.Sent != n {
		t.Fatalf("%+v %v", sum, err)
	}
	if sum, _ = e.Send(context.Background(), job(1, newPeople(n))); sum.SentNow != 0 {
		t.Fatalf("second run sent %d", sum.SentNow)
	}
	m, _ := compose(context.Background(), Recipient{Email: "confirm@example.org", Name: "Lan"})
	if err := e.SendOne(context.Background(), m); err != nil {
		t.Fatal(err)
	}

	perRcpt := map[string]int{}
	var files []string
	for i := 0; ; i++ { // smtp-sink writes the file as the message ends
		files, _ = filepath.Glob(filepath.Join(dump, "*"))
		if len(files) >= n+1 || i == 300 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(files) != n+1 {
		t.Fatalf("%d files in the dump, want %d", len(files), n+1)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		rcpt := strings.Trim(msg.Header.Get("X-Rcpt-Args"), "<>")
		perRcpt[rcpt]++
		if got := msg.Header.Get("X-Mail-Args"); !strings.Contains(got, "<bounces@haiphong.example>") {
			t.Errorf("MAIL FROM %q", got)
		}
		if to, err := msg.Header.AddressList("To"); err != nil || to[0].Address != rcpt {
			t.Errorf("To %v for envelope %s", to, rcpt)
		}
		if msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.HasPrefix(msg.Header.Get("List-Unsubscribe"), "<https://haiphong.example/unsubscribe/") {
			t.Errorf("list headers %v", msg.Header)
		}
		if !strings.HasSuffix(msg.Header.Get("Message-ID"), "@haiphong.example>") {
			t.Errorf("Message-ID %q", msg.Header.Get("Message-ID"))
		}
		parts, err := smtptest.Parts(msg)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, p := range parts {
			kinds = append(kinds, p.Type)
			if !strings.Contains(p.Body, "Xin chào") {
				t.Errorf("%s part of %s: %q", p.Type, rcpt, p.Body)
			}
		}
		if strings.Join(kinds, ",") != "text/plain,text/html" {
			t.Errorf("%s: parts %v", rcpt, kinds)
		}
		// The sink prepends its own trace headers; the signature must survive them.
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: func(string) ([]string, error) { return []string{txt}, nil }})
		if err != nil || len(vs) != 1 || vs[0].Err != nil {
			t.Errorf("%s: DKIM %v %v", rcpt, err, vs)
		}
	}
	for id := int64(1); id <= n; id++ {
		if perRcpt[addr(id)] != 1 {
			t.Errorf("%s: %d messages", addr(id), perRcpt[addr(id)])
		}
	}
	if perRcpt["confirm@example.org"] != 1 {
		t.Errorf("transactional message: %v", perRcpt)
	}
}
