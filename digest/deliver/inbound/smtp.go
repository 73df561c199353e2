package inbound

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"
)

// Listener is the built-in SMTP server the office MTA relays the bounce
// and unsubscribe addresses to. It accepts mail only for those addresses
// (550 at RCPT for any other: it never relays), one recipient per
// transaction (the MTA sends the others in their own, so each gets its own
// answer), messages up to MaxMessageBytes, at most MaxConnections at once
// and ConnectionsPerMinute / MessagesPerMinute over all clients (421/451
// beyond: the MTA retries). A message the handler cannot take now gets 451
// so the MTA keeps it and retries; everything else gets 250, also a
// message that is not understood or holds a forged token (logged): a
// refusal would only send a bounce back to a forged or null sender.
type Listener struct {
	cfg   Config
	proc  *Processor
	log   *slog.Logger
	tls   *tls.Config
	conns *rate.Limiter
	msgs  *rate.Limiter
	slots chan struct{}
}

// NewListener prepares a listener for cfg (loading its TLS key pair, if
// any); Run serves it.
func NewListener(cfg Config, proc *Processor) (*Listener, error) {
	l := &Listener{
		cfg:   cfg,
		proc:  proc,
		log:   proc.Log,
		conns: rate.NewLimiter(rate.Limit(float64(cfg.ConnectionsPerMinute)/60), max(1, cfg.ConnectionsPerMinute/6)),
		msgs:  rate.NewLimiter(rate.Limit(float64(cfg.MessagesPerMinute)/60), max(1, cfg.MessagesPerMinute/6)),
		slots: make(chan struct{}, max(1, cfg.MaxConnections)),
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("inbound.tls_cert_file: %w", err)
		}
		l.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return l, nil
}

// Listen binds the configured address (so a start-up fails early on a
// port in use); Serve then answers on it.
func (l *Listener) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", l.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("inbound.listen: %w", err)
	}
	return ln, nil
}

// Serve answers SMTP on ln until ctx is cancelled; a transaction in
// progress is given a few seconds to finish.
func (l *Listener) Serve(ctx context.Context, ln net.Listener) error {
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{l: l, ctx: ctx}, nil
	}))
	s.Domain = l.cfg.Hostname
	s.MaxMessageBytes = l.cfg.MaxMessageBytes
	s.MaxRecipients = 1
	s.MaxLineLength = 10000 // reports carry long lines (HTML, encoded headers)
	s.ReadTimeout = 2 * time.Minute
	s.WriteTimeout = 2 * time.Minute
	s.TLSConfig = l.tls
	s.ErrorLog = slogLogger{l.log}

	l.log.Info("inbound SMTP listener", "addr", ln.Addr().String(), "domains", l.cfg.Domains,
		"bounce", l.cfg.BounceLocalPart+"[+token]", "unsubscribe", l.cfg.UnsubscribeLocalPart, "starttls", l.tls != nil)
	done := make(chan error, 1)
	go func() { done <- s.Serve(limitListener{ln, l}) }()
	select {
	case err := <-done:
		return fmt.Errorf("inbound listener: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(shut); err != nil {
		s.Close()
	}
	<-done
	return nil
}

// limitListener turns away connections beyond the concurrency and rate
// limits with a 421 before any session starts.
type limitListener struct {
	net.Listener
	l *Listener
}

func (ll limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !ll.l.conns.Allow() {
			refuse(c, "421 4.7.0 Too many connections, try again later")
			continue
		}
		select {
		case ll.l.slots <- struct{}{}:
			return &slotConn{Conn: c, slots: ll.l.slots}, nil
		default:
			refuse(c, "421 4.7.0 Too many connections at once, try again later")
		}
	}
}

func refuse(c net.Conn, reply string) {
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, reply+"\r\n")
	c.Close()
}

// slotConn gives its slot back when closed.
type slotConn struct {
	net.Conn
	slots chan struct{}
	once  sync.Once
}

func (c *slotConn) Close() error {
	c.once.Do(func() { <-c.slots })
	return c.Conn.Close()
}

// session is one SMTP connection's transaction state.
type session struct {
	l        *Listener
	ctx      context.Context
	from, to string
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.l.msgs.Allow() {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many messages, try again later"}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !s.l.cfg.Accepts(to) {
		s.l.log.Info("inbound SMTP: refused recipient", "rcpt", to, "mail_from", s.from)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such address here (this server does not relay)"}
	}
	s.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err // go-smtp answers 552 for a message over the size limit
	}
	if err := s.l.proc.Process(s.ctx, data, Envelope{From: s.from, To: s.to}); err != nil {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
	}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", "" }
func (s *session) Logout() error { return nil }

// slogLogger sends go-smtp's own messages to the daemon's log.
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) {
	l.log.Debug("inbound SMTP: " + fmt.Sprintf(format, v...))
}

func (l slogLogger) Println(v ...any) { l.log.Debug("inbound SMTP: " + fmt.Sprint(v...)) }
