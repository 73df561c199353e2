package deliver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/haiphong/hpdigest/internal/progress"
	"github.com/haiphong/hpdigest/store"
)

func TestDKIMSignatureVerifiesWithListUnsubscribeSigned(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	for _, c := range []struct {
		name string
		key  any
		pub  func() string
	}{
		{"rsa", rsaKey, func() string {
			b, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
			return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(b)
		}},
		{"ed25519", edKey, func() string {
			return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edKey.Public().(ed25519.PublicKey))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			der, err := x509.MarshalPKCS8PrivateKey(c.key)
			if err != nil {
				t.Fatal(err)
			}
			keyFile := filepath.Join(t.TempDir(), "dkim.pem")
			os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
			ts := newTestServer(t)
			_, mk := openDB(t)
			cfg := relayCfg(ts, 1)
			cfg.DKIM = DKIMConfig{Domain: "haiphong.example", Selector: "hp2026", PrivateKeyFile: keyFile}
			e := mk(cfg)
			if e.err != nil {
				t.Fatal(e.err)
			}
			if _, err := e.Send(context.Background(), job(1, newPeople(2))); err != nil {
				t.Fatal(err)
			}
			raw := ts.message(addr(2))
			// The signed-header list is long enough to be folded over several lines.
			sig := raw[:bytes.Index(raw, []byte("\r\n\r\n"))]
			if !bytes.Contains(sig, []byte("DKIM-Signature:")) {
				t.Fatalf("not signed:\n%s", sig)
			}
			vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
				LookupTXT: func(domain string) ([]string, error) {
					if domain != "hp2026._domainkey.haiphong.example" {
						t.Errorf("looked up %s", domain)
					}
					return []string{c.pub()}, nil
				},
			})
			if err != nil || len(vs) != 1 {
				t.Fatalf("verify: %v %d", err, len(vs))
			}
			if vs[0].Err != nil {
				t.Fatalf("signature does not verify: %v\n%s", vs[0].Err, sig)
			}
			signed := strings.Join(vs[0].HeaderKeys, ",")
			for _, h := range []string{"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "From", "Subject", "Message-ID"} {
				if !strings.Contains(strings.ToLower(signed), strings.ToLower(h)) {
					t.Errorf("%s not signed (h=%s)", h, signed)
				}
			}
			// Tampering with the one-click header breaks the signature.
			bad := bytes.Replace(raw, []byte("List-Unsubscribe=One-Click"), []byte("List-Unsubscribe=One-Clack"), 1)
			vs, _ = dkim.VerifyWithOptions(bytes.NewReader(bad), &dkim.VerifyOptions{LookupTXT: func(string) ([]string, error) { return []string{c.pub()}, nil }})
			if len(vs) != 1 || vs[0].Err == nil {
				t.Error("a changed List-Unsubscribe-Post still verifies")
			}
		})
	}
}

func TestDirEngineWritesOneFilePerRecipient(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "hp.db")
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := store.Migrate(context.Background(), db, Migrations()); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "outbox")
	e := NewDirEngine(db, dir, nil)
	sum, err := e.Send(context.Background(), job(3, newPeople(4)))
	if err != nil || sum.Sent != 4 {
		t.Fatalf("%+v %v", sum, err)
	}
	names := func() []string {
		ents, _ := os.ReadDir(dir)
		var n []string
		for _, e := range ents {
			n = append(n, e.Name())
		}
		sort.Strings(n)
		return n
	}
	want := []string{"3-1-u1@example.org.eml", "3-2-u2@example.org.eml", "3-3-u3@example.org.eml", "3-4-u4@example.org.eml"}
	if got := names(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("files %v, want %v", got, want)
	}
	b, _ := os.ReadFile(filepath.Join(dir, want[1]))
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil || !strings.Contains(m.Header.Get("To"), "u2@example.org") {
		t.Fatalf("file content: %v %q", err, m.Header.Get("To"))
	}
	os.Remove(filepath.Join(dir, want[0]))
	if sum, _ := e.Send(context.Background(), job(3, newPeople(4))); sum.SentNow != 0 || len(names()) != 3 {
		t.Errorf("second run wrote files again: %+v %v", sum, names())
	}
	msg, _ := compose(context.Background(), Recipient{Email: "new@example.org", Name: "Lan"})
	if err := e.SendOne(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := names()
	if len(got) != 4 || !strings.HasPrefix(got[3], "tx-") || !strings.HasSuffix(got[3], "-new@example.org.eml") {
		t.Errorf("transactional file: %v", got)
	}
}

func TestProgressPlainLinesAndBar(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	p := showSend(progress.NewFor(&buf, log, time.Hour, false, sendBar...))
	p(Summary{IssueID: 5, Total: 100, Sent: 10, Rate: 5, Elapsed: 2 * time.Second, Pending: 90, RateLimit: 20})
	p(Summary{IssueID: 5, Total: 100, Sent: 20, Rate: 5, Elapsed: 4 * time.Second, Pending: 80}) // throttled
	p(Summary{IssueID: 5, Total: 100, Sent: 100, Rate: 5, Elapsed: 20 * time.Second, Done: true})
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 log lines (first and final), got:\n%s", out)
	}
	if !strings.Contains(lines[0], "done=10 total=100") || !strings.Contains(lines[0], "rate_per_s=5.0") || !strings.Contains(lines[0], "eta=18s") || !strings.Contains(lines[0], "limit_per_s=20") {
		t.Errorf("line %q", lines[0])
	}
	if !strings.Contains(lines[1], "done=100") {
		t.Errorf("final line %q", lines[1])
	}

	buf.Reset()
	bar := showSend(progress.NewFor(&buf, log, time.Hour, true, sendBar...))
	bar(Summary{IssueID: 5, Total: 200, Sent: 50, Pending: 150, Elapsed: time.Second, Rate: 50})
	if s := buf.String(); !strings.Contains(s, "50/200") || !strings.Contains(s, "msg/s") || !strings.Contains(s, "25%") {
		t.Errorf("bar output %q", s)
	}
}

func TestLinesStartingWithADotArriveIntact(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	e := mk(relayCfg(ts, 1))
	text := ".leading\nmiddle\n.\n..two dots\nbare LF above, end without newline ."
	j := job(1, newPeople(2))
	j.Compose = func(ctx context.Context, r Recipient) (*Message, error) {
		m, _ := compose(ctx, r)
		m.Text = text
		return m, nil
	}
	if sum, err := e.Send(context.Background(), j); err != nil || sum.Sent != 2 {
		t.Fatalf("%+v %v", sum, err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(ts.message(addr(2))))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	p, err := multipart.NewReader(m.Body, params["boundary"]).NextPart()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(p)
	if want := strings.ReplaceAll(text, "\n", "\r\n"); string(got) != want {
		t.Errorf("text part\n%q\nwant\n%q", got, want)
	}

	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	for in, want := range map[string]string{
		".a\r\nb\n.\r\nc": "..a\r\nb\r\n..\r\nc\r\n.\r\n",
		"\n.x\n\n..\n":    "\r\n..x\r\n\r\n...\r\n.\r\n",
		"":                "\r\n.\r\n",
		"a\r\n":           "a\r\n.\r\n",
		"a\r\n.":          "a\r\n..\r\n.\r\n",
	} {
		buf.Reset()
		if err := writeDotStuffed(w, []byte(in), false); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != want {
			t.Errorf("dot-stuffed %q: %q, want %q", in, got, want)
		}
	}
}

func TestOneSenderPerIssue(t *testing.T) {
	ts := newTestServer(t)
	_, mk := openDB(t)
	e := mk(relayCfg(ts, 1))
	other := mk(relayCfg(ts, 1)) // e.g. -send-now next to the daemon
	ctx := context.Background()
	if _, err := e.db.Exec(`INSERT INTO delivery_jobs (issue_id, created_at) VALUES (1, 1)`); err != nil {
		t.Fatal(err)
	}
	if err := e.acquireLease(ctx, 1, newLeaseOwner()); err != nil {
		t.Fatal(err)
	}
	_, err := other.Send(ctx, job(1, newPeople(3)))
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("second sender: %v, want ErrBusy", err)
	}
	if len(ts.counts()) != 0 {
		t.Fatal("the second sender sent mail")
	}
	// A lease left by a process that died (kill -9) is taken over at once.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	dead := fmt.Sprintf("%s:%d:deadbeef", host, cmd.Process.Pid)
	e.db.Exec(`UPDATE delivery_jobs SET lease_owner = ?, lease_until = ? WHERE issue_id = 1`, dead, time.Now().Add(time.Hour).Unix())
	sum, err := other.Send(ctx, job(1, newPeople(3)))
	if err != nil || sum.Sent != 3 {
		t.Fatalf("after the holder died: %+v %v", sum, err)
	}
	var owner string
	e.db.QueryRow(`SELECT lease_owner FROM delivery_jobs WHERE issue_id = 1`).Scan(&owner)
	if owner != "" {
		t.Errorf("lease not released: %q", owner)
	}
}

func TestRenderForPreview(t *testing.T) {
	m, _ := compose(context.Background(), Recipient{SubscriberID: 4, Email: "x@example.org", Name: "Hà"})
	b, err := Render(m)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil || msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.HasSuffix(msg.Header.Get("Message-ID"), "@haiphong.example>") {
		t.Fatalf("%v %v", err, msg.Header)
	}
	if _, err := Render(&Message{FromAddress: "not an address", To: "x@example.org"}); err == nil {
		t.Error("a bad From address rendered")
	}
}

// selfSigned returns a server certificate for 127.0.0.1 and a CA file trusting it.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, ca
}

func TestSTARTTLSAndAuth(t *testing.T) {
	cert, caFile := selfSigned(t)
	ts := newTestServerWith(t, func(ts *testServer) {
		ts.tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		ts.user, ts.password = "digest", "s3cret"
	})
	_, mk := openDB(t)
	cfg := Config{Host: "127.0.0.1", Port: ts.port, TLS: "starttls", TLSCAFile: caFile, Username: "digest", Password: "s3cret",
		Workers: 2, Timeout: 5 * time.Second}
	e := mk(cfg)
	sum, err := e.Send(context.Background(), job(1, newPeople(5)))
	if err != nil || sum.Sent != 5 {
		t.Fatalf("%+v %v", sum, err)
	}
	ts.mu.Lock()
	if ts.tlsMsgs != 5 || ts.authOK == 0 || ts.authFail != 0 {
		t.Errorf("over TLS %d of 5, logins ok %d, failed %d", ts.tlsMsgs, ts.authOK, ts.authFail)
	}
	ts.mu.Unlock()

	// A wrong password is not a relay outage: Send stops with the reason instead of pausing.
	cfg.Password = "wrong"
	e2 := mk(cfg)
	_, err = e2.Send(context.Background(), job(2, newPeople(5)))
	if err == nil || !strings.Contains(err.Error(), "refused the session") {
		t.Fatalf("err %v", err)
	}
	if sum, _ := e2.Status(context.Background(), 2); sum.Pending != 5 {
		t.Errorf("rows after the refused login: %+v", sum)
	}

	// Without the CA the certificate is not trusted: stop and say so.
	cfg.Password, cfg.TLSCAFile = "s3cret", ""
	e3 := mk(cfg)
	if _, err := e3.Send(context.Background(), job(3, newPeople(2))); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: %v", err)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tlsMsgs != 5 {
		t.Errorf("%d messages over TLS, want still 5", ts.tlsMsgs)
	}
}

// The dispatcher waits while the workers' queue is full and fills it
// again once a worker finds it half empty: with one worker (a queue of
// four) and more readers than a batch, every reader still gets the
// message once, and a second worker's connection changes nothing.
func TestDispatcherRefillsTheQueueForOneWorker(t *testing.T) {
	for _, workers := range []int{1, 2} {
		ts := newTestServer(t)
		_, mk := openDB(t)
		e := mk(relayCfg(ts, workers))
		e.BatchSize = 9
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		sum, err := e.Send(ctx, job(1, newPeople(75)))
		cancel()
		if err != nil {
			t.Fatalf("%d workers: %v (the dispatcher stalled?)", workers, err)
		}
		if sum.Sent != 75 || !sum.Done {
			t.Fatalf("%d workers: %+v", workers, sum)
		}
		wantEachOnce(t, ts, 75)
	}
}
