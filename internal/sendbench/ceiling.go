// Package sendbench holds what the send benchmarks measure the engine
// against: a bare SMTP client that sends one pre-rendered message over and
// over (the ceiling a sender can reach on a connection), optionally signing
// every copy with DKIM, and the figures of a benchmark run.
package sendbench

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Ceiling is a bare pipelined SMTP client: Conns connections at once, each
// replaced (QUIT, connect, EHLO) after PerConn messages, each message
// written as MAIL, RCPT and DATA in one write (RFC 2920), then, after the
// 354, the body and its final dot in a second one. The body is dot-stuffed
// once; nothing is rendered, personalised, recorded or checked per message.
type Ceiling struct {
	Addr     string // host:port of the SMTP server
	Conns    int
	PerConn  int    // 0 = never reconnect
	From, To string // envelope
	Message  []byte // the message, CRLF line ends
	// Sign, when set, is called for every message and its result (a
	// DKIM-Signature header field) is written before the message.
	Sign func() ([]byte, error)
}

// Run sends n messages and returns how long it took.
func (c Ceiling) Run(n int) (time.Duration, error) {
	body := dotStuff(c.Message)
	envelope := []byte("MAIL FROM:<" + c.From + ">\r\nRCPT TO:<" + c.To + ">\r\nDATA\r\n")
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	start := time.Now()
	for range c.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.connection(&left, envelope, body); err != nil {
				errOnce.Do(func() { firstErr = err })
				left.Store(0)
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// connection sends messages until none are left, reconnecting every
// PerConn messages.
func (c Ceiling) connection(left *atomic.Int64, envelope, body []byte) error {
	var s *session
	defer func() {
		if s != nil {
			s.quit()
		}
	}()
	sent := 0
	for left.Add(-1) >= 0 {
		if s == nil || (c.PerConn > 0 && sent == c.PerConn) {
			if s != nil {
				s.quit()
			}
			var err error
			if s, err = dial(c.Addr); err != nil {
				return err
			}
			sent = 0
		}
		s.w.Write(envelope)
		if err := s.w.Flush(); err != nil {
			return err
		}
		for _, code := range []string{"250", "250", "354"} {
			if err := s.expect(code); err != nil {
				return err
			}
		}
		if c.Sign != nil {
			sig, err := c.Sign()
			if err != nil {
				return err
			}
			s.w.Write(sig)
		}
		s.w.Write(body)
		if err := s.w.Flush(); err != nil {
			return err
		}
		if err := s.expect("250"); err != nil {
			return err
		}
		sent++
	}
	return nil
}

type session struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func dial(addr string) (*session, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &session{c: c, r: bufio.NewReaderSize(c, 4096), w: bufio.NewWriterSize(c, 64<<10)}
	if err := s.expect("220"); err != nil {
		c.Close()
		return nil, err
	}
	s.w.WriteString("EHLO ceiling.localhost\r\n")
	if err := s.w.Flush(); err != nil {
		c.Close()
		return nil, err
	}
	if err := s.expect("250"); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

// expect reads one reply (all its lines) and checks its code.
func (s *session) expect(code string) error {
	for {
		line, err := s.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) < 4 || string(line[:3]) != code {
			return fmt.Errorf("want %s, got %q", code, bytes.TrimRight(line, "\r\n"))
		}
		if line[3] != '-' {
			return nil
		}
	}
}

func (s *session) quit() {
	s.w.WriteString("QUIT\r\n")
	if s.w.Flush() == nil {
		s.expect("221")
	}
	s.c.Close()
}

// dotStuff returns msg as SMTP DATA content: a leading dot doubled on
// every line, CRLF at the end, then the final "." line.
func dotStuff(msg []byte) []byte {
	var b bytes.Buffer
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i+1], msg[i+1:]
		} else {
			msg = nil
		}
		if line[0] == '.' {
			b.WriteByte('.')
		}
		b.Write(line)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	return b.Bytes()
}

// Rate is messages per second.
func Rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
