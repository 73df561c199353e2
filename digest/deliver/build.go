package deliver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The message builder. It writes what go-mail wrote (encoded names and
// subject, multipart/alternative with text/plain first and HTML last,
// quoted-printable UTF-8, CRLF) straight into one buffer: go-mail's
// writer and the standard quoted-printable writer were over a third of the
// engine's CPU time per message. TestBuilderAgreesWithGoMail checks the two
// against each other.

const (
	maxHeaderLine = 78 // RFC 5322 §2.1.1 SHOULD; folded at spaces
	maxQPLine     = 76 // RFC 2045 §6.7, including the soft break's "="
)

// buildMessage appends the wire form of m (CRLF line ends, not dot-stuffed)
// to buf and returns its Message-ID without brackets.
func buildMessage(buf *bytes.Buffer, m *Message, issueID, sid int64, now time.Time) (string, error) {
	from, err := formatAddress(m.FromName, m.FromAddress)
	if err != nil {
		return "", fmt.Errorf("from %q: %w", m.FromAddress, err)
	}
	to, err := formatAddress(m.ToName, m.To)
	if err != nil {
		return "", fmt.Errorf("to %q: %w", m.To, err)
	}
	var replyTo string
	if m.ReplyTo != "" {
		a, err := mail.ParseAddress(m.ReplyTo)
		if err != nil {
			return "", fmt.Errorf("reply-to %q: %w", m.ReplyTo, err)
		}
		replyTo = a.String()
	}
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		if !validFieldName(k) {
			return "", fmt.Errorf("header %q: not a valid field name", k)
		}
		switch strings.ToLower(k) {
		case "from", "to", "reply-to", "subject", "date", "message-id", "mime-version", "content-type", "content-transfer-encoding":
			return "", fmt.Errorf("header %q: set by the engine", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)

	domain := m.MessageIDDomain
	if domain == "" {
		if i := strings.LastIndexByte(m.FromAddress, '@'); i >= 0 {
			domain = m.FromAddress[i+1:]
		}
	}
	var rnd [24]byte // 8 for the Message-ID, 16 for the boundary
	_, _ = rand.Read(rnd[:])
	var idb []byte
	if issueID != 0 || sid != 0 {
		idb = append(idb, "hpd."...)
		idb = strconv.AppendInt(idb, issueID, 10)
		idb = append(idb, '.')
		idb = strconv.AppendInt(idb, sid, 10)
		idb = append(idb, '.')
	}
	idb = hex.AppendEncode(idb, rnd[:8])
	idb = append(idb, '@')
	idb = append(idb, domain...)
	id := string(idb)

	// Room for the worst case of quoted-printable (3 bytes per byte and soft
	// breaks), so that the encoder never reallocates; the buffers are pooled.
	buf.Grow(1024 + (len(m.Text)+len(m.HTML))*31/10)
	b := buf.AvailableBuffer()
	b = appendHeader(b, "Date", now.Format(time.RFC1123Z))
	b = appendHeader(b, "From", from)
	b = appendHeader(b, "To", to)
	if replyTo != "" {
		b = appendHeader(b, "Reply-To", replyTo)
	}
	b = appendHeader(b, "Subject", mime.QEncoding.Encode("UTF-8", cleanHeader(m.Subject)))
	b = appendHeader(b, "Message-ID", "<"+id+">")
	b = appendHeader(b, "MIME-Version", "1.0")
	for _, k := range keys {
		b = appendHeader(b, k, cleanHeader(m.Headers[k]))
	}
	const plain, html = "text/plain; charset=UTF-8", "text/html; charset=UTF-8"
	switch {
	case m.Text != "" && m.HTML != "":
		boundary := hex.EncodeToString(rnd[8:])
		b = appendHeader(b, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
		b = append(b, "\r\n--"...)
		b = append(b, boundary...)
		b = append(b, "\r\nContent-Type: "+plain+"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
		b = appendQP(b, m.Text)
		b = append(b, "\r\n--"...)
		b = append(b, boundary...)
		b = append(b, "\r\nContent-Type: "+html+"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
		b = appendQP(b, m.HTML)
		b = append(b, "\r\n--"...)
		b = append(b, boundary...)
		b = append(b, "--\r\n"...)
	default:
		ct, body := plain, m.Text
		if m.HTML != "" {
			ct, body = html, m.HTML
		}
		b = appendHeader(b, "Content-Type", ct)
		b = appendHeader(b, "Content-Transfer-Encoding", "quoted-printable")
		b = append(b, "\r\n"...)
		b = appendQP(b, body)
	}
	buf.Write(b) // b is buf's own spare capacity unless it outgrew it
	return id, nil
}

// formatAddress checks addr and returns `name <addr>` with the name
// quoted or RFC 2047 encoded as needed.
func formatAddress(name, addr string) (string, error) {
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return "", err
	}
	if a.Name != "" && name == "" {
		name = a.Name
	}
	return (&mail.Address{Name: name, Address: a.Address}).String(), nil
}

func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

// cleanHeader turns line breaks in a header value into spaces (no header
// injection from a subject or a name).
func cleanHeader(v string) string {
	if !strings.ContainsAny(v, "\r\n") {
		return v
	}
	return strings.Join(strings.FieldsFunc(v, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

// appendHeader writes "Name: value" CRLF, folded before spaces (the one
// after the colon included) so that lines stay within 78 characters where
// the value allows it. Folding only inserts CRLF before an existing space,
// so unfolding restores the value.
func appendHeader(b []byte, name, value string) []byte {
	start := len(b)
	b = append(b, name...)
	b = append(b, ':', ' ')
	b = append(b, value...)
	if len(b)-start <= maxHeaderLine {
		return append(b, '\r', '\n')
	}
	line := string(b[start:])
	b = b[:start]
	from := len(name) + 1 // first place to fold: the space after the colon
	for len(line) > maxHeaderLine {
		// The last space that keeps this line short enough, else the first
		// space at all (a long token has to go on one line).
		cut := strings.LastIndexByte(line[:maxHeaderLine+1], ' ')
		if cut < from {
			i := strings.IndexByte(line[from:], ' ')
			if i < 0 {
				break
			}
			cut = from + i
		}
		b = append(b, line[:cut]...)
		b = append(b, '\r', '\n')
		line = line[cut:] // starts with the space: the folding whitespace
		from = 1
	}
	b = append(b, line...)
	return append(b, '\r', '\n')
}

// qpLiteral marks the bytes quoted-printable writes as themselves (space
// and tab too; at the end of a line they are encoded separately).
var qpLiteral = func() (t [256]bool) {
	for c := 33; c <= 126; c++ {
		t[c] = c != '='
	}
	t[' '], t['\t'] = true, true
	return t
}()

const upperHex = "0123456789ABCDEF"

// appendQP appends s quoted-printable encoded as text: its line breaks
// (LF or CRLF) become CRLF, other bytes outside printable ASCII, "=" and
// whitespace at the end of a line are encoded, and lines are soft-broken
// to at most 76 characters.
func appendQP(b []byte, s string) []byte {
	for len(s) > 0 {
		line := s
		nl := strings.IndexByte(s, '\n')
		if nl >= 0 {
			line, s = s[:nl], s[nl+1:]
		} else {
			s = ""
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		b = appendQPLine(b, line)
		if nl >= 0 {
			b = append(b, '\r', '\n')
		}
	}
	return b
}

func appendQPLine(b []byte, line string) []byte {
	const room = maxQPLine - 1 // leave space for a soft break's "="
	// Worst case: every byte escaped, a soft break every 25 of them.
	need := len(b) + 3*len(line) + 3*(len(line)/25+1)
	if cap(b) < need {
		nb := make([]byte, len(b), need+need/4)
		copy(nb, b)
		b = nb
	}
	out := b[:need]
	w := len(b)
	end := len(line)
	var lastWS byte
	if end > 0 && (line[end-1] == ' ' || line[end-1] == '\t') {
		end--
		lastWS = line[end]
	}
	col := 0
	for i := 0; i < end; i++ {
		c := line[i]
		if qpLiteral[c] {
			if col == room {
				out[w], out[w+1], out[w+2] = '=', '\r', '\n'
				w += 3
				col = 0
			}
			out[w] = c
			w++
			col++
			continue
		}
		if col+3 > room {
			out[w], out[w+1], out[w+2] = '=', '\r', '\n'
			w += 3
			col = 0
		}
		out[w], out[w+1], out[w+2] = '=', upperHex[c>>4], upperHex[c&15]
		w += 3
		col += 3
	}
	if lastWS != 0 {
		if col+3 > room {
			out[w], out[w+1], out[w+2] = '=', '\r', '\n'
			w += 3
		}
		out[w], out[w+1], out[w+2] = '=', upperHex[lastWS>>4], upperHex[lastWS&15]
		w += 3
	}
	return out[:w]
}
