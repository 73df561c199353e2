package inbound

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"

	"golang.org/x/net/html"

	"github.com/haiphong/hpdigest/feeds/htmltext"
	"golang.org/x/net/html/charset"
)

// maxDepth bounds nested multiparts.
const maxDepth = 8

// part is one leaf of a MIME tree, its transfer encoding undone.
type part struct {
	mediaType string // lower case: "text/plain", "message/delivery-status"
	params    map[string]string
	header    textproto.MIMEHeader
	body      []byte
}

// text returns the part's content as UTF-8 text; HTML is reduced to its
// text.
func (p part) text() string {
	s := decodeCharset(p.params["charset"], p.body)
	if p.mediaType == "text/html" {
		// One parse only: a bounce quotes addresses as &lt;a@b&gt;, which
		// must stay text, not turn into a tag on a second round.
		if doc, err := html.Parse(strings.NewReader(s)); err == nil {
			s = htmltext.Node(doc)
		}
	}
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// leaves flattens a message body into its leaf parts, in order. Parts of a
// message/rfc822 are not entered (the returned original is one leaf).
// Broken or truncated multiparts yield what could be read.
func leaves(header textproto.MIMEHeader, body []byte) []part {
	var out []part
	collect(header, body, 0, &out)
	return out
}

func collect(header textproto.MIMEHeader, body []byte, depth int, out *[]part) {
	mt, params, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil || mt == "" {
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" && depth < maxDepth {
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		n := 0
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p) // a truncated last part still counts
			collect(p.Header, b, depth+1, out)
			n++
		}
		if n > 0 {
			return
		}
		mt = "text/plain" // no part found: read it as text
	}
	*out = append(*out, part{mediaType: mt, params: params, header: header, body: decodeTransfer(header.Get("Content-Transfer-Encoding"), body)})
}

func decodeTransfer(cte string, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil && n == 0 {
			return body
		}
		return out[:n]
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil && len(b) == 0 {
			return body
		}
		return b
	}
	return body
}

func decodeCharset(label string, b []byte) string {
	label = strings.ToLower(strings.TrimSpace(label))
	if label == "" || label == "utf-8" || label == "us-ascii" || label == "utf8" {
		return string(b)
	}
	r, err := charset.NewReaderLabel(label, bytes.NewReader(b))
	if err != nil {
		return string(b)
	}
	s, err := io.ReadAll(r)
	if err != nil && len(s) == 0 {
		return string(b)
	}
	return string(s)
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.NewReaderLabel}

// decodeHeader undoes RFC 2047 encoded words; on error it returns s.
func decodeHeader(s string) string {
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// fieldBlocks reads RFC 822-style field groups separated by blank lines,
// as in a message/delivery-status or message/feedback-report body. Field
// names are lower-cased; folded lines are unfolded.
func fieldBlocks(body string) []map[string][]string {
	var blocks []map[string][]string
	cur := map[string][]string{}
	var lastKey string
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, cur)
		}
		cur, lastKey = map[string][]string{}, ""
	}
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && lastKey != "" {
			vs := cur[lastKey]
			vs[len(vs)-1] += " " + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		lastKey = strings.ToLower(strings.TrimSpace(k))
		cur[lastKey] = append(cur[lastKey], strings.TrimSpace(v))
	}
	flush()
	return blocks
}

// first returns the first value of a field in a block.
func first(b map[string][]string, key string) string {
	if vs := b[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// typedValue strips the type of a DSN field ("rfc822; a@b" → "a@b",
// "dns; mx.example" → "mx.example") and angle brackets.
func typedValue(v string) string {
	if _, after, ok := strings.Cut(v, ";"); ok {
		v = after
	}
	return strings.Trim(strings.TrimSpace(v), "<>")
}

// headerBlock parses the header section at the start of raw (a returned
// message or text/rfc822-headers part), tolerating a missing body.
func headerBlock(raw []byte) textproto.MIMEHeader {
	raw = bytes.TrimLeft(raw, "\r\n")
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	h, _ := r.ReadMIMEHeader() // a partial header is still useful
	return h
}
