package deliver

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// DefaultDKIMHeaders are signed when DKIMConfig.Headers is empty. Headers
// absent from a message are still listed (RFC 6376 §5.4: that stops anyone
// adding them later).
var DefaultDKIMHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "Reply-To",
	"MIME-Version", "Content-Type", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"}

// render builds the message (see buildMessage), then signs the bytes with
// go-msgauth if DKIM is configured.
func (e *Engine) render(m *Message, issueID, sid int64) ([]byte, string, error) {
	buf, id, err := e.renderBuf(m, issueID, sid)
	if err != nil {
		return nil, "", err
	}
	b := bytes.Clone(buf.Bytes())
	putBuf(buf)
	return b, id, nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer { b := bufPool.Get().(*bytes.Buffer); b.Reset(); return b }

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 4<<20 {
		bufPool.Put(b)
	}
}

// renderBuf is render into a pooled buffer (return it with putBuf).
func (e *Engine) renderBuf(m *Message, issueID, sid int64) (*bytes.Buffer, string, error) {
	buf := getBuf()
	id, err := buildMessage(buf, m, issueID, sid, e.now())
	if err != nil {
		putBuf(buf)
		return nil, "", err
	}
	if e.signer == nil {
		return buf, "<" + id + ">", nil
	}
	signed := getBuf()
	err = e.signer.sign(signed, buf.Bytes())
	putBuf(buf)
	if err != nil {
		putBuf(signed)
		return nil, "", fmt.Errorf("dkim: %w", err)
	}
	return signed, "<" + id + ">", nil
}

// dkimSigner signs rendered messages. go-mail's own signer produces
// signatures that fail to verify once the h= list wraps, so the finished
// bytes are signed here instead.
type dkimSigner struct{ opts *dkim.SignOptions }

func newDKIMSigner(c DKIMConfig) (*dkimSigner, error) {
	o, err := c.signOptions()
	if err != nil {
		return nil, err
	}
	return &dkimSigner{opts: o}, nil
}

func (s *dkimSigner) sign(out *bytes.Buffer, data []byte) error {
	return dkim.Sign(out, bytes.NewReader(data), s.opts)
}

func (c DKIMConfig) signOptions() (*dkim.SignOptions, error) {
	if c.Domain == "" || c.Selector == "" {
		if c.Domain == "" {
			return nil, errors.New("smtp.dkim.domain: is empty (required with DKIM)")
		}
		return nil, errors.New("smtp.dkim.selector: is empty (required with DKIM)")
	}
	var pemData []byte
	switch {
	case c.PrivateKeyEnv != "":
		pemData = []byte(os.Getenv(c.PrivateKeyEnv))
		if len(pemData) == 0 {
			return nil, fmt.Errorf("smtp.dkim.private_key_env: environment variable %s is empty or unset", c.PrivateKeyEnv)
		}
	case c.PrivateKeyFile != "":
		b, err := os.ReadFile(c.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("smtp.dkim.private_key_file: %w", err)
		}
		pemData = b
	default:
		return nil, errors.New("smtp.dkim.private_key_file: set it or private_key_env")
	}
	key, err := parsePrivateKey(pemData)
	if err != nil {
		k := "smtp.dkim.private_key_file"
		if c.PrivateKeyEnv != "" {
			k = "smtp.dkim.private_key_env"
		}
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	hk := c.Headers
	if len(hk) == 0 {
		hk = DefaultDKIMHeaders
	}
	hasFrom := false
	for _, h := range hk {
		hasFrom = hasFrom || strings.EqualFold(h, "From")
	}
	if !hasFrom {
		return nil, errors.New("smtp.dkim.headers: must include From")
	}
	return &dkim.SignOptions{Domain: c.Domain, Selector: c.Selector, Signer: key, Hash: crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		HeaderKeys: hk}, nil
}

func parsePrivateKey(pemData []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(pemData)
	if blk == nil {
		return nil, errors.New("private key is not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("private key type %T not supported (RSA or Ed25519)", k)
}

// planner computes each row's not-before time for local-time delivery.
type planner struct {
	l     *LocalDelivery
	start time.Time
	def   *time.Location
	cache map[string]*time.Location
	log   *slog.Logger
}

func newPlanner(l *LocalDelivery, start time.Time, log *slog.Logger) *planner {
	p := &planner{l: l, start: start, cache: map[string]*time.Location{}, log: log}
	if l != nil {
		name := l.DefaultTimezone
		if name == "" {
			name = "Asia/Ho_Chi_Minh"
		}
		loc, err := time.LoadLocation(name)
		if err != nil {
			log.Warn("deliver: default time zone unknown; using UTC", "tz", name, "err", err)
			loc = time.UTC
		}
		p.def = loc
	}
	return p
}

// notBefore returns the unix second from which a row may be sent (0: now).
func (p *planner) notBefore(tz string) int64 {
	if p.l == nil {
		return 0
	}
	return localSendTime(p.start, p.location(tz), p.l).Unix()
}

func (p *planner) location(tz string) *time.Location {
	if tz == "" {
		return p.def
	}
	if loc, ok := p.cache[tz]; ok {
		return loc
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		p.log.Warn("deliver: unknown subscriber time zone; using the default", "tz", tz)
		loc = p.def
	}
	p.cache[tz] = loc
	return loc
}

// localSendTime is the first moment at or after start when it is
// l.Hour:l.Minute in loc, or start itself if that time passed less than
// l.Grace ago today.
func localSendTime(start time.Time, loc *time.Location, l *LocalDelivery) time.Time {
	grace := l.Grace
	if grace == 0 {
		grace = 3 * time.Hour
	}
	local := start.In(loc)
	target := time.Date(local.Year(), local.Month(), local.Day(), l.Hour, l.Minute, 0, 0, loc)
	switch {
	case !target.Before(start):
		return target
	case start.Sub(target) <= grace:
		return start
	default:
		return time.Date(local.Year(), local.Month(), local.Day()+1, l.Hour, l.Minute, 0, 0, loc)
	}
}

// Render returns the message exactly as Send would put it on the wire for
// this engine (DKIM-signed if configured), with a fresh Message-ID and
// Date: for previews and "view source".
func (e *Engine) Render(m *Message) ([]byte, error) {
	if m == nil {
		return nil, errors.New("deliver: nil message")
	}
	b, _, err := e.render(m, 0, 0)
	return b, err
}

// Render returns the message as an unsigned .eml (see Engine.Render).
func Render(m *Message) ([]byte, error) {
	return newEngine(nil, Config{}, nil).Render(m)
}
