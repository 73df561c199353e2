package deliver

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/haiphong/hpdigest/store"
)

// testServer is a real SMTP server (go-smtp) on loopback whose answers the
// test scripts: 4xx/5xx/421 replies, dropped connections and stalls.
type testServer struct {
	t    testing.TB
	addr string
	port int
	srv  *smtp.Server
	lis  net.Listener
	mu   sync.Mutex
	got  map[string]int    // recipient -> messages received
	raw  map[string][]byte // recipient -> last message received
	from map[string]string // recipient -> envelope sender of the last message
	rcpt map[string]int    // recipient -> RCPT commands seen
	// per connection: messages accepted
	conns []int
	mails int // MAIL commands seen
	// hooks (under mu when read); return an *smtp.SMTPError to refuse.
	onMail func(s *testSession, n int) error            // n counts MAIL commands on this connection (1-based)
	onRcpt func(s *testSession, to string, n int) error // n counts RCPTs for this address over all connections
	onData func(to string, total int)                   // after a message is accepted; total = messages so far
	keep   bool                                         // keep raw bytes
	bare   bool                                         // benchmark sink: count messages only
	total  int
	tlsAuth
}

// TLS and AUTH (set through newTestServerWith).
type tlsAuth struct {
	tlsConfig *tls.Config
	user      string
	password  string
	authOK    int
	authFail  int
	tlsMsgs   int // messages received over TLS
}

func (s *testSession) AuthMechanisms() []string {
	if s.srv.password == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		ts := s.srv
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if user != ts.user || pass != ts.password {
			ts.authFail++
			return smtpErrReply(535, smtp.EnhancedCode{5, 7, 8}, "authentication failed")
		}
		ts.authOK++
		return nil
	}), nil
}

type testSession struct {
	srv    *testServer
	c      *smtp.Conn
	connNo int
	mails  int
	from   string
	to     []string
}

func newTestServer(t testing.TB) *testServer { return newTestServerWith(t, nil) }

// newTestServerWith lets setup configure TLS or AUTH before the server starts.
func newTestServerWith(t testing.TB, setup func(*testServer)) *testServer {
	ts := &testServer{t: t, got: map[string]int{}, raw: map[string][]byte{}, from: map[string]string{}, rcpt: map[string]int{}, keep: true}
	if setup != nil {
		setup(ts)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	ts.port = l.Addr().(*net.TCPAddr).Port
	ts.start(l)
	t.Cleanup(func() { ts.stop() })
	return ts
}

func (ts *testServer) start(l net.Listener) {
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		ts.mu.Lock()
		ts.conns = append(ts.conns, 0)
		n := len(ts.conns) - 1
		ts.mu.Unlock()
		return &testSession{srv: ts, c: c, connNo: n}, nil
	}))
	s.Domain = "sink.test"
	s.AllowInsecureAuth = ts.tlsConfig == nil
	s.TLSConfig = ts.tlsConfig
	s.MaxRecipients = 10
	s.ReadTimeout = 30 * time.Second
	s.ErrorLog = log.New(io.Discard, "", 0) // clients killed on purpose are not news
	ts.mu.Lock()
	ts.srv, ts.lis = s, l
	ts.mu.Unlock()
	go s.Serve(l)
}

func (ts *testServer) stop() {
	ts.mu.Lock()
	s, l := ts.srv, ts.lis
	ts.srv, ts.lis = nil, nil
	ts.mu.Unlock()
	if l != nil {
		l.Close() // Serve may not have registered it yet
	}
	if s != nil {
		s.Close()
	}
}

// restart listens again on the same port (after stop).
func (ts *testServer) restart() {
	l, err := net.Listen("tcp", ts.addr)
	if err != nil {
		ts.t.Fatalf("relisten %s: %v", ts.addr, err)
	}
	ts.start(l)
}

func (s *testSession) Reset()        { s.to = nil }
func (s *testSession) Logout() error { return nil }

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	s.mails++
	s.from = from
	ts := s.srv
	ts.mu.Lock()
	ts.mails++
	h := ts.onMail
	ts.mu.Unlock()
	if h != nil {
		return h(s, s.mails)
	}
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ts := s.srv
	if ts.bare {
		s.to = append(s.to[:0], to)
		return nil
	}
	ts.mu.Lock()
	ts.rcpt[to]++
	n := ts.rcpt[to]
	h := ts.onRcpt
	ts.mu.Unlock()
	if h != nil {
		if err := h(s, to, n); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	var b []byte
	var err error
	ts := s.srv
	if ts.keep {
		b, err = io.ReadAll(r)
	} else {
		_, err = io.Copy(io.Discard, r)
	}
	if err != nil {
		return err
	}
	ts.mu.Lock()
	if ts.bare {
		ts.total++
		ts.mu.Unlock()
		return nil
	}
	for _, to := range s.to {
		ts.got[to]++
		ts.total++
		if ts.keep {
			ts.raw[to] = b
		}
		ts.from[to] = s.from
	}
	ts.conns[s.connNo]++
	if _, ok := s.c.TLSConnectionState(); ok {
		ts.tlsMsgs++
	}
	total := ts.total
	h := ts.onData
	ts.mu.Unlock()
	if h != nil {
		for _, to := range s.to {
			h(to, total)
		}
	}
	return nil
}

// drop closes the client's TCP connection without a reply.
func (s *testSession) drop() error {
	s.c.Conn().Close()
	return errors.New("dropped")
}

func (ts *testServer) counts() map[string]int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	m := make(map[string]int, len(ts.got))
	for k, v := range ts.got {
		m[k] = v
	}
	return m
}

func (ts *testServer) message(to string) []byte {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return bytes.Clone(ts.raw[to])
}

func (ts *testServer) envelopeFrom(to string) string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.from[to]
}

func (ts *testServer) set(f func()) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	f()
}

func smtpErrReply(code int, enh smtp.EnhancedCode, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}

// ---- fixtures shared by the tests ----

func openDB(t testing.TB) (dbPath string, e func(cfg Config) *Engine) {
	t.Helper()
	dbPath = filepath.Join(t.TempDir(), "hp.db")
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.Migrate(context.Background(), db, Migrations()); err != nil {
		t.Fatal(err)
	}
	return dbPath, func(cfg Config) *Engine {
		eng := NewSMTPEngine(db, cfg, testLogger(t))
		eng.dialBackoff, eng.maxDialBackoff = 20*time.Millisecond, 200*time.Millisecond
		return eng
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func relayCfg(ts *testServer, workers int) Config {
	return Config{Host: "127.0.0.1", Port: ts.port, TLS: "none", Workers: workers, Timeout: 5 * time.Second,
		RetryFor: 2 * time.Hour, RetryBackoff: time.Minute}
}

// people is a subscriber list: ids 1..n with addresses u<id>@example.org;
// removed ids are treated as unsubscribed.
type people struct {
	mu      sync.Mutex
	n       int
	removed map[int64]bool
	tz      func(id int64) string
	calls   int
	maxLim  int
}

func newPeople(n int) *people { return &people{n: n, removed: map[int64]bool{}} }

func addr(id int64) string { return fmt.Sprintf("u%d@example.org", id) }

func (p *people) Recipients(_ context.Context, after int64, limit int) ([]Recipient, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	p.maxLim = max(p.maxLim, limit)
	var out []Recipient
	for id := after + 1; id <= int64(p.n) && len(out) < limit; id++ {
		if p.removed[id] {
			continue
		}
		r := Recipient{SubscriberID: id, Email: addr(id), Name: fmt.Sprintf("Người đọc %d", id), Language: "vi"}
		if p.tz != nil {
			r.Timezone = p.tz(id)
		}
		out = append(out, r)
	}
	return out, nil
}

func compose(_ context.Context, r Recipient) (*Message, error) {
	tok := fmt.Sprintf("tok-%d", r.SubscriberID)
	return &Message{
		FromName: "Bản tin Hải Phòng", FromAddress: "digest@haiphong.example",
		To: r.Email, ToName: r.Name,
		Subject: "Bản tin tuần — Hải Phòng",
		Text:    "Xin chào " + r.Name + "\nHủy đăng ký: https://haiphong.example/u/" + tok + "\n",
		HTML:    "<p>Xin chào " + r.Name + "</p><p><a href=\"https://haiphong.example/u/" + tok + "\">Hủy đăng ký</a></p>",
		Headers: map[string]string{
			"List-Id":               "Hai Phong Digest <digest.haiphong.example>",
			"List-Unsubscribe":      "<https://haiphong.example/unsubscribe/" + tok + "?one_click=1&issue=1>, <mailto:unsubscribe@haiphong.example?subject=unsubscribe-" + tok + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
		MessageIDDomain: "haiphong.example",
	}, nil
}

func job(issue int64, p *people) Job {
	return Job{IssueID: issue, Recipients: p.Recipients, Compose: compose}
}

type outboxRow struct {
	state     string
	attempts  int
	code      int
	text      string
	lastErr   string
	next      int64
	relay     string
	msgID     string
	email     string
	notBefore int64
}

func outbox(t testing.TB, e *Engine, issue int64) map[int64]outboxRow {
	t.Helper()
	rows, err := e.db.Query(`SELECT subscriber_id, state, attempts, smtp_code, smtp_text, last_error, next_attempt_at, relay, message_id, email, not_before_at
		FROM deliveries WHERE issue_id = ?`, issue)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[int64]outboxRow{}
	for rows.Next() {
		var id int64
		var r outboxRow
		if err := rows.Scan(&id, &r.state, &r.attempts, &r.code, &r.text, &r.lastErr, &r.next, &r.relay, &r.msgID, &r.email, &r.notBefore); err != nil {
			t.Fatal(err)
		}
		m[id] = r
	}
	return m
}

// watchHandler calls fn for each log record whose message contains match.
type watchHandler struct {
	match string
	fn    func()
}

func (h *watchHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *watchHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.match) {
		h.fn()
	}
	return nil
}
func (h *watchHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *watchHandler) WithGroup(string) slog.Handler      { return h }

type teeHandler struct{ a, b slog.Handler }

func (h teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.a.Enabled(ctx, l) || h.b.Enabled(ctx, l)
}
func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.a.Enabled(ctx, r.Level) {
		h.a.Handle(ctx, r.Clone())
	}
	return h.b.Handle(ctx, r)
}
func (h teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{h.a.WithAttrs(as), h.b.WithAttrs(as)}
}
func (h teeHandler) WithGroup(g string) slog.Handler {
	return teeHandler{h.a.WithGroup(g), h.b.WithGroup(g)}
}

func newTeeLogger(l *slog.Logger, h slog.Handler) *slog.Logger {
	return slog.New(teeHandler{l.Handler(), h})
}
