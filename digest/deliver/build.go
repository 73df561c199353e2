package deliver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
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

const (
	ctPlain = "text/plain; charset=UTF-8"
	ctHTML  = "text/html; charset=UTF-8"
)

// built is what appendMessage reports about a message it wrote.
type built struct {
	id        string // Message-ID, with its angle brackets
	bodyStart int    // offset of the body (after the empty line)
	marks     []int  // a Body's message: where each value's encoding starts and ends
}

// buildMessage appends the wire form of m (CRLF line ends, not dot-stuffed)
// to buf and returns its Message-ID without brackets.
func buildMessage(buf *bytes.Buffer, m *Message, issueID, sid int64, now time.Time) (string, error) {
	b, info, err := appendMessage(buf.AvailableBuffer(), m, issueID, sid, now)
	if err != nil {
		return "", err
	}
	buf.Write(b) // b is buf's own spare capacity unless it outgrew it
	return info.id[1 : len(info.id)-1], nil
}

// appendMessage appends the wire form of m to b. Offsets in the result
// are from the start of the message (len(b) on entry).
func appendMessage(b []byte, m *Message, issueID, sid int64, now time.Time) ([]byte, built, error) {
	var info built
	sh, err := senderHeadersOf(m)
	if err != nil {
		return b, info, err
	}
	to, err := formatAddress(m.ToName, m.To)
	if err != nil {
		return b, info, fmt.Errorf("to %q: %w", m.To, err)
	}
	var keyBuf [8]string
	keys := keyBuf[:0]
	for k := range m.Headers {
		if !validFieldName(k) {
			return b, info, fmt.Errorf("header %q: not a valid field name", k)
		}
		switch strings.ToLower(k) {
		case "from", "to", "reply-to", "subject", "date", "message-id", "mime-version", "content-type", "content-transfer-encoding":
			return b, info, fmt.Errorf("header %q: set by the engine", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if m.Body != nil && m.Values == nil {
		return b, info, errors.New("a message of a Body needs its Values")
	}

	domain := m.MessageIDDomain
	if domain == "" {
		if i := strings.LastIndexByte(m.FromAddress, '@'); i >= 0 {
			domain = m.FromAddress[i+1:]
		}
	}
	var rnd [24]byte // 8 for the Message-ID, 16 for the boundary
	_, _ = rand.Read(rnd[:])
	idb := append(make([]byte, 0, 64), '<')
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
	idb = append(idb, '>')
	info.id = string(idb)

	// Room for the worst case of quoted-printable (3 bytes per byte and soft
	// breaks), so that the encoder never reallocates; the buffers are pooled.
	need := 1024 + (len(m.Text)+len(m.HTML))*31/10
	if m.Body != nil {
		need = 1024 + m.Body.size
		for _, v := range m.Values {
			need += len(v)*31/10 + 3
		}
	}
	b = slices.Grow(b, need)
	start := len(b)
	b = appendHeader(b, "Date", formatDate(now))
	b = appendHeader(b, "From", sh.from)
	b = appendHeader(b, "To", to)
	if sh.replyTo != "" {
		b = appendHeader(b, "Reply-To", sh.replyTo)
	}
	b = appendHeader(b, "Subject", sh.subject)
	b = appendHeader(b, "Message-ID", info.id)
	b = appendHeader(b, "MIME-Version", "1.0")
	for _, k := range keys {
		b = appendHeader(b, k, cleanHeader(m.Headers[k]))
	}
	switch {
	case m.Body != nil:
		b = appendHeader(b, "Content-Type", m.Body.contentType())
		b = append(b, "\r\n"...)
		info.bodyStart = len(b) - start
		var err error
		if b, info.marks, err = m.Body.appendTo(b, m.Values, nil); err != nil {
			return b, info, err
		}
		for i := range info.marks {
			info.marks[i] -= start
		}
	case m.Text != "" && m.HTML != "":
		boundary := hex.EncodeToString(rnd[8:])
		b = appendHeader(b, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
		b = append(b, "\r\n"...)
		info.bodyStart = len(b) - start
		b = append(b, "--"...)
		b = append(b, boundary...)
		b = append(b, "\r\nContent-Type: "+ctPlain+"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
		b = appendQP(b, m.Text)
		b = append(b, "\r\n--"...)
		b = append(b, boundary...)
		b = append(b, "\r\nContent-Type: "+ctHTML+"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
		b = appendQP(b, m.HTML)
		b = append(b, "\r\n--"...)
		b = append(b, boundary...)
		b = append(b, "--\r\n"...)
	default:
		ct, body := ctPlain, m.Text
		if m.HTML != "" {
			ct, body = ctHTML, m.HTML
		}
		b = appendHeader(b, "Content-Type", ct)
		b = appendHeader(b, "Content-Transfer-Encoding", "quoted-printable")
		b = append(b, "\r\n"...)
		info.bodyStart = len(b) - start
		b = appendQP(b, body)
	}
	return b, info, nil
}

// lastDate is the Date header value of the last second a message was
// made in: most messages of a send share it with the one before.
var lastDate atomic.Pointer[struct {
	t time.Time
	s string
}]

func formatDate(now time.Time) string {
	now = now.Truncate(time.Second)
	if d := lastDate.Load(); d != nil && d.t.Equal(now) && d.t.Location() == now.Location() {
		return d.s
	}
	s := now.Format(time.RFC1123Z)
	lastDate.Store(&struct {
		t time.Time
		s string
	}{now, s})
	return s
}

// senderHeaders are the From, Reply-To and Subject values of a message
// as written, with what they were made from.
type senderHeaders struct {
	fromName, fromAddress, replyToAddr, subjectText string
	from, replyTo, subject                          string
}

// senderHeadersOf formats m's From, Reply-To and Subject. They are the
// same for every message of a Body (one variant), which keeps them.
func senderHeadersOf(m *Message) (*senderHeaders, error) {
	if m.Body != nil {
		if sh := m.Body.headers.Load(); sh != nil && sh.fromName == m.FromName && sh.fromAddress == m.FromAddress &&
			sh.replyToAddr == m.ReplyTo && sh.subjectText == m.Subject {
			return sh, nil
		}
	}
	sh := &senderHeaders{fromName: m.FromName, fromAddress: m.FromAddress, replyToAddr: m.ReplyTo, subjectText: m.Subject}
	var err error
	if sh.from, err = formatAddress(m.FromName, m.FromAddress); err != nil {
		return nil, fmt.Errorf("from %q: %w", m.FromAddress, err)
	}
	if m.ReplyTo != "" {
		a, err := mail.ParseAddress(m.ReplyTo)
		if err != nil {
			return nil, fmt.Errorf("reply-to %q: %w", m.ReplyTo, err)
		}
		sh.replyTo = a.String()
	}
	sh.subject = mime.QEncoding.Encode("UTF-8", cleanHeader(m.Subject))
	if m.Body != nil {
		m.Body.headers.Store(sh)
	}
	return sh, nil
}

// formatAddress checks addr and returns `name <addr>` with the name
// quoted or RFC 2047 encoded as needed.
func formatAddress(name, addr string) (string, error) {
	if !plainAddress(addr) {
		a, err := mail.ParseAddress(addr)
		if err != nil {
			return "", err
		}
		if a.Name != "" && name == "" {
			name = a.Name
		}
		addr = a.Address
	}
	return (&mail.Address{Name: name, Address: addr}).String(), nil
}

// plainAddress reports an address that mail.ParseAddress returns as it
// is: a dot-atom of letters, digits and the other atext characters, "@",
// and a domain of letters, digits and hyphens in dot-separated labels.
func plainAddress(addr string) bool {
	at := strings.IndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return false
	}
	local, domain := addr[:at], addr[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !isAlnum(c) && c != '.' && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", rune(c)) {
			return false
		}
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
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
// (LF or CRLF) become CRLF, other bytes outside printable ASCII, "=",
// whitespace at the end of a line and a dot at its start are encoded, and
// lines are soft-broken to at most 76 characters.
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
			// A dot starting a line is encoded: then no line of a
			// message needs dot-stuffing on the wire (RFC 5321 §4.5.2).
			if c != '.' || col > 0 {
				out[w] = c
				w++
				col++
				continue
			}
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
