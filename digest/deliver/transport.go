package deliver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/time/rate"
)

// loadCAs reads a PEM bundle of certificates to trust.
func loadCAs(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// smtpTransport dials one relay with go-mail (TLS, AUTH, HELO handled by
// go-mail's Client); messages are then written on go-mail's smtp.Client so
// that one connection carries many messages with no NOOP/RSET round trips
// and the exact bytes (already DKIM-signed) are what goes on the wire.
type smtpTransport struct {
	client  *mail.Client
	timeout time.Duration
	err     error
	noPipe  bool
}

func newSMTPRelay(r Relay, cfg Config) *relay {
	rl := &relay{name: r.Name, workers: r.Workers, perConn: r.PerConn, transport: newSMTPTransport(r, cfg.withDefaults().Timeout)}
	rl.transport.(*smtpTransport).noPipe = r.NoPipelining
	if r.RatePerSec > 0 {
		rl.limiter = rate.NewLimiter(rate.Limit(r.RatePerSec), 1)
	}
	return rl
}

func newSMTPTransport(r Relay, timeout time.Duration) *smtpTransport {
	opts := []mail.Option{mail.WithPort(r.Port), mail.WithTimeout(timeout), mail.WithoutNoop()}
	switch strings.ToLower(r.TLS) {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case "opportunistic":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if r.HELO != "" {
		opts = append(opts, mail.WithHELO(r.HELO))
	}
	var caErr error
	if r.TLSCAFile != "" {
		pool, err := loadCAs(r.TLSCAFile)
		caErr = err
		opts = append(opts, mail.WithTLSConfig(&tls.Config{ServerName: r.Host, RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	if r.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(r.Username), mail.WithPassword(r.Password))
	}
	c, err := mail.NewClient(r.Host, opts...)
	if err == nil {
		err = caErr
	}
	return &smtpTransport{client: c, timeout: timeout, err: err}
}

func (t *smtpTransport) Dial(ctx context.Context) (Conn, error) {
	if t.err != nil {
		return nil, &SendError{Stage: "DIAL", Text: t.err.Error(), Err: t.err}
	}
	sc, err := t.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		se := smtpErr("DIAL", err)
		return nil, se
	}
	pipe, _ := sc.Extension("PIPELINING")
	utf8, _ := sc.Extension("SMTPUTF8")
	return &smtpConn{t: t, c: sc, pipelining: pipe && !t.noPipe, smtputf8: utf8}, nil
}

type smtpConn struct {
	t          *smtpTransport
	c          *smtp.Client
	pipelining bool // RFC 2920: MAIL, RCPT and DATA go out in one write
	smtputf8   bool
	data       []byte // the data Start left for End
	wire       bool   // and whether it is wireReady
}

// Send sends one message.
func (sc *smtpConn) Send(env Envelope, data []byte) (string, error) {
	if err := sc.Start(env, data, func() bool { return true }); err != nil {
		return "", err
	}
	return sc.End()
}

// Start sends the envelope and, when complete says the message may be
// completed now, the data with its end in the same write; otherwise End
// sends them, once it may (the server then waits in its DATA state: the
// data and its end go out in one write either way, which costs both sides
// less than the data now and its end later).
func (sc *smtpConn) Start(env Envelope, data []byte, complete func() bool) error {
	c := sc.c
	if err := c.UpdateDeadline(sc.t.timeout); err != nil {
		return &SendError{Stage: "MAIL", Text: err.Error(), Err: err}
	}
	if strings.ContainsAny(env.From+env.To, "\r\n<>") {
		return &SendError{Stage: "RCPT", Code: 501, Text: "invalid address " + strconv.Quote(env.To)}
	}
	if sc.pipelining {
		if err := sc.envelopePipelined(env); err != nil {
			return err
		}
	} else if err := sc.envelope(env); err != nil {
		return err
	}
	if !complete() {
		sc.data, sc.wire = data, env.wireReady
		return nil
	}
	return sc.writeData(data, env.wireReady)
}

// writeData writes a message's data and its end.
func (sc *smtpConn) writeData(data []byte, wire bool) error {
	if err := writeDotStuffed(sc.c.Text.W, data, wire); err != nil {
		return &SendError{Stage: "WRITE", Text: err.Error(), Err: err}
	}
	return nil
}

// End sends the data and its end (unless Start did) and returns the
// server's reply.
func (sc *smtpConn) End() (string, error) {
	if data := sc.data; data != nil {
		sc.data = nil
		if err := sc.writeData(data, sc.wire); err != nil {
			return "", err
		}
	}
	_, reply, err := sc.c.Text.ReadResponse(250)
	if err != nil {
		return "", smtpErr("DATA", err)
	}
	return reply, nil
}

// Abort drops the connection in the middle of a message's data, so that
// the server discards the message.
func (sc *smtpConn) Abort() { _ = sc.c.Close() }

// envelope sends MAIL, RCPT and DATA one at a time.
func (sc *smtpConn) envelope(env Envelope) error {
	c := sc.c
	if err := c.Mail("<" + env.From + ">"); err != nil {
		return sc.reset(smtpErr("MAIL", err))
	}
	if err := c.Rcpt("<" + env.To + ">"); err != nil {
		return sc.reset(smtpErr("RCPT", err))
	}
	// DATA is written here rather than through smtp.Client.Data: its
	// dot-writer handles one byte at a time, which was a third of the
	// client's CPU time per message.
	id, err := c.Text.Cmd("DATA")
	if err != nil {
		return &SendError{Stage: "DATA", Text: err.Error(), Err: err}
	}
	c.Text.StartResponse(id)
	_, _, err = c.Text.ReadResponse(354)
	c.Text.EndResponse(id)
	if err != nil {
		return sc.reset(smtpErr("DATA", err))
	}
	return nil
}

// envelopePipelined sends MAIL, RCPT and DATA in one write and then reads
// the three replies (RFC 2920): half the round trips and system calls on
// both sides of a loopback or LAN relay.
func (sc *smtpConn) envelopePipelined(env Envelope) error {
	t := sc.c.Text
	mail := "MAIL FROM:<" + env.From + ">"
	if sc.smtputf8 && !isASCII(env.From+env.To) {
		mail += " SMTPUTF8"
	}
	w := t.W
	w.WriteString(mail)
	w.WriteString("\r\nRCPT TO:<")
	w.WriteString(env.To)
	w.WriteString(">\r\nDATA\r\n")
	if err := w.Flush(); err != nil {
		return &SendError{Stage: "MAIL", Text: err.Error(), Err: err}
	}
	_, _, mErr := t.ReadResponse(250)
	if isIOErr(mErr) {
		return smtpErr("MAIL", mErr)
	}
	_, _, rErr := t.ReadResponse(25)
	if isIOErr(rErr) {
		return smtpErr("RCPT", rErr)
	}
	_, _, dErr := t.ReadResponse(354)
	if isIOErr(dErr) {
		return smtpErr("DATA", dErr)
	}
	var refused *SendError
	switch {
	case mErr != nil:
		refused = smtpErr("MAIL", mErr)
	case rErr != nil:
		refused = smtpErr("RCPT", rErr)
	case dErr != nil:
		refused = smtpErr("DATA", dErr)
	}
	if refused != nil {
		if dErr == nil { // the server wants a body after all: send an empty one and discard the transaction
			w.WriteString(".\r\n")
			w.Flush()
			t.ReadResponse(0)
		}
		return sc.reset(refused)
	}
	return nil
}

// isIOErr reports an error that is not an SMTP reply (the connection broke).
func isIOErr(err error) bool {
	if err == nil {
		return false
	}
	var tp *textproto.Error
	return !errors.As(err, &tp)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// writeDotStuffed writes a message as SMTP DATA content (CRLF line ends,
// a leading dot doubled: RFC 5321 §4.5.2) with the end-of-data line, and
// flushes it. One pass over the line ends finds both bare LFs and lines
// starting with a dot, unless wire says b is known to hold neither
// (wireReady); a message with neither (every message the builder makes)
// goes out in one write. It may write into b's spare capacity.
func writeDotStuffed(w *bufio.Writer, b []byte, wire bool) error {
	if !wire && len(b) > 0 && b[0] == '.' {
		w.WriteByte('.')
	}
	from := 0 // written up to here
	for i := 0; !wire; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		i += j
		if i == 0 || b[i-1] != '\r' {
			w.Write(b[from:i])
			w.WriteString("\r\n")
			from = i + 1
		}
		i++
		if i < len(b) && b[i] == '.' {
			w.Write(b[from:i])
			w.WriteByte('.')
			from = i
		}
	}
	end := ".\r\n"
	if !bytes.HasSuffix(b, []byte("\n")) {
		end = "\r\n.\r\n"
	}
	if rest := b[from:]; cap(rest)-len(rest) >= len(end) {
		w.Write(append(rest, end...)) // in the same write
	} else {
		w.Write(rest)
		w.WriteString(end)
	}
	return w.Flush()
}

// wireReady reports text that SMTP DATA carries as it is: every line,
// the last one too, ends in CRLF, and none starts with a dot. Text made
// of such pieces is such text too.
func wireReady(b []byte) bool {
	for len(b) > 0 {
		if b[0] == '.' {
			return false
		}
		i := bytes.IndexByte(b, '\n')
		if i < 1 || b[i-1] != '\r' {
			return false
		}
		b = b[i+1:]
	}
	return true
}

// reset aborts the transaction after a refused command so the connection
// can carry the next message; if even that fails the connection is dead.
func (sc *smtpConn) reset(se *SendError) error {
	if se.connLevel() {
		return se
	}
	if err := sc.c.Reset(); err != nil {
		_ = sc.c.Close()
		if se.Code == 0 {
			return se
		}
	}
	return se
}

func (sc *smtpConn) Close() error {
	if sc.c == nil {
		return nil
	}
	_ = sc.c.UpdateDeadline(time.Second)
	err := sc.c.Quit()
	if err != nil {
		_ = sc.c.Close()
	}
	return nil
}

// dirTransport writes each message to a file (dry runs and the demo).
type dirTransport struct {
	dir string
	seq atomic.Int64
}

func newDirRelay(dir string) *relay {
	return &relay{name: "dir:" + dir, workers: 2, transport: &dirTransport{dir: dir}}
}

func (t *dirTransport) Dial(context.Context) (Conn, error) { return dirConn{t}, nil }

type dirConn struct{ t *dirTransport }

func (d dirConn) Send(env Envelope, data []byte) (string, error) {
	var name string
	if env.IssueID == 0 && env.SubscriberID == 0 {
		name = fmt.Sprintf("tx-%s-%d-%s.eml", time.Now().UTC().Format("20060102T150405"), d.t.seq.Add(1), sanitizeForFile(env.To))
	} else {
		name = fmt.Sprintf("%d-%d-%s.eml", env.IssueID, env.SubscriberID, sanitizeForFile(env.To))
	}
	path := filepath.Join(d.t.dir, name)
	if err := writePrivate(path, data); err != nil {
		return "", &SendError{Stage: "WRITE", Text: err.Error(), Err: err}
	}
	return "written to " + name, nil
}

func (dirConn) Close() error { return nil }

// writePrivate writes data to path through a new file of its own (mode
// 0600, never an existing file or link) renamed into place.
func writePrivate(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".eml-*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// SendOne sends one transactional message (a confirmation mail) at once,
// without an outbox row: over a new connection to the first relay that is
// not paused, or as a tx-*.eml file for a directory engine.
func (e *Engine) SendOne(ctx context.Context, m *Message) error {
	if e.err != nil {
		return e.err
	}
	if m == nil || m.To == "" || m.FromAddress == "" {
		return fmt.Errorf("deliver: message needs From and To addresses")
	}
	data, _, err := e.render(m, 0, 0)
	if err != nil {
		return fmt.Errorf("deliver: render: %w", err)
	}
	var lastErr error
	for _, rl := range e.relays {
		rl.mu.Lock()
		paused := e.now().Before(rl.pausedUntil)
		rl.mu.Unlock()
		if paused && len(e.relays) > 1 {
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
		c, err := rl.transport.Dial(dctx)
		cancel()
		if err != nil {
			lastErr = err
			continue
		}
		_, err = c.Send(Envelope{From: e.envelopeFrom(m), To: m.To}, data)
		_ = c.Close()
		if err == nil {
			return nil
		}
		if se, ok := err.(*SendError); ok && !se.connLevel() {
			return err // the relay answered: another relay would answer the same
		}
		lastErr = err
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("deliver: no relay configured")
	}
	return lastErr
}
