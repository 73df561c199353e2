package feeds

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/unicode/norm"
)

// ErrNotAFeed is wrapped by fetch errors when a server answered 200 with an
// HTML page (a cookie wall, a bot challenge, a moved site).
var ErrNotAFeed = errors.New("blocked: not a feed (the server returned an HTML page)")

var (
	reProlog   = regexp.MustCompile(`^\s*<\?xml[^>]*\?>`)
	reEncoding = regexp.MustCompile(`(?i)(\sencoding\s*=\s*)(["'])([^"']*)(["'])`)
	// A character reference to a control character (&#11;, &#x0C;).
	reControlRef = regexp.MustCompile(`&#(?:[xX]0*([0-9a-fA-F]{1,2})|0*([0-9]{1,2}));`)
)

// spaceControls turns the control characters XML forbids (U+0000-U+001F but
// tab, line feed and carriage return), raw or as character references, into
// spaces. Portals put them between words; the XML parser would refuse the
// document or drop them and glue the words together ("Ba Lanquyên góp").
func spaceControls(doc []byte) []byte {
	if bytes.IndexFunc(doc, isForbiddenControl) >= 0 {
		doc = bytes.Map(func(r rune) rune {
			if isForbiddenControl(r) {
				return ' '
			}
			return r
		}, doc)
	}
	if bytes.Contains(doc, []byte("&#")) {
		doc = reControlRef.ReplaceAllFunc(doc, func(ref []byte) []byte {
			m := reControlRef.FindSubmatch(ref)
			var n uint64
			if m[1] != nil {
				n, _ = strconv.ParseUint(string(m[1]), 16, 8)
			} else {
				n, _ = strconv.ParseUint(string(m[2]), 10, 8)
			}
			if isForbiddenControl(rune(n)) {
				return []byte(" ")
			}
			return ref
		})
	}
	return doc
}

func isForbiddenControl(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r'
}

// toUTF8 returns the document as UTF-8 in NFC with the XML prolog saying
// utf-8, so the XML parser does no conversion of its own. Bytes that are
// valid UTF-8 are read as UTF-8 whatever the prolog claims; otherwise the
// prolog's charset, then the Content-Type charset, then windows-1252.
func toUTF8(body []byte, contentType string) ([]byte, error) {
	switch {
	case bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}):
		body = body[3:]
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE}), bytes.HasPrefix(body, []byte{0xFE, 0xFF}):
		out, err := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder().Bytes(body)
		if err != nil {
			return nil, fmt.Errorf("decode UTF-16: %w", err)
		}
		body = out
	}
	var declared string
	prolog := reProlog.Find(body)
	if prolog != nil {
		if m := reEncoding.FindSubmatch(prolog); m != nil {
			declared = strings.ToLower(strings.TrimSpace(string(m[3])))
		}
	}
	var header string
	if contentType != "" {
		if _, params, err := mime.ParseMediaType(contentType); err == nil {
			header = strings.ToLower(strings.TrimSpace(params["charset"]))
		}
	}
	if !looksUTF8(body) {
		label := declared
		if label == "" || isUTF(label) {
			label = header
		}
		if label == "" || isUTF(label) {
			label = "windows-1252"
		}
		enc, err := htmlindex.Get(label)
		if err != nil {
			return nil, fmt.Errorf("unsupported character encoding %q", label)
		}
		out, err := enc.NewDecoder().Bytes(body)
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", label, err)
		}
		body = out
	}
	body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
	if prolog != nil && declared != "" && declared != "utf-8" {
		if p := reProlog.Find(body); p != nil {
			np := reEncoding.ReplaceAll(p, []byte(`${1}${2}utf-8${4}`))
			body = append(np, body[len(p):]...)
		}
	}
	if !norm.NFC.IsNormal(body) {
		body = norm.NFC.Bytes(body)
	}
	return body, nil
}

func isUTF(label string) bool {
	return label == "utf-8" || label == "utf8" || strings.HasPrefix(label, "utf-16") || label == "unicode"
}

// looksUTF8 reports whether the bytes are UTF-8: valid, or with far more
// valid multi-byte sequences than broken bytes (a stray bad byte in a UTF-8
// feed must not turn all its Vietnamese into mojibake).
func looksUTF8(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	var good, bad int
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			bad++
		} else if n > 1 {
			good++
		}
		b = b[n:]
	}
	return good >= 8*bad && good > 0
}

// isHTMLPage reports whether a body is an HTML document rather than a feed.
func isHTMLPage(body []byte) bool {
	b := body
	for {
		b = bytes.TrimLeft(b, " \t\r\n\ufeff")
		b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
		switch {
		case hasPrefixFold(b, "<?xml"):
			i := bytes.Index(b, []byte("?>"))
			if i < 0 {
				return false
			}
			b = b[i+2:]
		case bytes.HasPrefix(b, []byte("<!--")):
			i := bytes.Index(b, []byte("-->"))
			if i < 0 {
				return false
			}
			b = b[i+3:]
		default:
			return hasPrefixFold(b, "<!doctype html") || hasPrefixFold(b, "<html") || hasPrefixFold(b, "<head") || hasPrefixFold(b, "<body")
		}
	}
}

func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && strings.EqualFold(string(b[:len(p)]), p)
}
