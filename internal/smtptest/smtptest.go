// Package smtptest runs a real SMTP server (emersion/go-smtp) in-process on
// loopback for tests, and keeps every message it accepts.
package smtptest

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Parsed parses the message's header and body.
func (m Message) Parsed() (*mail.Message, error) {
	return mail.ReadMessage(bytes.NewReader(m.Data))
}

// Server is a running in-process SMTP server.
type Server struct {
	Host string
	Port int

	mu       sync.Mutex
	messages []Message
	// Reject, when set, is asked for every RCPT; a non-nil *smtp.SMTPError
	// is returned to the client.
	Reject func(rcpt string) *smtp.SMTPError
	// RejectData, when set, is asked after DATA with the message's
	// recipients; a non-nil error refuses the message.
	RejectData func(rcpts []string) *smtp.SMTPError
	// Keep, when set, sees every accepted message, one at a time in the
	// order they were accepted, and decides whether Messages keeps it:
	// long tests record what they need and drop the rest.
	Keep func(Message) bool
}

// Start starts a server that stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	s.Host, s.Port = addr.IP.String(), addr.Port
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Messages returns a copy of every accepted message.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// For returns the messages addressed to rcpt.
func (s *Server) For(rcpt string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, rcpt) {
				out = append(out, m)
			}
		}
	}
	return out
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) AuthMechanisms() []string { return nil }
func (x *session) Reset()                   { x.from, x.to = "", nil }
func (x *session) Logout() error            { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.s.Reject != nil {
		if err := x.s.Reject(to); err != nil {
			return err
		}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if x.s.RejectData != nil {
		if err := x.s.RejectData(x.to); err != nil {
			return err
		}
	}
	m := Message{From: x.from, To: x.to, Data: data}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.Keep == nil || x.s.Keep(m) {
		x.s.messages = append(x.s.messages, m)
	}
	return nil
}

// Part is one decoded part of a multipart message.
type Part struct {
	Type string // media type without parameters: "text/plain"
	Body string // transfer encoding (quoted-printable) already decoded
}

// Parts returns the parts of a multipart message in their order.
func Parts(msg *mail.Message) ([]Part, error) {
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var out []Part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(p)
		if err != nil {
			return nil, err
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out = append(out, Part{Type: ct, Body: string(body)})
	}
}
