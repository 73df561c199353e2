package app_test

// A harness for running the daemon for weeks of simulated time: the test
// body runs inside a testing/synctest bubble, whose clock advances only
// when every goroutine of the bubble waits (on the daemon's clock, a
// channel, a timer). The parts are real: the daemon (app.Run) with its
// SQLite file, feeds served by an httptest server over an in-memory
// network (so that a fetch can time out in simulated time), the reader
// pages of web/public, and the in-process SMTP server of internal/smtptest
// (outside the bubble, over loopback TCP).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/internal/clock"
	"github.com/haiphong/hpdigest/internal/memnet"
	"github.com/haiphong/hpdigest/internal/smtptest"
	"github.com/haiphong/hpdigest/templates"
	"github.com/haiphong/hpdigest/web/public"
)

// ---- feeds ----

// simItem is one item of a simulated feed.
type simItem struct {
	guid, title, summary, link string
	published                  time.Time
}

// simRequest is one request a feed answered.
type simRequest struct {
	at     time.Time // simulated time of arrival
	status int       // 200, 304, 500; 0 when it was left to time out
}

type simFeed struct {
	name, path string
	items      []simItem // newest first, as portals list them
	fail       string    // "", "500" or "timeout"
	requests   []simRequest
}

// portal serves the simulated feeds and knows which story every link it
// ever published belongs to.
type portal struct {
	mu      sync.Mutex
	feeds   map[string]*simFeed // by path
	stories map[string]int      // link → story
	titles  map[int]string      // story → its first title
	next    int
}

func newPortal(names ...string) *portal {
	p := &portal{feeds: map[string]*simFeed{}, stories: map[string]int{}, titles: map[int]string{}}
	for _, n := range names {
		p.feeds["/"+n+".rss"] = &simFeed{name: n, path: "/" + n + ".rss"}
	}
	return p
}

func (p *portal) feed(name string) *simFeed { return p.feeds["/"+name+".rss"] }

// publish puts a new story on top of the feed and returns its id.
func (p *portal) publish(feed, title, summary string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	id := p.next
	title = fmt.Sprintf("%s (tin %d)", title, id)
	summary = fmt.Sprintf("%s Mã tin %d.", summary, id)
	link := fmt.Sprintf("https://%s.example.vn/tin-tuc/%s-%d.html", feed, slug(title), id)
	p.stories[link] = id
	p.titles[id] = title
	f := p.feed(feed)
	f.items = append([]simItem{{guid: fmt.Sprintf("%s-%d", feed, id), title: title, summary: summary, link: link, published: time.Now()}}, f.items...)
	if len(f.items) > 40 {
		f.items = f.items[:40]
	}
	return id
}

// publishVersion puts another version of a story (its edition in another
// language) on top of a feed, under its own GUID and link, with the
// story's marks ("(tin N)", "Mã tin N.") as publish adds them; it returns
// the link.
func (p *portal) publishVersion(feed string, story int, title, summary string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	title = fmt.Sprintf("%s (tin %d)", title, story)
	summary = fmt.Sprintf("%s Mã tin %d.", summary, story)
	link := fmt.Sprintf("https://%s.example.vn/tin-tuc/%s-%d.html", feed, slug(title), story)
	p.stories[link] = story
	f := p.feed(feed)
	f.items = append([]simItem{{guid: fmt.Sprintf("%s-version-%d", feed, story), title: title, summary: summary, link: link, published: time.Now()}}, f.items...)
	return link
}

// current returns the current version of a story's first item in a feed.
func (p *portal) current(feed string, story int) (simItem, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.item(feed, story)
}

// item is current for a caller holding p.mu.
func (p *portal) item(feed string, story int) (simItem, bool) {
	for _, it := range p.feed(feed).items {
		if p.stories[it.link] == story {
			return it, true
		}
	}
	return simItem{}, false
}

// editTitle changes a story's title in place (same GUID and link).
func (p *portal) editTitle(feed string, story int, edit func(string) string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.feed(feed)
	for i, it := range f.items {
		if p.stories[it.link] == story {
			f.items[i].title = edit(it.title)
			return true
		}
	}
	return false
}

// republish puts a copy of a story on top under a new GUID and link, with
// the title changed by edit (nil: unchanged).
func (p *portal) republish(feed string, story int, edit func(string) string, summaryEdit func(string) string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	orig, ok := p.item(feed, story)
	if !ok {
		return false
	}
	p.next++
	cp := orig
	cp.guid = fmt.Sprintf("%s-copy-%d", feed, p.next)
	cp.link = strings.TrimSuffix(orig.link, ".html") + fmt.Sprintf("-v%d.html", p.next)
	cp.published = time.Now()
	if edit != nil {
		cp.title = edit(cp.title)
	}
	if summaryEdit != nil {
		cp.summary = summaryEdit(cp.summary)
	}
	p.stories[cp.link] = story
	f := p.feed(feed)
	f.items = append([]simItem{cp}, f.items...)
	return true
}

// editAfterCopy edits a story's title in place and lists a copy of its
// previous version above it, under a new GUID and link.
func (p *portal) editAfterCopy(feed string, story int, edit func(string) string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.feed(feed)
	for i, it := range f.items {
		if p.stories[it.link] != story {
			continue
		}
		p.next++
		cp := it
		cp.guid = fmt.Sprintf("%s-old-%d", feed, p.next)
		cp.link = strings.TrimSuffix(it.link, ".html") + fmt.Sprintf("-old%d.html", p.next)
		cp.published = time.Now()
		p.stories[cp.link] = story
		f.items[i].title = edit(it.title)
		f.items = append([]simItem{cp}, f.items...)
		return true
	}
	return false
}

func (p *portal) setFail(feed, mode string) {
	p.mu.Lock()
	p.feed(feed).fail = mode
	p.mu.Unlock()
}

func (p *portal) requests(feed string) []simRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]simRequest(nil), p.feed(feed).requests...)
}

// storyOf maps a link of a mail back to its story (0 when unknown).
func (p *portal) storyOf(link string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stories[link]
}

func (p *portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	f, ok := p.feeds[r.URL.Path]
	if !ok {
		p.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>https://%s.example.vn/</link>`, f.name, f.name)
	for _, it := range f.items {
		fmt.Fprintf(&b, `<item><title>%s</title><link>%s</link><guid isPermaLink="false">%s</guid><pubDate>%s</pubDate><description>%s</description></item>`,
			html.EscapeString(it.title), it.link, it.guid, it.published.Format(time.RFC1123Z), html.EscapeString(it.summary))
	}
	b.WriteString(`</channel></rss>`)
	sum := sha256.Sum256([]byte(b.String()))
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	mode := f.fail
	req := simRequest{at: time.Now()}
	switch {
	case mode == "500":
		req.status = 500
	case mode == "timeout":
	case r.Header.Get("If-None-Match") == etag:
		req.status = 304
	default:
		req.status = 200
	}
	f.requests = append(f.requests, req)
	p.mu.Unlock()

	switch req.status {
	case 0: // never answers: the fetch times out
		select {
		case <-r.Context().Done():
		case <-time.After(time.Hour):
		}
	case 500:
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
	case 304:
		w.WriteHeader(http.StatusNotModified)
	default:
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Header().Set("ETag", etag)
		io.WriteString(w, b.String())
	}
}

var notWord = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(notWord.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// ---- mail ----

// mailRecord is what the test keeps of one accepted message.
type mailRecord struct {
	seq        int
	to         string
	issueID    int64 // 0 for a transactional message
	subscriber int64
	subject    string
	stories    []int
	links      []string // the story links of the text part, in order
	also       []string // of those, the links to a story's version in the other language
	unsubURL   string   // the https one-click URL of List-Unsubscribe
	confirmURL string   // of a confirmation mail
}

// mailbox records every message the SMTP server accepts, keeping only
// what the assertions need (a soak sends thousands).
type mailbox struct {
	mu      sync.Mutex
	records []mailRecord
	bad     []string
	storyOf func(link string) int
}

var (
	msgIDRe   = regexp.MustCompile(`<hpd\.(\d+)\.(\d+)\.`)
	linkRe    = regexp.MustCompile(`https?://[^\s<>()\]"]+`)
	confirmRe = regexp.MustCompile(`https?://[^\s<>"]+/confirm/[A-Za-z0-9._~-]+`)
	alsoRe    = regexp.MustCompile(`^\s*(Also in English|Bản tiếng Việt): `)
)

// keep is the SMTP server's Keep hook: it runs outside the bubble.
func (mb *mailbox) keep(m smtptest.Message) bool {
	r := mailRecord{}
	if len(m.To) > 0 {
		r.to = strings.ToLower(m.To[0])
	}
	msg, err := m.Parsed()
	if err != nil {
		mb.fail("unparsable message to %s: %v", r.to, err)
		return false
	}
	dec := new(mime.WordDecoder)
	r.subject, _ = dec.DecodeHeader(msg.Header.Get("Subject"))
	if g := msgIDRe.FindStringSubmatch(msg.Header.Get("Message-ID")); g != nil {
		r.issueID, _ = strconv.ParseInt(g[1], 10, 64)
		r.subscriber, _ = strconv.ParseInt(g[2], 10, 64)
	}
	for _, part := range strings.Split(msg.Header.Get("List-Unsubscribe"), ",") {
		part = strings.Trim(strings.TrimSpace(part), "<>")
		if strings.HasPrefix(part, "https://") {
			r.unsubURL = part
		}
	}
	text := ""
	if parts, err := smtptest.Parts(msg); err == nil {
		for _, p := range parts {
			if p.Type == "text/plain" {
				text = p.Body
			}
		}
	} else {
		body, _ := io.ReadAll(msg.Body)
		text = string(body)
	}
	if r.issueID != 0 {
		seen := map[int]bool{}
		for _, line := range strings.Split(text, "\n") {
			for _, l := range linkRe.FindAllString(line, -1) {
				l = strings.TrimRight(l, ".,;")
				id := mb.storyOf(l)
				if id == 0 {
					continue
				}
				r.links = append(r.links, l)
				if alsoRe.MatchString(line) {
					r.also = append(r.also, l)
				}
				if !seen[id] {
					seen[id] = true
					r.stories = append(r.stories, id)
				}
			}
		}
	} else {
		r.confirmURL = confirmRe.FindString(text)
	}
	mb.mu.Lock()
	r.seq = len(mb.records) + 1
	mb.records = append(mb.records, r)
	mb.mu.Unlock()
	return false
}

func (mb *mailbox) fail(format string, args ...any) {
	mb.mu.Lock()
	mb.bad = append(mb.bad, fmt.Sprintf(format, args...))
	mb.mu.Unlock()
}

func (mb *mailbox) all() []mailRecord {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]mailRecord(nil), mb.records...)
}

func (mb *mailbox) count() int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return len(mb.records)
}

// ---- logs ----

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ---- the daemon ----

// sim is one simulated installation: a database file, feeds, readers'
// mailboxes, and the daemon (started, stopped, crashed) on top.
type sim struct {
	t      *testing.T
	dir    string
	dbPath string
	smtp   *smtptest.Server
	mail   *mailbox
	portal *portal
	feedLn *memnet.Listener
	feeds  *httptest.Server
	logs   *syncBuffer
	tomlOf func(sim *sim) string
	clock  clock.Clock // the daemon's; nil: the system's (simulated inside the bubble)

	app    *app.App
	pub    http.Handler
	cancel context.CancelFunc
	done   chan error
}

// newSim must run inside the bubble (if there is one); smtp and dir come
// from outside it.
func newSim(t *testing.T, dir string, smtp *smtptest.Server, mail *mailbox, p *portal, toml func(*sim) string) *sim {
	s := &sim{t: t, dir: dir, dbPath: filepath.Join(dir, "hp.db"), smtp: smtp, mail: mail, portal: p, logs: &syncBuffer{}, tomlOf: toml}
	s.feedLn = memnet.Listen("feeds.test:80")
	s.feeds = httptest.NewUnstartedServer(p)
	s.feeds.Listener.Close()
	s.feeds.Listener = s.feedLn
	s.feeds.Start()
	return s
}

// start runs the daemon with the config toml(s) gives now.
func (s *sim) start() {
	s.t.Helper()
	cfg, err := config.Parse("soak.toml", []byte(s.tomlOf(s)))
	if err != nil {
		s.t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.Options{Log: log, Clock: s.clock})
	if err != nil {
		s.t.Fatal(err)
	}
	a.Poller.SetDialer(s.feedLn.Dial)
	tfs, err := templates.FS("")
	if err != nil {
		s.t.Fatal(err)
	}
	pub, err := public.New(public.Deps{
		Store: a.Subscribers, Tokens: a.Tokens, Mailer: a.Engine, Templates: tfs,
		BaseURL: cfg.HTTP.BaseURL, Themes: public.ThemesFrom(cfg.Themes),
		From: public.Sender{Name: cfg.Sender.Name, Address: cfg.Sender.Address, MessageIDDomain: cfg.Sender.Domain()},
		Log:  log,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	mux := http.NewServeMux()
	pub.Register(mux)
	s.app, s.pub, s.cancel, s.done = a, mux, cancel, make(chan error, 1)
	go func() { s.done <- a.Run(ctx) }()
}

// stop is SIGTERM: the daemon drains and returns.
func (s *sim) stop() {
	s.t.Helper()
	s.cancel()
	if err := <-s.done; err != nil {
		s.t.Errorf("daemon: %v", err)
	}
	s.app.Close()
	s.app = nil
}

// crash is kill -9: the database keeps what was committed at this instant
// and the process does nothing more. The caller waits first
// (synctest.Wait) so that no message is on the wire. The daemon's later
// writes go to a file nobody opens again.
func (s *sim) crash() {
	s.t.Helper()
	snap := filepath.Join(s.dir, fmt.Sprintf("crash-%d.db", time.Now().Unix()))
	if _, err := s.app.DB.Exec(`VACUUM INTO ?`, snap); err != nil {
		s.t.Fatal(err)
	}
	os.Chmod(snap, 0o600) // the mode of the database it stands for
	s.cancel()
	<-s.done
	s.app.Close()
	s.app = nil
	s.dbPath = snap
}

func (s *sim) close() {
	if s.app != nil {
		s.stop()
	}
	s.feeds.Close()
}

// post sends a form to the reader pages, as from the reader's own address.
func (s *sim) post(client int, path string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", client/65536%256, client/256%256, client%256)
	w := httptest.NewRecorder()
	s.pub.ServeHTTP(w, req)
	return w
}

// pathOf strips the configured base URL from a link of a mail.
func pathOf(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	return u.Path
}

// sleepUntil moves simulated time to t.
func sleepUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
}
