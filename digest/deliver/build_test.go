package deliver

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"sort"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// goMailRender is how messages were built before buildMessage: go-mail's
// own writer. It is the reference the builder is checked against.
func goMailRender(t *testing.T, m *Message, now time.Time) []byte {
	t.Helper()
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(m.FromName, m.FromAddress); err != nil {
		t.Fatal(err)
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		t.Fatal(err)
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			t.Fatal(err)
		}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue("x@y")
	msg.SetDateWithValue(now)
	for k, v := range m.Headers {
		msg.SetGenHeader(gomail.Header(k), v)
	}
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decoded is what a mail reader sees of a message.
type decoded struct {
	from, to, replyTo, subject string
	date                       time.Time
	headers                    map[string]string
	parts                      []string // "type: body"
}

func decodeMessage(t *testing.T, raw []byte) decoded {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	var d decoded
	addr := func(k string) string {
		if msg.Header.Get(k) == "" {
			return ""
		}
		l, err := msg.Header.AddressList(k)
		if err != nil || len(l) != 1 {
			t.Fatalf("%s %q: %v", k, msg.Header.Get(k), err)
		}
		return l[0].Name + " / " + l[0].Address
	}
	d.from, d.to, d.replyTo = addr("From"), addr("To"), addr("Reply-To")
	if d.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	if d.date, err = msg.Header.Date(); err != nil {
		t.Fatal(err)
	}
	d.headers = map[string]string{}
	for _, k := range []string{"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted", "MIME-Version"} {
		d.headers[k] = msg.Header.Get(k)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	readPart := func(ct, cte string, r io.Reader) {
		if strings.EqualFold(cte, "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", ct, err)
		}
		pt, pp, _ := mime.ParseMediaType(ct)
		d.parts = append(d.parts, pt+"; charset="+strings.ToUpper(pp["charset"])+": "+string(b))
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			readPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
		}
		d.parts = append(d.parts, mt)
	} else {
		readPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	}
	return d
}

func TestBuilderAgreesWithGoMail(t *testing.T) {
	now := time.Date(2026, 3, 1, 6, 30, 0, 0, time.FixedZone("ICT", 7*3600))
	long := strings.Repeat("Hải Phòng thu hút thêm vốn FDI vào khu công nghiệp ", 12)
	base := Message{FromName: "Bản tin Hải Phòng", FromAddress: "digest@haiphong.example",
		To: "reader@example.org", ToName: "Nguyễn Thị Người Đọc Có Một Cái Tên Rất Dài Để Gấp Dòng",
		Subject: "Bản tin tuần — Hải Phòng: " + long[:200],
		Text:    "Xin chào,\n\n" + long + "\n  trailing spaces   \n\ttab\t\n=equals= and ==\n.dot line\n..\nend",
		HTML:    "<p>Xin chào</p>\r\n<p style=\"x\">" + long + "</p>\r\n",
		Headers: map[string]string{
			"List-Id":               "Hai Phong Digest <digest.haiphong.example>",
			"List-Unsubscribe":      "<https://haiphong.example/unsubscribe/" + strings.Repeat("tok", 30) + "?one_click=1&issue=1>, <mailto:unsubscribe@haiphong.example?subject=unsubscribe-tok-1>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		}}
	cases := map[string]func(m *Message){
		"both parts": func(m *Message) {},
		"html only":  func(m *Message) { m.Text = "" },
		"text only":  func(m *Message) { m.HTML = "" },
		"ascii names": func(m *Message) {
			m.FromName, m.ToName, m.Subject = "Hai Phong Digest", "Jane Q. Reader", "Weekly digest"
		},
		"quoted name":    func(m *Message) { m.ToName = `Reader "the best", Esq.` },
		"no names":       func(m *Message) { m.FromName, m.ToName = "", "" },
		"reply-to named": func(m *Message) { m.ReplyTo = "Tòa soạn <desk@haiphong.example>" },
		"reply-to bare":  func(m *Message) { m.ReplyTo = "desk@haiphong.example" },
		"other header":   func(m *Message) { m.Headers = map[string]string{"Auto-Submitted": "auto-generated"} },
		"text ends in newline": func(m *Message) {
			m.HTML, m.Text = "", "line one\nline two \n"
		},
		"long token": func(m *Message) { m.Text = strings.Repeat("x", 500) + " " + strings.Repeat("=", 100) },
	}
	names := make([]string, 0, len(cases))
	for k := range cases {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			m := base
			m.Headers = map[string]string{}
			for k, v := range base.Headers {
				m.Headers[k] = v
			}
			cases[name](&m)
			var buf bytes.Buffer
			if _, err := buildMessage(&buf, &m, 3, 4, now); err != nil {
				t.Fatal(err)
			}
			got, want := decodeMessage(t, buf.Bytes()), decodeMessage(t, goMailRender(t, &m, now))
			if name == "quoted name" { // go-mail turns the quotes and comma into spaces
				want.to = m.ToName + " / " + m.To
			}
			if got.from != want.from || got.to != want.to || got.replyTo != want.replyTo || got.subject != want.subject || !got.date.Equal(want.date) {
				t.Errorf("addresses/subject/date:\n got %q %q %q %q %v\nwant %q %q %q %q %v",
					got.from, got.to, got.replyTo, got.subject, got.date, want.from, want.to, want.replyTo, want.subject, want.date)
			}
			for k, v := range want.headers {
				if got.headers[k] != v {
					t.Errorf("%s = %q, go-mail %q", k, got.headers[k], v)
				}
			}
			if strings.Join(got.parts, "\n##\n") != strings.Join(want.parts, "\n##\n") {
				t.Errorf("parts differ:\n got %q\nwant %q", got.parts, want.parts)
			}
			checkLines(t, buf.Bytes())
		})
	}
}

// checkLines: CRLF only, headers folded to 78 where there is a space to
// fold at, quoted-printable body lines within 76, never ending in a space
// or tab, never starting with a dot.
func checkLines(t *testing.T, raw []byte) {
	t.Helper()
	if bytes.Count(raw, []byte("\n")) != bytes.Count(raw, []byte("\r\n")) {
		t.Error("bare LF in the message")
	}
	head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, l := range strings.Split(string(head), "\r\n") {
		if len(l) > maxHeaderLine && strings.ContainsRune(strings.TrimLeft(l, " "), ' ') {
			t.Errorf("header line of %d characters: %q", len(l), l)
		}
	}
	for _, l := range strings.Split(string(body), "\r\n") {
		if len(l) > maxQPLine {
			t.Errorf("body line of %d characters: %q", len(l), l)
		}
		if strings.HasSuffix(l, " ") || strings.HasSuffix(l, "\t") {
			t.Errorf("body line ends in whitespace: %q", l)
		}
		if strings.HasPrefix(l, ".") {
			t.Errorf("body line starts with a dot (it would need stuffing): %q", l)
		}
	}
}

func TestQuotedPrintableRoundTrip(t *testing.T) {
	alphabet := []string{"a", "Z", " ", "\t", "=", ".", "\n", "\r\n", "ệ", "—", "\x00", "\xff", "~", "<a href=\"x\">", strings.Repeat("w", 80)}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		var sb strings.Builder
		for n := rng.IntN(120); n > 0; n-- {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		in := sb.String()
		enc := appendQP(nil, in)
		for _, l := range strings.Split(string(enc), "\r\n") {
			if len(l) > maxQPLine || strings.HasSuffix(l, " ") || strings.HasSuffix(l, "\t") {
				t.Fatalf("%q encodes to a bad line %q", in, l)
			}
		}
		if bytes.Count(enc, []byte("\n")) != bytes.Count(enc, []byte("\r\n")) {
			t.Fatalf("%q: bare LF in %q", in, enc)
		}
		dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(enc)))
		if err != nil {
			t.Fatalf("%q -> %q: %v", in, enc, err)
		}
		want := strings.ReplaceAll(strings.ReplaceAll(in, "\r\n", "\n"), "\n", "\r\n")
		if string(dec) != want {
			t.Fatalf("%q -> %q -> %q", in, enc, dec)
		}
	}
}

func TestBuilderRefusesBadAddressesAndHeaders(t *testing.T) {
	ok := Message{FromAddress: "digest@haiphong.example", To: "r@example.org", Subject: "s", Text: "t"}
	for name, f := range map[string]func(m *Message){
		"to":             func(m *Message) { m.To = "not an address" },
		"from":           func(m *Message) { m.FromAddress = "digest@" },
		"reply-to":       func(m *Message) { m.ReplyTo = "a@b@c" },
		"header name":    func(m *Message) { m.Headers = map[string]string{"Bad Name": "x"} },
		"engine's field": func(m *Message) { m.Headers = map[string]string{"subject": "x"} },
	} {
		m := ok
		f(&m)
		if _, err := buildMessage(new(bytes.Buffer), &m, 1, 1, time.Now()); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A line break in a value cannot start a header of its own.
	m := ok
	m.Subject = "hi\r\nBcc: everyone@example.org"
	m.Headers = map[string]string{"List-Id": "x\nBcc: y@example.org"}
	var buf bytes.Buffer
	if _, err := buildMessage(&buf, &m, 1, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get("Bcc"); got != "" {
		t.Errorf("injected Bcc: %q", got)
	}
}

// BenchmarkBuildMessage builds the BenchmarkSend message (about 24 kB,
// Vietnamese text and HTML).
func BenchmarkBuildMessage(b *testing.B) {
	m, _ := benchTemplate().compose(Recipient{SubscriberID: 1, Email: "u1@example.org", Name: "Nguyễn Thị Người Đọc 1", Language: "vi"})
	var buf bytes.Buffer
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if _, err := buildMessage(&buf, m, 1, 1, now); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

// The quick check of plain addresses agrees with mail.ParseAddress: what
// it passes, the parser returns as it is.
func TestPlainAddressAgreesWithParser(t *testing.T) {
	for _, a := range []string{"u1@example.org", "doc-gia.12@example.com.au", "a+b@x.vn", "o'brien@ie.example", "x@y",
		"", "@x.org", "a@", "a..b@x.org", ".a@x.org", "a.@x.org", "a b@x.org", "a@-x.org", "a@x-.org", "a@x..org",
		"Name <a@x.org>", "a@x.org>", "ngườidùng@x.vn", "a@b@c", "\"q\"@x.org", "a@[127.0.0.1]"} {
		if !plainAddress(a) {
			continue
		}
		p, err := mail.ParseAddress(a)
		if err != nil || p.Address != a || p.Name != "" {
			t.Errorf("%q: plain, but the parser says %v %v", a, p, err)
		}
	}
	for _, a := range []string{"u1@example.org", "doc-gia.12@example.com.au", "a+b@x.vn"} {
		if !plainAddress(a) {
			t.Errorf("%q: not plain", a)
		}
	}
}

// A message built from a Body reads exactly as the same message with its
// text joined and encoded in one go, for random text and values: white
// space and dots at the ends of literals and values, empty values, line
// breaks inside values, long lines, "=" and non-ASCII bytes. Signed with
// an RSA and an Ed25519 key, each verifies.
func TestBodySplicesReadAsJoined(t *testing.T) {
	keys := newTestDKIMKeys(t)
	dk := DKIMConfig{Domain: "haiphong.example", Keys: []DKIMKey{keys.add(t, "r", "rsa", true), keys.add(t, "e", "ed25519", true)}}
	signer := NewSMTPEngine(nil, Config{Host: "127.0.0.1", TLS: "none", DKIM: dk}, nil)
	if signer.err != nil {
		t.Fatal(signer.err)
	}
	alphabet := []string{"a", "Z", " ", "  ", "\t", "=", ".", "\n", "\r\n", "\n.", "ệ", "—", "~", "<a href=\"x\">", strings.Repeat("w", 80), strings.Repeat("x ", 45)}
	rng := rand.New(rand.NewPCG(3, 4))
	text := func(max int) string {
		var sb strings.Builder
		for n := rng.IntN(max); n > 0; n-- {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return sb.String()
	}
	part := func(nvals int) BodyPart {
		var p BodyPart
		for k := rng.IntN(5); k > 0; k-- {
			p.Literals = append(p.Literals, text(30))
			p.Slots = append(p.Slots, rng.IntN(nvals))
		}
		p.Literals = append(p.Literals, text(30))
		return p
	}
	join := func(p BodyPart, vals []string) string {
		var sb strings.Builder
		for i, l := range p.Literals {
			sb.WriteString(l)
			if i < len(p.Slots) {
				sb.WriteString(vals[p.Slots[i]])
			}
		}
		return sb.String()
	}
	for i := 0; i < 300; i++ {
		vals := make([]string, 4)
		for k := range vals {
			vals[k] = text(8)
		}
		tp, hp := part(len(vals)), part(len(vals))
		if join(tp, vals) == "" || join(hp, vals) == "" {
			continue // the builder makes a single part of such a message
		}
		body, err := NewBody(tp, hp)
		if err != nil {
			t.Fatal(err)
		}
		m := Message{FromName: "Bản tin", FromAddress: "digest@haiphong.example", To: "r@example.org", Subject: "s",
			Headers: map[string]string{"List-Id": "x <x.haiphong.example>"}, Body: body, Values: vals}
		raw, err := signer.Render(&m)
		if err != nil {
			t.Fatal(err)
		}
		joined := m
		joined.Body, joined.Values, joined.Text, joined.HTML = nil, nil, join(tp, vals), join(hp, vals)
		var want bytes.Buffer
		if _, err := buildMessage(&want, &joined, 0, 0, time.Now()); err != nil {
			t.Fatal(err)
		}
		got, exp := decodeMessage(t, raw), decodeMessage(t, want.Bytes())
		if strings.Join(got.parts, "\n##\n") != strings.Join(exp.parts, "\n##\n") {
			t.Fatalf("case %d: spliced\n%q\njoined\n%q", i, got.parts, exp.parts)
		}
		checkLines(t, raw)
		if vs, err := keys.verify(raw); err != nil || len(vs) != 2 || vs[0].Err != nil || vs[1].Err != nil {
			t.Fatalf("case %d: DKIM %v %+v\n%s", i, err, vs, raw)
		}
		// What the workers send: wire-ready, so it skips dot-stuffing,
		// and the same bytes go on the wire as with it.
		buf, _, err := signer.renderBuf(&m, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !buf.wire {
			t.Fatalf("case %d: a message built from a Body is not wire-ready:\n%q", i, buf.Bytes())
		}
		if fast, full := dataOf(t, buf.Bytes(), true), dataOf(t, buf.Bytes(), false); fast != full {
			t.Fatalf("case %d: DATA without dot-stuffing\n%q\nwith it\n%q", i, fast, full)
		}
		putBuf(buf)
	}
}

// dataOf is msg as writeDotStuffed puts it on the wire.
func dataOf(t *testing.T, msg []byte, wire bool) string {
	t.Helper()
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	if err := writeDotStuffed(w, msg, wire); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestWireReady(t *testing.T) {
	for in, want := range map[string]bool{
		"":                  true,
		"a\r\n":             true,
		"a\r\n\r\nb=2E\r\n": true,
		".a\r\n":            false, // a dot starts a line
		"a\r\n.\r\n":        false,
		"a\nb\r\n":          false, // a bare LF
		"\n":                false,
		"a\r\nb":            false, // the last line has no end
	} {
		if got := wireReady([]byte(in)); got != want {
			t.Errorf("wireReady(%q) = %v, want %v", in, got, want)
		}
		if !want {
			continue
		}
		if fast, full := dataOf(t, []byte(in), true), dataOf(t, []byte(in), false); fast != full {
			t.Errorf("%q: DATA without dot-stuffing %q, with it %q", in, fast, full)
		}
	}
}
