package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/haiphong/hpdigest/internal/clock"
)

// Fetch errors, wrapped in FeedResult.Err (test with errors.Is).
var (
	ErrTooLarge         = errors.New("body larger than fetch.max_body_bytes")
	ErrTimeout          = errors.New("timed out")
	ErrTooManyRedirects = errors.New("too many redirects")
	ErrRateLimited      = errors.New("rate limited by the server")
	ErrHTTPStatus       = errors.New("unexpected HTTP status")
	ErrGone             = errors.New("feed is gone (HTTP 410): disabled at once")
)

// FeedResult is the outcome of fetching one feed.
type FeedResult struct {
	Name        string
	URL         string
	NewItems    []Item // stored for the first time in this fetch
	NotModified bool   // 304, or a body identical to the last one: nothing parsed
	Err         error  // nil on success; names the feed and the reason
	Disabled    bool   // this failure disabled the feed (fetch.max_errors reached)
	// BackingOff is set (to the time of its next try) when FetchHealthy
	// left the feed alone because it is backing off after errors.
	BackingOff time.Time
	// Joined is set when another fetch of the feed was already running:
	// this one waited for it to end instead of fetching the feed again, and
	// that fetch reported its new items.
	Joined bool
}

// Report is the outcome of one poll round.
type Report struct{ Feeds []FeedResult }

// Failed returns the results that ended in an error.
func (r Report) Failed() []FeedResult {
	var out []FeedResult
	for _, f := range r.Feeds {
		if f.Err != nil {
			out = append(out, f)
		}
	}
	return out
}

// NewItems returns every item stored for the first time in the round.
func (r Report) NewItems() []Item {
	var out []Item
	for _, f := range r.Feeds {
		out = append(out, f.NewItems...)
	}
	return out
}

// Poller fetches feeds with the project's own HTTP client.
type Poller struct {
	cfg   Config
	store *Store
	log   *slog.Logger
	// client fetches feeds from public addresses only; privateClient the
	// feeds marked allow_private (see newClient).
	client, privateClient *http.Client
	// treatAsPublic lets tests stand a loopback server in for a host on
	// the internet.
	treatAsPublic func(netip.AddrPort) bool
	global        chan struct{}
	mu            sync.Mutex
	hosts         map[string]chan struct{}
	now           func() time.Time
	// observe, if set, is told of every fetch (see Observe).
	observe func(FeedResult, time.Duration)
	clock   clock.Clock
	// fetching holds the feeds being fetched now, each with a channel
	// closed when its fetch ends: the schedule (Run) and the fetch before
	// a send (FetchHealthy) never fetch one feed at once.
	fetching map[string]chan struct{}
	// wake makes Run read the feeds table again at once (see Wake).
	wake chan struct{}
}

// NewPoller makes a poller; zero Config fields take defaults.
func NewPoller(cfg Config, st *Store, log *slog.Logger) *Poller {
	cfg = cfg.WithDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Poller{cfg: cfg, store: st, log: log,
		global: make(chan struct{}, cfg.Concurrency), hosts: map[string]chan struct{}{}, now: time.Now, clock: clock.Real,
		fetching: map[string]chan struct{}{}, wake: make(chan struct{}, 1)}
	p.client, p.privateClient = p.newClient(true), p.newClient(false)
	return p
}

// SetClock replaces the clock the poller schedules and waits by.
func (p *Poller) SetClock(c clock.Clock) {
	p.clock = clock.Or(c)
	p.now = p.clock.Now
}

// SetDialer replaces how the poller opens connections (an in-memory
// network in tests that simulate time); the address check goes with it.
func (p *Poller) SetDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) {
	p.client.Transport.(*http.Transport).DialContext = dial
	p.privateClient.Transport.(*http.Transport).DialContext = dial
}

// FetchAll fetches every enabled feed now (concurrently), stores new items and
// returns what happened to each, in the order of their next due time. One
// failing feed never stops the others. A feed whose server asked to wait
// (Retry-After) is not fetched before that time; its result carries
// ErrRateLimited.
func (p *Poller) FetchAll(ctx context.Context) Report { return p.fetchAll(ctx, false) }

// FetchHealthy is FetchAll for the fetch before a send: a feed backing off
// after errors is not fetched before its next try (its result has
// BackingOff set and no error), so sends do not hammer a failing portal.
func (p *Poller) FetchHealthy(ctx context.Context) Report { return p.fetchAll(ctx, true) }

func (p *Poller) fetchAll(ctx context.Context, respectBackoff bool) Report {
	feeds, err := p.store.feedsToFetch(ctx, time.Time{})
	if err != nil {
		return Report{Feeds: []FeedResult{{Name: "(all feeds)", Err: err}}}
	}
	out := make([]FeedResult, len(feeds))
	var wg sync.WaitGroup
	for i, f := range feeds {
		now := p.now()
		if f.RetryAfterAt.After(now) {
			out[i] = FeedResult{Name: f.Name, URL: f.URL, Err: fmt.Errorf("feed %q: %w: not fetched before %s",
				f.Name, ErrRateLimited, f.RetryAfterAt.Format(time.RFC3339))}
			continue
		}
		if respectBackoff && f.ErrorCount > 0 && f.NextFetchAt.After(now) {
			out[i] = FeedResult{Name: f.Name, URL: f.URL, BackingOff: f.NextFetchAt}
			p.log.Debug("feeds: backing off after errors; not fetched before the send", "feed", f.Name, "errors", f.ErrorCount, "next", f.NextFetchAt)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = p.fetchOne(ctx, f)
		}()
	}
	wg.Wait()
	return Report{Feeds: out}
}

// Run polls each feed on its own schedule until ctx is done, calling onNew
// (from Run's goroutine, one feed at a time) with the items each fetch
// stored for the first time. Feeds are fetched concurrently within the
// configured limits; a slow feed holds only its own slot.
func (p *Poller) Run(ctx context.Context, onNew func(context.Context, []Item)) {
	results := make(chan FeedResult)
	inFlight := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		now := p.now()
		due, err := p.store.feedsToFetch(ctx, now)
		if err != nil && ctx.Err() == nil {
			p.log.Error("feeds: read due feeds", "err", err)
		}
		for _, f := range due {
			if inFlight[f.Name] {
				continue
			}
			inFlight[f.Name] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := p.fetchOne(ctx, f)
				select {
				case results <- r:
				case <-ctx.Done():
				}
			}()
		}
		wait := time.Minute
		if all, err := p.store.feedsToFetch(ctx, time.Time{}); err == nil {
			for _, f := range all {
				if inFlight[f.Name] {
					continue
				}
				if d := maxTime(f.NextFetchAt, f.RetryAfterAt).Sub(p.now()); d < wait {
					wait = max(d, time.Second)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case r := <-results:
			delete(inFlight, r.Name)
			if len(r.NewItems) > 0 && onNew != nil && ctx.Err() == nil {
				onNew(ctx, r.NewItems)
			}
		case <-p.clock.After(wait):
		case <-p.wake:
		}
	}
}

// begin marks the feed as being fetched and returns the function that ends
// that. When the feed is being fetched already, it waits for that fetch to
// end (or ctx) and reports false.
func (p *Poller) begin(ctx context.Context, name string) (end func(), ok bool) {
	p.mu.Lock()
	if running, busy := p.fetching[name]; busy {
		p.mu.Unlock()
		select {
		case <-running:
		case <-ctx.Done():
		}
		return nil, false
	}
	done := make(chan struct{})
	p.fetching[name] = done
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		delete(p.fetching, name)
		p.mu.Unlock()
		close(done)
	}, true
}

// Wake makes Run look at the feeds at once instead of at its next due
// time: after SyncSources added a feed (due now) or changed one.
func (p *Poller) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// fetchState is what a successful fetch leaves for the next conditional GET.
type fetchState struct {
	ETag, LastModified, BodyHash string
	TTL                          time.Duration
}

type response struct {
	status      int
	body        []byte
	contentType string
	etag, lm    string
	maxAge      time.Duration
	retryAfter  time.Duration
}

// fetchOne fetches, parses and stores one feed and records its health.
func (p *Poller) fetchOne(ctx context.Context, f feedRow) (res FeedResult) {
	res = FeedResult{Name: f.Name, URL: f.URL}
	end, ok := p.begin(ctx, f.Name)
	if !ok {
		res.Joined = true
		return res
	}
	defer end()
	began := time.Now()
	defer func() { p.observed(res, time.Since(began)) }()
	defer func() {
		if r := recover(); r != nil {
			res.Err = fmt.Errorf("feed %q: internal error: %v", f.Name, r)
			p.log.Error("feeds: panic while fetching", "feed", f.Name, "panic", r)
		}
	}()
	release := p.acquire(ctx, f.URL)
	if release == nil {
		res.Err = fmt.Errorf("feed %q: %w", f.Name, ctx.Err())
		return res
	}
	defer release()

	start := p.now()
	resp, err := p.get(ctx, f)
	now := p.now()
	if err == nil && resp.status == http.StatusNotModified {
		res.NotModified = true
		err = p.store.recordUnchanged(ctx, f, now, p.nextPoll(f, resp.maxAge, now), resp.maxAge)
		res.Err = wrapFeed(f, err)
		p.logResult(f, res, err, now.Sub(start))
		return res
	}
	var hash string
	var items []Item
	var ttl time.Duration
	if err == nil {
		sum := sha256.Sum256(resp.body)
		hash = hex.EncodeToString(sum[:16])
		if hash == f.BodyHash {
			res.NotModified = true
			err = p.store.recordUnchanged(ctx, f, now, p.nextPoll(f, resp.maxAge, now), resp.maxAge)
			res.Err = wrapFeed(f, err)
			p.logResult(f, res, err, now.Sub(start))
			return res
		}
		var pf parsed
		pf, err = parseFeed(resp.body, resp.contentType, f.URL, f.Lang, loadLoc(f.Timezone), now)
		items, ttl = pf.Items, max(pf.TTL, resp.maxAge)
	}
	if err != nil {
		if ctx.Err() != nil { // shutting down: not the feed's fault
			res.Err = fmt.Errorf("feed %q: %w", f.Name, ctx.Err())
			return res
		}
		var retryAt time.Time
		next := now.Add(p.backoff(f, f.ErrorCount+1))
		if errors.Is(err, ErrRateLimited) {
			ra := resp.retryAfter
			if ra <= 0 {
				ra = p.interval(f)
			}
			retryAt = now.Add(min(ra, maxRetryAfter))
			next = maxTime(next, retryAt)
		}
		gone := errors.Is(err, ErrGone)
		disabled, serr := p.store.recordFailure(ctx, f, now, next, retryAt, err.Error(), gone, p.cfg.MaxErrors)
		res.Err = fmt.Errorf("feed %q (%s): %w", f.Name, f.URL, err)
		res.Disabled = disabled
		if serr != nil {
			res.Err = errors.Join(res.Err, serr)
		}
		p.logResult(f, res, errors.Join(err, serr), now.Sub(start))
		return res
	}
	fs := fetchState{ETag: resp.etag, LastModified: resp.lm, BodyHash: hash, TTL: min(ttl, maxTTLFloor)}
	f.TTL = fs.TTL
	res.NewItems, err = p.store.ingest(ctx, f, items, fs, now, p.nextPoll(f, 0, now))
	res.Err = wrapFeed(f, err)
	p.logResult(f, res, err, now.Sub(start))
	return res
}

func wrapFeed(f feedRow, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("feed %q: %w", f.Name, err)
}

// logResult logs a fetch; cause is the failure without the feed's name
// and URL, which the line carries once as attributes.
func (p *Poller) logResult(f feedRow, r FeedResult, cause error, took time.Duration) {
	switch {
	case r.Err != nil:
		p.log.Warn("feeds: fetch failed", "feed", f.Name, "url", f.URL, "err", cause, "disabled", r.Disabled)
	case r.NotModified:
		p.log.Debug("feeds: not modified", "feed", f.Name, "took", took)
	default:
		p.log.Info("feeds: fetched", "feed", f.Name, "new", len(r.NewItems), "took", took)
	}
}

// acquire takes a slot for the URL's host and a global slot; nil if ctx ended.
func (p *Poller) acquire(ctx context.Context, rawURL string) func() {
	host := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		host = strings.ToLower(u.Host)
	}
	p.mu.Lock()
	hs, ok := p.hosts[host]
	if !ok {
		hs = make(chan struct{}, p.cfg.PerHost)
		p.hosts[host] = hs
	}
	p.mu.Unlock()
	select {
	case hs <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	select {
	case p.global <- struct{}{}:
	case <-ctx.Done():
		<-hs
		return nil
	}
	return func() { <-p.global; <-hs }
}

// get performs the conditional GET. Non-2xx/304 answers are errors.
func (p *Poller) get(ctx context.Context, f feedRow) (response, error) {
	var r response
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return r, fmt.Errorf("bad URL: %v", err)
	}
	req.Header.Set("User-Agent", p.cfg.UserAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
	if f.ETag != "" {
		req.Header.Set("If-None-Match", f.ETag)
	}
	if f.LastModified != "" {
		req.Header.Set("If-Modified-Since", f.LastModified)
	}
	resp, err := p.clientFor(f).Do(req)
	if err != nil {
		return r, p.transportError(err)
	}
	defer resp.Body.Close()
	if final := resp.Request.URL.String(); final != f.URL {
		p.log.Info("feeds: feed is redirected; consider updating its url in the config", "feed", f.Name, "url", f.URL, "final_url", final)
	}
	r.status = resp.StatusCode
	r.maxAge = maxAge(resp.Header.Get("Cache-Control"))
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return r, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		r.retryAfter = retryAfter(resp.Header.Get("Retry-After"), p.now())
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		if r.retryAfter > 0 {
			return r, fmt.Errorf("%w: HTTP %s, Retry-After %v", ErrRateLimited, resp.Status, r.retryAfter)
		}
		return r, fmt.Errorf("%w: HTTP %s", ErrRateLimited, resp.Status)
	case resp.StatusCode == http.StatusGone:
		return r, fmt.Errorf("%w: HTTP %s", ErrGone, resp.Status)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode == http.StatusForbidden && isHTMLPage(head) {
			return r, fmt.Errorf("%w: HTTP %s with an HTML page (blocked: a bot challenge or access denied)", ErrHTTPStatus, resp.Status)
		}
		return r, fmt.Errorf("%w: HTTP %s", ErrHTTPStatus, resp.Status)
	}
	r.body, err = readLimited(resp.Body, p.cfg.MaxBodyBytes)
	if err != nil {
		return r, p.transportError(err)
	}
	// Servers that gzip twice, or send gzip without saying so.
	if len(r.body) > 2 && r.body[0] == 0x1f && r.body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		if err != nil {
			return r, fmt.Errorf("gzip body: %v", err)
		}
		if r.body, err = readLimited(zr, p.cfg.MaxBodyBytes); err != nil {
			return r, p.transportError(err)
		}
	}
	r.contentType = resp.Header.Get("Content-Type")
	r.etag = resp.Header.Get("ETag")
	r.lm = resp.Header.Get("Last-Modified")
	return r, nil
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)
	}
	return b, nil
}

func (p *Poller) transportError(err error) error {
	if errors.Is(err, ErrTooManyRedirects) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrInsecureRedirect) {
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err
		}
		return err
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%w after %v", ErrTimeout, p.cfg.Timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// maxAge reads Cache-Control max-age (0 if absent or no-cache).
func maxAge(cc string) time.Duration {
	for _, part := range strings.Split(cc, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(strings.ToLower(part)), "=")
		if k == "max-age" {
			if n, err := strconv.Atoi(strings.Trim(v, `"`)); err == nil && n > 0 {
				return min(time.Duration(n)*time.Second, maxTTLFloor)
			}
		}
	}
	return 0
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return min(time.Duration(n)*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

func (p *Poller) interval(f feedRow) time.Duration {
	if f.Interval > 0 {
		return f.Interval
	}
	return p.cfg.DefaultInterval
}

// nextPoll schedules the next fetch after a success: the feed's interval
// with ±10% jitter so feeds spread over time, never sooner than the feed's
// TTL / Cache-Control max-age (floors, capped at a day). After a feed's very
// first fetch the jitter is ±50%: feeds configured together (all fetched at
// start-up) then spread over the whole interval.
func (p *Poller) nextPoll(f feedRow, maxAge time.Duration, now time.Time) time.Time {
	frac := 0.1
	if f.LastFetchAt.IsZero() {
		frac = 0.5
	}
	d := max(jitter(p.interval(f), frac), minInterval)
	if floor := min(max(f.TTL, maxAge), maxTTLFloor); d < floor {
		d = floor + time.Duration(rand.Int64N(int64(floor/10)+1))
	}
	return now.Add(d)
}

// backoff is the wait after the n-th consecutive failure: the interval
// doubled per failure, capped at fetch.max_backoff, with ±20% jitter.
func (p *Poller) backoff(f feedRow, n int) time.Duration {
	d := p.interval(f)
	for i := 1; i < n && d < p.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return jitter(min(d, p.cfg.MaxBackoff), 0.2)
}

func jitter(d time.Duration, frac float64) time.Duration {
	return time.Duration(float64(d) * (1 - frac + 2*frac*rand.Float64()))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

var locCache sync.Map

func loadLoc(name string) *time.Location {
	if name == "" {
		name = DefaultTimezone
	}
	if l, ok := locCache.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = defaultLoc()
	}
	locCache.Store(name, l)
	return l
}
