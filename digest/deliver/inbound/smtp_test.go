package inbound

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a Handler that keeps what it was given and can be told to
// fail temporarily.
type recorder struct {
	mu      sync.Mutex
	reports []*Report
	failing bool
}

func (r *recorder) Handle(_ context.Context, rep *Report) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing {
		return Temporary(errors.New("database is locked"))
	}
	r.reports = append(r.reports, rep)
	return nil
}

func (r *recorder) got() []*Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Report(nil), r.reports...)
}

func (r *recorder) setFailing(f bool) {
	r.mu.Lock()
	r.failing = f
	r.mu.Unlock()
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func listenerConfig() Config {
	c := Config{Listen: "127.0.0.1:0", Domains: []string{"haiphong.example.org"}}
	c.Defaults("bounces@haiphong.example.org", "unsubscribe@haiphong.example.org")
	c.MaxMessageBytes = 128 << 10
	return c
}

// startListener runs a Listener on a free loopback port until the test
// ends and returns its address.
func startListener(t *testing.T, cfg Config, h Handler) string {
	t.Helper()
	l, err := NewListener(cfg, &Processor{Parser: testParser(), Handler: h, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := l.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), "\n", "\r\n"))
}

// send delivers msg from from to rcpt with the standard library's SMTP
// client and returns the SMTP code of the first refusal (0 when sent).
func send(t *testing.T, addr, from, rcpt string, msg []byte) int {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	step := func(err error) int {
		var te *textproto.Error
		if errors.As(err, &te) {
			return te.Code
		}
		if err != nil {
			t.Fatalf("SMTP: %v", err)
		}
		return 0
	}
	if code := step(c.Mail(from)); code != 0 {
		return code
	}
	if code := step(c.Rcpt(rcpt)); code != 0 {
		return code
	}
	w, err := c.Data()
	if code := step(err); code != 0 {
		return code
	}
	if _, err := w.Write(msg); err != nil {
		t.Fatal(err)
	}
	if code := step(w.Close()); code != 0 {
		return code
	}
	c.Quit()
	return 0
}

func TestListenerAcceptsOwnAddressesOnly(t *testing.T) {
	h := &recorder{}
	addr := startListener(t, listenerConfig(), h)

	// A DSN to a VERP address: accepted, classified, the token read from
	// the RCPT TO.
	if code := send(t, addr, "", "bounces+1c.7q.FromRcpt@haiphong.example.org", fixture(t, "postfix-dsn-user-unknown.eml")); code != 0 {
		t.Fatalf("own VERP address refused with %d", code)
	}
	got := h.got()
	if len(got) != 1 || got[0].Kind != KindBounce || got[0].VERPToken != "1c.7q.FromRcpt" || got[0].Recipients[0].Class != Hard {
		t.Fatalf("handler got %+v", got)
	}
	// The unsubscribe address takes a mailto request.
	if code := send(t, addr, "reader@example.fr", "Unsubscribe@HAIPHONG.example.org", fixture(t, "mailto-unsubscribe.eml")); code != 0 {
		t.Fatalf("unsubscribe address refused with %d", code)
	}
	if got = h.got(); len(got) != 2 || got[1].Kind != KindUnsubscribe || len(got[1].Tokens) != 1 {
		t.Fatalf("handler got %+v", got[len(got)-1])
	}
	// Anything else is refused at RCPT: the listener never relays.
	for _, rcpt := range []string{"someone@example.net", "bounces@elsewhere.example", "postmaster@haiphong.example.org", "bounces+@haiphong.example.org"} {
		if code := send(t, addr, "x@example.net", rcpt, fixture(t, "human-reply.eml")); code != 550 {
			t.Errorf("RCPT TO:<%s> answered %d, want 550", rcpt, code)
		}
	}
	// An auto-reply is taken (250) but never reaches the handler.
	if code := send(t, addr, "", "bounces+jk@haiphong.example.org", fixture(t, "vacation-gmail.eml")); code != 0 {
		t.Fatalf("auto-reply refused with %d", code)
	}
	if n := len(h.got()); n != 2 {
		t.Fatalf("the handler saw %d messages, want 2 (the auto-reply is ignored)", n)
	}
}

func TestListenerRefusesOversizeAndSecondRecipient(t *testing.T) {
	h := &recorder{}
	addr := startListener(t, listenerConfig(), h)
	big := append(fixture(t, "qmail-text.eml"), []byte(strings.Repeat("padding padding padding padding\r\n", 8000))...)
	if code := send(t, addr, "", "bounces+a@haiphong.example.org", big); code != 552 {
		t.Errorf("a %d KiB message answered %d, want 552", len(big)>>10, code)
	}
	if n := len(h.got()); n != 0 {
		t.Errorf("an oversize message reached the handler")
	}

	// One recipient per transaction: the MTA sends the second on its own.
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail(""); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bounces+a@haiphong.example.org"); err != nil {
		t.Fatal(err)
	}
	var te *textproto.Error
	if err := c.Rcpt("bounces+b@haiphong.example.org"); !errors.As(err, &te) || te.Code != 452 {
		t.Errorf("second RCPT: %v, want 452", err)
	}
}

// A handler that cannot take a message now makes the listener answer 451:
// the MTA keeps the message and delivers it again later.
func TestListenerTemporaryFailureAsks4xx(t *testing.T) {
	h := &recorder{failing: true}
	addr := startListener(t, listenerConfig(), h)
	msg := fixture(t, "exim-dsn.eml")
	if code := send(t, addr, "", "bounces+4f@haiphong.example.org", msg); code != 451 {
		t.Fatalf("temporary handler failure answered %d, want 451", code)
	}
	h.setFailing(false)
	if code := send(t, addr, "", "bounces+4f@haiphong.example.org", msg); code != 0 {
		t.Fatalf("retry answered %d", code)
	}
	if got := h.got(); len(got) != 1 || got[0].Recipients[0].Address != "pham.quoc.huy@example.org.vn" {
		t.Fatalf("handler got %+v", got)
	}
}

func TestListenerLimits(t *testing.T) {
	cfg := listenerConfig()
	cfg.MaxConnections = 1
	cfg.MessagesPerMinute = 6 // a burst of one, then one every 10 s
	addr := startListener(t, cfg, &recorder{})

	first, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	// A second connection while the first is open is turned away.
	if c, err := smtp.Dial(addr); err == nil {
		c.Close()
		t.Error("a second connection was served beyond max_connections = 1")
	} else if !strings.Contains(err.Error(), "421") {
		t.Errorf("second connection: %v, want 421", err)
	}
	if err := first.Mail(""); err != nil {
		t.Fatal(err)
	}
	first.Reset()
	var te *textproto.Error
	if err := first.Mail(""); !errors.As(err, &te) || te.Code != 451 {
		t.Errorf("a message over messages_per_minute: %v, want 451", err)
	}
}

func TestListenerOffersSTARTTLS(t *testing.T) {
	cfg := listenerConfig()
	cfg.TLSCertFile, cfg.TLSKeyFile = selfSigned(t)
	addr := startListener(t, cfg, &recorder{})
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered")
	}
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatal(err)
	}
	if st, ok := c.TLSConnectionState(); !ok || !st.HandshakeComplete {
		t.Fatal("no TLS after STARTTLS")
	}
	if err := c.Mail(""); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bounces@haiphong.example.org"); err != nil {
		t.Fatal(err)
	}
}

// selfSigned writes a certificate and key for 127.0.0.1.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "inbound.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

func TestPipeExitCodes(t *testing.T) {
	h := &recorder{}
	p := &Processor{Parser: testParser(), Handler: h, Log: quietLog()}
	ctx := context.Background()
	if code := p.Pipe(ctx, strings.NewReader(string(fixture(t, "arf-aol.eml"))), Envelope{}, 1<<20); code != ExitHandled {
		t.Fatalf("complaint: exit %d", code)
	}
	if got := h.got(); len(got) != 1 || got[0].Kind != KindComplaint {
		t.Fatalf("handler got %+v", got)
	}
	// Not a mail at all, or not for us: consumed (exit 0), never bounced.
	for _, in := range []string{"garbage without a header", string(fixture(t, "human-reply.eml"))} {
		if code := p.Pipe(ctx, strings.NewReader(in), Envelope{}, 1<<20); code != ExitHandled {
			t.Errorf("exit %d for %.20q", code, in)
		}
	}
	// A permanent refusal by the handler (a forged token) is consumed too.
	p.Handler = HandlerFunc(func(context.Context, *Report) error { return errors.New("no valid token") })
	if code := p.Pipe(ctx, strings.NewReader(string(fixture(t, "mailto-unsubscribe.eml"))), Envelope{}, 1<<20); code != ExitHandled {
		t.Errorf("permanent handler error: exit %d, want 0", code)
	}
	h.setFailing(true)
	p.Handler = h
	if code := p.Pipe(ctx, strings.NewReader(string(fixture(t, "arf-aol.eml"))), Envelope{}, 1<<20); code != ExitTempFail {
		t.Errorf("temporary handler error: exit %d, want 75", code)
	}
	// A message over the size limit is read up to it: its report still counts.
	h.setFailing(false)
	big := string(fixture(t, "sendmail-dsn.eml")) + strings.Repeat("x", 200<<10)
	if code := p.Pipe(ctx, strings.NewReader(big), Envelope{To: "bounces+6h@haiphong.example.org"}, 64<<10); code != ExitHandled {
		t.Fatalf("big: exit %d", code)
	}
	if got := h.got(); got[len(got)-1].Kind != KindBounce || got[len(got)-1].VERPToken != "6h" {
		t.Errorf("big report %+v", got[len(got)-1])
	}
}
