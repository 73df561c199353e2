package inbound

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
)

// Envelope is the SMTP envelope of an inbound message, when the way in
// knows it ("" when not).
type Envelope struct {
	From string // MAIL FROM
	To   string // RCPT TO: the address the message arrived for
}

// Parser classifies inbound messages. The zero value works; it reads no
// VERP token and finds no unsubscribe token.
type Parser struct {
	// BounceLocalPart is the local part of the bounce address, e.g.
	// "bounces": mail for bounces+TAG@domain carries TAG as its VERP token.
	BounceLocalPart string
	// FindTokens returns the strings of text shaped like this
	// installation's unsubscribe tokens (candidates; nothing is verified
	// here). nil: no tokens are looked for.
	FindTokens func(text string) []string
}

// maxTokens bounds the candidate tokens kept per message.
const maxTokens = 20

// Parse classifies one message. It fails only when data is not a mail
// message at all; anything it cannot make sense of is KindOther.
//
// The order of the checks matters: a feedback report, then a delivery
// status report, then a bounce text (bounces often carry Auto-Submitted
// too), then an auto-reply, then an unsubscribe token.
func (p *Parser) Parse(data []byte, env Envelope) (*Report, error) {
	data = stripMboxFrom(data)
	sum := sha256.Sum256(data)
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a mail message: %w", err)
	}
	body, _ := io.ReadAll(msg.Body)
	h := textproto.MIMEHeader(msg.Header)
	if len(h) == 0 {
		return nil, errors.New("not a mail message: no header")
	}
	m := &message{
		header: h,
		parts:  leaves(h, body),
		rep: &Report{
			Kind:             KindOther,
			EnvelopeFrom:     trimAngle(env.From),
			InboundMessageID: strings.TrimSpace(h.Get("Message-Id")),
			Fingerprint:      hex.EncodeToString(sum[:16]),
			From:             decodeHeader(h.Get("From")),
			Subject:          strings.TrimSpace(decodeHeader(h.Get("Subject"))),
		},
	}
	p.envelope(m, env)
	m.findOriginal()
	m.rep.Tokens = p.tokens(m)

	switch {
	case m.feedbackReport():
	case m.deliveryStatus():
	case m.bounceText(p.isOwn):
	case m.autoReply():
	case len(m.rep.Tokens) > 0 && p.tokensInMessage(m):
		m.rep.Kind, m.rep.Reason = KindUnsubscribe, "unsubscribe token in the message"
	default:
		m.rep.Reason = "no bounce, complaint, auto-reply or unsubscribe token found"
	}
	if m.rep.VERPToken == "" && m.original != nil {
		// A complaint returns the delivered original, whose Return-Path
		// is the envelope sender it was sent with.
		m.rep.VERPToken = p.verpToken(trimAngle(m.original.Get("Return-Path")))
	}
	if m.rep.MessageID == "" && (m.rep.Kind == KindBounce || m.rep.Kind == KindDelay) {
		// Exchange and Gmail reports answer the original message even when
		// they do not return it.
		m.rep.MessageID = firstMessageID(h.Get("In-Reply-To"))
	}
	return m.rep, nil
}

// firstMessageID returns the first <id> of a header like In-Reply-To.
func firstMessageID(v string) string {
	start := strings.IndexByte(v, '<')
	end := strings.IndexByte(v, '>')
	if start < 0 || end < start {
		return ""
	}
	return v[start : end+1]
}

// message is the working state of one Parse.
type message struct {
	header textproto.MIMEHeader
	parts  []part
	rep    *Report

	// original is the returned original message (or its header), when
	// the report carries one as a MIME part.
	original     textproto.MIMEHeader
	originalFrom string // the original's From address, lower case
}

// stripMboxFrom drops a leading mbox "From sender date" line.
func stripMboxFrom(data []byte) []byte {
	if bytes.HasPrefix(data, []byte("From ")) {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			return data[i+1:]
		}
	}
	return data
}

func trimAngle(s string) string { return strings.Trim(strings.TrimSpace(s), "<>") }

// envelope fills EnvelopeTo and VERPToken: from the SMTP envelope when
// known, else from the headers a delivering MTA adds, else from To (a
// DSN is addressed to the original envelope sender).
func (p *Parser) envelope(m *message, env Envelope) {
	var cands []string
	if env.To != "" {
		cands = append(cands, trimAngle(env.To))
	}
	for _, k := range []string{"X-Original-To", "Delivered-To", "Envelope-To"} {
		for _, v := range m.header.Values(k) {
			cands = append(cands, trimAngle(v))
		}
	}
	if list, err := mail.ParseAddressList(m.header.Get("To")); err == nil {
		for _, a := range list {
			cands = append(cands, a.Address)
		}
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if m.rep.EnvelopeTo == "" {
			m.rep.EnvelopeTo = c
		}
		if t := p.verpToken(c); t != "" {
			m.rep.EnvelopeTo, m.rep.VERPToken = c, t
			return
		}
	}
}

// verpToken returns TAG of BounceLocalPart+TAG@domain, or "".
func (p *Parser) verpToken(addr string) string {
	if p.BounceLocalPart == "" {
		return ""
	}
	local, _, ok := cutLast(addr, "@")
	if !ok {
		return ""
	}
	prefix := strings.ToLower(p.BounceLocalPart) + "+"
	if len(local) > len(prefix) && strings.EqualFold(local[:len(prefix)], prefix) {
		return local[len(prefix):]
	}
	return ""
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// isOwn reports whether addr is one of the list's own addresses as seen
// in this message (the bounce address and its VERP forms), which a bounce
// text must not take for a failed recipient.
func (p *Parser) isOwn(addr string) bool {
	if p.BounceLocalPart == "" {
		return false
	}
	local, _, _ := cutLast(strings.ToLower(addr), "@")
	base := strings.ToLower(p.BounceLocalPart)
	return local == base || strings.HasPrefix(local, base+"+")
}

// findOriginal reads the header of the returned original message, when a
// MIME part carries it.
func (m *message) findOriginal() {
	for _, pt := range m.parts {
		switch pt.mediaType {
		case "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers", "message/global-headers":
			m.setOriginal(headerBlock(pt.body))
			return
		}
	}
}

func (m *message) setOriginal(h textproto.MIMEHeader) {
	if len(h) == 0 {
		return
	}
	m.original = h
	if id := strings.TrimSpace(h.Get("Message-Id")); id != "" {
		m.rep.MessageID = id
	}
	if lu := h.Get("List-Unsubscribe"); lu != "" {
		m.rep.ListUnsubscribe = lu
	}
	if a, err := mail.ParseAddress(h.Get("From")); err == nil {
		m.originalFrom = strings.ToLower(a.Address)
	}
}

// texts returns the text of the leaf parts meant for people, in order:
// text/plain parts, or the HTML ones when there is no plain text.
func (m *message) texts() []string {
	var plain, html []string
	for _, pt := range m.parts {
		switch pt.mediaType {
		case "text/plain":
			plain = append(plain, pt.text())
		case "text/html":
			html = append(html, pt.text())
		}
	}
	if len(plain) > 0 {
		return plain
	}
	return html
}

// tokens collects the candidate unsubscribe tokens: subject, every leaf
// part, then the returned List-Unsubscribe.
func (p *Parser) tokens(m *message) []string {
	if p.FindTokens == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		for _, t := range p.FindTokens(s) {
			if !seen[t] && len(out) < maxTokens {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	add(m.rep.Subject)
	for _, pt := range m.parts {
		add(pt.text())
	}
	add(m.rep.ListUnsubscribe)
	return out
}

// tokensInMessage reports whether a token stands in the subject or the
// message's own text (not only in a returned original).
func (p *Parser) tokensInMessage(m *message) bool {
	if len(p.FindTokens(m.rep.Subject)) > 0 {
		return true
	}
	for _, t := range m.texts() {
		if len(p.FindTokens(t)) > 0 {
			return true
		}
	}
	return false
}

// messageIDRe finds a Message-ID header line in returned text.
var messageIDRe = regexp.MustCompile(`(?im)^Message-ID:[ \t]*(<[^>\s]+>)`)
