package deliver

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"sync"
	"sync/atomic"
)

// Body is the text and HTML parts of many messages rendered once (one
// variant of an issue): literal text with slots between, filled per
// message from Message.Values. The literal text is quoted-printable
// encoded when the Body is made; building a message copies it and encodes
// only the values. Each slot's value starts on a line of its own in the
// encoding and is followed by a soft line break, so no value moves the
// line breaks of the text around it: the wire bytes differ from encoding
// the joined text in one go, the decoded text does not.
//
// For DKIM the Body keeps the canonical form of its literal text and the
// body hash state after the text before the first slot: a message's body
// hash then covers only the rest (a Body without slots is hashed once).
type Body struct {
	boundary string
	segs     [][]byte // wire form between slots: MIME part headers and encoded literal text
	slots    []int    // slots[i], an index into Message.Values, follows segs[i]
	size     int      // total length of segs
	wire     bool     // every seg is wireReady: so is the body, if its values are
	headers  atomic.Pointer[senderHeaders]

	dkimOnce sync.Once
	canon    [][]byte    // segs in relaxed canonical form (RFC 6376 §3.4.4)
	prefix   hash.Cloner // SHA-256 of canon[0]
	shared   []byte      // the body hash, when no slot makes it differ
}

// BodyPart is one part of a Body: literal text (UTF-8, line breaks LF or
// CRLF, never split between a literal and a value) with one slot between
// each two literals: Slots[i] indexes Message.Values and goes between
// Literals[i] and Literals[i+1].
type BodyPart struct {
	Literals []string
	Slots    []int
}

// NewBody encodes a multipart/alternative body of a text and an HTML part.
func NewBody(text, html BodyPart) (*Body, error) {
	for _, p := range []BodyPart{text, html} {
		if len(p.Literals) != len(p.Slots)+1 {
			return nil, fmt.Errorf("deliver: body part of %d literals and %d slots", len(p.Literals), len(p.Slots))
		}
		for _, s := range p.Slots {
			if s < 0 {
				return nil, fmt.Errorf("deliver: body slot %d", s)
			}
		}
	}
	b := &Body{}
	for b.boundary == "" || strings.Contains(strings.Join(text.Literals, "")+strings.Join(html.Literals, ""), b.boundary) {
		var rnd [16]byte
		_, _ = rand.Read(rnd[:])
		b.boundary = hex.EncodeToString(rnd[:])
	}
	var cur []byte
	for i, p := range []BodyPart{text, html} {
		cur = append(cur, "--"...)
		cur = append(cur, b.boundary...)
		cur = append(cur, "\r\nContent-Type: "...)
		cur = append(cur, [2]string{ctPlain, ctHTML}[i]...)
		cur = append(cur, "\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
		for j, lit := range p.Literals {
			if j == len(p.Slots) {
				cur = appendQP(cur, lit)
				break
			}
			cur = appendQPSoft(cur, lit)
			b.segs = append(b.segs, cur)
			b.slots = append(b.slots, p.Slots[j])
			cur = nil
		}
		cur = append(cur, "\r\n"...)
	}
	cur = append(cur, "--"...)
	cur = append(cur, b.boundary...)
	cur = append(cur, "--\r\n"...)
	b.segs = append(b.segs, cur)
	b.wire = true
	for _, s := range b.segs {
		b.size += len(s)
		b.wire = b.wire && wireReady(s)
	}
	return b, nil
}

// contentType is the Content-Type header value of messages of this body.
func (b *Body) contentType() string {
	return `multipart/alternative; boundary="` + b.boundary + `"`
}

// appendTo appends the body filled with vals; it returns the offsets in
// dst where each encoded value starts and ends (for the body hash).
func (b *Body) appendTo(dst []byte, vals []string, marks []int) ([]byte, []int, error) {
	for i, s := range b.segs {
		dst = append(dst, s...)
		if i == len(b.slots) {
			break
		}
		k := b.slots[i]
		if k >= len(vals) {
			return dst, marks, fmt.Errorf("body slot %d: the message has %d values", k, len(vals))
		}
		marks = append(marks, len(dst))
		dst = appendQPSoft(dst, vals[k])
		marks = append(marks, len(dst))
	}
	return dst, marks, nil
}

// prepareDKIM makes the canonical form of the literal text once.
func (b *Body) prepareDKIM() {
	b.dkimOnce.Do(func() {
		for _, s := range b.segs {
			b.canon = append(b.canon, appendRelaxedLines(nil, s))
		}
		h := sha256.New()
		h.Write(b.canon[0])
		b.prefix = h.(hash.Cloner)
		if len(b.slots) == 0 {
			b.shared = h.Sum(nil)
		}
	})
}

// bodyHash is the relaxed-canonical SHA-256 of a message body built by
// appendTo: the saved state after the first literal, then the values
// (canonicalised here, they are short) and the literals' canonical forms.
func (b *Body) bodyHash(body []byte, marks []int) ([]byte, error) {
	b.prepareDKIM()
	if len(b.slots) == 0 { // nothing differs between readers: one hash for all
		return b.shared, nil
	}
	c, err := b.prefix.Clone()
	if err != nil {
		return nil, err
	}
	var scratch [512]byte
	for i := range b.slots {
		c.Write(appendRelaxedLines(scratch[:0], body[marks[2*i]:marks[2*i+1]]))
		c.Write(b.canon[i+1])
	}
	return c.Sum(nil), nil
}

// appendQPSoft encodes s as quoted-printable text that ends a line: a
// last line without a line break ends in a soft line break, so that what
// follows (a value, or the literal after it) starts a line.
func appendQPSoft(b []byte, s string) []byte {
	nl := strings.LastIndexByte(s, '\n')
	b = appendQP(b, s[:nl+1])
	if rest := s[nl+1:]; rest != "" {
		b = appendQPLine(b, rest)
		b = append(b, '=', '\r', '\n')
	}
	return b
}

// appendRelaxedLines appends lines (each ending in CRLF, the last one may
// not) in DKIM's relaxed body form: runs of spaces and tabs made one
// space, none at the end of a line, every line ending in CRLF. Empty lines
// are kept (see relaxedBody for the end of a body).
func appendRelaxedLines(dst, b []byte) []byte {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if plainLine(line) {
			dst = append(dst, line...)
		} else {
			dst = appendCollapsed(dst, line, false)
		}
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// plainLine reports a line that relaxed canonicalisation leaves as it is:
// no tab, no two spaces in a row, no space at the end.
func plainLine(line []byte) bool {
	if n := len(line); n > 0 && line[n-1] == ' ' {
		return false
	}
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\t':
			return false
		case ' ':
			if i+1 < len(line) && line[i+1] == ' ' {
				return false
			}
		}
	}
	return true
}

// relaxedBody is a whole body in relaxed form: appendRelaxedLines without
// the empty lines at the end (an empty body stays empty).
func relaxedBody(body []byte) []byte {
	c := appendRelaxedLines(nil, body)
	for bytes.HasSuffix(c, []byte("\r\n\r\n")) {
		c = c[:len(c)-2]
	}
	if string(c) == "\r\n" {
		c = c[:0]
	}
	return c
}
