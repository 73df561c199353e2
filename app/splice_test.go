package app

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/digest/deliver/dkimkey"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/internal/smtptest"
)

// The daemon encodes each variant once and splices each reader's values
// (greeting, address, links) into it; the staff preview personalises the
// variant and encodes the whole text per reader. Both must read the same:
// for readers of every language and theme selection, with names and
// addresses that need escaping, RFC 2047 encoding, folding or a dot at the
// start of a line, the spliced message has the same headers and the same
// decoded text and HTML. Signed with an RSA and an Ed25519 key, every
// spliced message verifies (go-msgauth), and changing a reader's value in
// it, or the text around it, breaks both signatures.
func TestSplicedMessagesReadAsPersonalised(t *testing.T) {
	ctx := context.Background()
	a, d, iss := sendableIssue(t)
	fixed := time.Now()
	a.Tokens.SetClock(func() time.Time { return fixed }) // both ways sign the same links
	signer, lookup := dkimEngine(t)
	compose := a.composer(d, iss)

	names := []string{"", "Nguyễn Thị Lan", "David <Le> & \"Sons\"", ".Lan bắt đầu bằng dấu chấm",
		"Nguyê\u0303n Văn Dài Đến Mức Phải Gấp Dòng Trong Tiêu Đề Người Nhận Của Thư Này", "O'Brien =?utf-8?q?x?=", "Trần\tMinh\r\nBcc: x@y"}
	emails := []string{"lan%d@example.jp", "David.Le+tin%d@Example.COM", "doc-gia.%d@example.com.au"}
	selections := [][]string{nil, {"diaspora"}, {"fdi"}, {"china"}, {"diaspora", "fdi"}, {"fdi", "china"}, {"other"}, {"nothing-such"}}
	langs := []string{"vi", "en", ""}
	spliced, skipped := 0, 0
	for i := 0; i < 240; i++ {
		r := deliver.Recipient{SubscriberID: int64(i + 1), Name: names[i%len(names)], Email: fmt.Sprintf(emails[i%len(emails)], i),
			Language: langs[i%len(langs)], Themes: selections[(i/len(langs))%len(selections)]}
		fast, err := compose(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		lang := r.Language
		if lang == "" {
			lang = "vi"
		}
		v, err := a.Renderer().Variant(a.RenderIssue(d, iss, selection(d, r.Themes)), lang, nil)
		if err != nil {
			t.Fatal(err)
		}
		if fast == nil {
			if v.Items != 0 {
				t.Fatalf("reader %d (%s, %v): skipped, but the variant has %d items", i, lang, r.Themes, v.Items)
			}
			skipped++
			continue
		}
		if fast.Body == nil {
			t.Fatal("the composer's message is not built from an encoded variant")
		}
		raw, err := signer.Render(fast)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := signer.Render(a.MessageFor(d, v, r))
		if err != nil {
			t.Fatal(err)
		}
		got, want := readAsReader(t, raw), readAsReader(t, plain)
		if got != want {
			t.Fatalf("reader %d (%s, %v): the spliced message reads\n%s\nthe personalised one\n%s", i, lang, r.Themes, got, want)
		}
		checkWireLines(t, raw)
		if err := verifyAll(raw, lookup, 2); err != nil {
			t.Fatalf("reader %d: %v", i, err)
		}
		if i%7 == 0 { // a reader's value, and the text before it, are covered by the signatures
			head := bytes.Index(raw, []byte("\r\n\r\n"))
			body := raw[head:]
			local := strings.ToLower(r.Email[:strings.IndexByte(r.Email, '@')])
			at := bytes.Index(bytes.ToLower(body), []byte(local+"@"))
			if at < 0 {
				t.Fatalf("reader %d: the address is not in the body", i)
			}
			for _, pos := range []int{head + at + 1, head + at - 20} {
				tampered := bytes.Clone(raw)
				tampered[pos] ^= 0x01
				if err := verifyAll(tampered, lookup, 2); err == nil {
					t.Fatalf("reader %d: a signature still verifies after the byte at %d changed", i, pos)
				}
			}
		}
		spliced++
	}
	if spliced < 150 || skipped == 0 {
		t.Fatalf("%d spliced messages, %d readers with nothing: the mix does not cover what it should", spliced, skipped)
	}
}

// sendableIssue is an app with an assembled issue of the test feeds (both
// languages, every theme).
func sendableIssue(t *testing.T) (*App, digest.Digest, *digest.Issue) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	ago := func(h int) time.Time { return now.Add(-time.Duration(h) * time.Hour) }
	fixture := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "e2e", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	vi, en := fixture("vi.rss"), fixture("en.atom")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/vi.rss":
			fmt.Fprintf(w, vi, ago(3).Format(time.RFC1123Z), ago(10).Format(time.RFC1123Z), ago(20).Format(time.RFC1123Z), ago(30).Format(time.RFC1123Z), ago(24*60).Format(time.RFC1123Z))
		case "/en.atom":
			fmt.Fprintf(w, en, ago(1).Format(time.RFC3339), ago(5).Format(time.RFC3339), ago(15).Format(time.RFC3339), ago(40).Format(time.RFC3339))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	cfg := config.Default()
	cfg.Database = filepath.Join(t.TempDir(), "hp.db")
	cfg.HTTP.BaseURL = "https://digest.example.org"
	cfg.Sender.Name = "Bản tin Hải Phòng"
	cfg.Sender.Address = "digest@haiphong.example"
	cfg.Sender.ReplyTo = "Tòa soạn <toasoan@haiphong.example>"
	cfg.Sender.PostalAddress = "18 Hoàng Diệu, Hải Phòng"
	cfg.Feeds = []feeds.Source{
		{Name: "Cổng Hải Phòng", URL: srv.URL + "/vi.rss", Language: "vi", AllowPrivate: true},
		{Name: "WVR", URL: srv.URL + "/en.atom", Language: "en", AllowPrivate: true},
	}
	cfg.Digests = []digest.Digest{{Key: "weekly", Schedule: "0 8 * * FRI"}}
	cfg.Digests[0].Defaults(cfg.Timezone, cfg.ThemeKeys())
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := New(ctx, cfg, Options{DryRunDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	a.FetchNow(ctx)
	iss, _, err := a.Assemble(ctx, cfg.Digests[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(iss.Included()) < 5 {
		t.Fatalf("the issue holds %d items", len(iss.Included()))
	}
	return a, cfg.Digests[0], iss
}

// dkimEngine renders messages signed with an RSA-2048 and an Ed25519 key;
// lookup answers DNS for both.
func dkimEngine(t *testing.T) (*deliver.Engine, func(string) ([]string, error)) {
	t.Helper()
	dir := t.TempDir()
	records := map[string]string{}
	var keys []deliver.DKIMKey
	for _, k := range []struct{ selector, algo string }{{"hp2026r", "rsa"}, {"hp2026e", "ed25519"}} {
		key, err := dkimkey.Generate(k.algo)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, k.selector+".pem")
		if err := dkimkey.WriteNew(path, key); err != nil {
			t.Fatal(err)
		}
		rec, err := dkimkey.Record(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		records[dkimkey.Name(k.selector, "haiphong.example")] = rec
		keys = append(keys, deliver.DKIMKey{Selector: k.selector, Algorithm: k.algo, PrivateKeyFile: path})
	}
	e := deliver.NewSMTPEngine(nil, deliver.Config{Host: "127.0.0.1", Port: 25, TLS: "none",
		DKIM: deliver.DKIMConfig{Domain: "haiphong.example", Keys: keys}}, nil)
	return e, func(name string) ([]string, error) {
		if r, ok := records[name]; ok {
			return []string{r}, nil
		}
		return nil, fmt.Errorf("no TXT record at %s", name)
	}
}

// verifyAll checks that raw carries n signatures and that each verifies.
func verifyAll(raw []byte, lookup func(string) ([]string, error), n int) error {
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil {
		return err
	}
	if len(vs) != n {
		return fmt.Errorf("%d signatures, want %d", len(vs), n)
	}
	for _, v := range vs {
		if v.Err != nil {
			return fmt.Errorf("signature of %s: %w", v.Domain, v.Err)
		}
	}
	return nil
}

// readAsReader is what a mail client shows of a message: its decoded
// headers (but the Message-ID and Date, which are new for every message)
// and its decoded parts.
func readAsReader(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	dec := new(mime.WordDecoder)
	for _, k := range []string{"From", "To", "Reply-To", "Subject", "MIME-Version", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Archive"} {
		v, err := dec.DecodeHeader(msg.Header.Get(k))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	parts, err := smtptest.Parts(msg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		fmt.Fprintf(&b, "--- %s\n%s\n", p.Type, p.Body)
	}
	return b.String()
}

// checkWireLines: CRLF only; body lines within 76 characters, never
// ending in white space, never starting with a dot (nothing to stuff).
func checkWireLines(t *testing.T, raw []byte) {
	t.Helper()
	if bytes.Count(raw, []byte("\n")) != bytes.Count(raw, []byte("\r\n")) {
		t.Fatal("bare LF in the message")
	}
	_, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, l := range strings.Split(string(body), "\r\n") {
		if len(l) > 76 || strings.HasSuffix(l, " ") || strings.HasSuffix(l, "\t") || strings.HasPrefix(l, ".") {
			t.Fatalf("body line %q", l)
		}
	}
}
