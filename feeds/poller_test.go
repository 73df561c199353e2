package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func rssItems(prefix string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `<item><guid>%s-%d</guid><title>Tin %s số %d</title><link>https://portal.example.vn/%s/%d.html</link><pubDate>Wed, 26 Jul 2017 19:41:%02d +0700</pubDate><description>Nội dung %d</description></item>`, prefix, i, prefix, i, prefix, i, i%60, i)
	}
	return rss(b.String())
}

func sync1(t *testing.T, st *Store, srcs ...Source) {
	t.Helper()
	for i := range srcs {
		if srcs[i].Language == "" {
			srcs[i].Language = "vi"
		}
		srcs[i].AllowPrivate = true // the test servers are on loopback
	}
	if err := st.SyncSources(context.Background(), srcs); err != nil {
		t.Fatal(err)
	}
}

func byName(r Report) map[string]FeedResult {
	m := map[string]FeedResult{}
	for _, f := range r.Feeds {
		m[f.Name] = f
	}
	return m
}

func healthOf(t *testing.T, st *Store, name string) FeedHealth {
	t.Helper()
	hs, err := st.Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("no health for %q", name)
	return FeedHealth{}
}

// Every kind of failure gives a clear error naming the feed, and the good
// feed in the same round is still stored.
func TestFailuresAreIsolated(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	const limit = 64 << 10
	mux := http.NewServeMux()
	mux.HandleFunc("/good", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, rssItems("good", 3)) })
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!DOCTYPE html><html><body>Please enable cookies</body></html>")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, rssItems("huge", 2000))
	})
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		// small on the wire, far over the limit once decompressed
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>`))
		zw.Write(bytes.Repeat([]byte("a"), 4*limit))
		zw.Close()
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	mux.HandleFunc("/404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/403", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "<!DOCTYPE html><html><title>Attention Required!</title></html>")
	})
	mux.HandleFunc("/malformed", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a</ti`)
	})
	mux.HandleFunc("/garbage", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "this is not xml at all") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	st := newTestStore(t)
	names := []string{"good", "html", "slow", "huge", "bomb", "loop", "500", "404", "403", "malformed", "garbage"}
	var srcs []Source
	for _, n := range names {
		srcs = append(srcs, Source{Name: "feed-" + n, URL: srv.URL + "/" + n})
	}
	sync1(t, st, srcs...)
	p := NewPoller(Config{Timeout: time.Second, MaxBodyBytes: limit, PerHost: 16, Concurrency: 16}, st, nil)
	got := byName(p.FetchAll(context.Background()))

	if g := got["feed-good"]; g.Err != nil || len(g.NewItems) != 3 {
		t.Fatalf("good feed: err %v, %d new items; want 3 items", g.Err, len(g.NewItems))
	}
	want := map[string]error{
		"html": ErrNotAFeed, "slow": ErrTimeout, "huge": ErrTooLarge, "bomb": ErrTooLarge,
		"loop": ErrTooManyRedirects, "500": ErrHTTPStatus, "404": ErrHTTPStatus, "403": ErrHTTPStatus, "malformed": nil, "garbage": nil,
	}
	for n, sentinel := range want {
		r := got["feed-"+n]
		if r.Err == nil {
			t.Errorf("feed-%s: no error", n)
			continue
		}
		if !strings.Contains(r.Err.Error(), `"feed-`+n+`"`) {
			t.Errorf("feed-%s: error %q does not name the feed", n, r.Err)
		}
		if sentinel != nil && !errors.Is(r.Err, sentinel) {
			t.Errorf("feed-%s: error %q, want %v", n, r.Err, sentinel)
		}
		if h := healthOf(t, st, "feed-"+n); h.ErrorCount != 1 || h.LastError == "" {
			t.Errorf("feed-%s: health %+v, want one error recorded", n, h)
		}
		t.Logf("feed-%s: %v", n, r.Err)
	}
	if r := got["feed-500"]; !strings.Contains(r.Err.Error(), "500") {
		t.Errorf("500: error %q should carry the status", r.Err)
	}
	if r := got["feed-403"]; !strings.Contains(r.Err.Error(), "blocked") {
		t.Errorf("403 with an HTML page: error %q should say blocked", r.Err)
	}
	if r := got["feed-malformed"]; !strings.Contains(r.Err.Error(), "parse") {
		t.Errorf("malformed: error %q should say it is a parse error", r.Err)
	}
	if h := healthOf(t, st, "feed-good"); h.ItemCount != 3 || h.ErrorCount != 0 || h.LastSuccessAt.IsZero() {
		t.Errorf("good feed health %+v", h)
	}
}

func TestConditionalGET(t *testing.T) {
	var hits, notModified atomic.Int32
	var mu sync.Mutex
	body := rssItems("a", 2)
	var gotUA, gotAE string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mu.Lock()
		gotUA, gotAE = r.Header.Get("User-Agent"), r.Header.Get("Accept-Encoding")
		b := body
		mu.Unlock()
		etag := fmt.Sprintf(`"v%d"`, len(b))
		if r.Header.Get("If-None-Match") == etag && r.Header.Get("If-Modified-Since") == "Wed, 26 Jul 2017 12:41:14 GMT" {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Wed, 26 Jul 2017 12:41:14 GMT")
		w.Header().Set("Content-Type", "application/rss+xml")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write([]byte(b))
			zw.Close()
			return
		}
		fmt.Fprint(w, b)
	}))
	defer srv.Close()
	st := newTestStore(t)
	sync1(t, st, Source{Name: "a", URL: srv.URL})
	p := NewPoller(Config{}, st, nil)
	ctx := context.Background()

	r1 := p.FetchAll(ctx).Feeds[0]
	if r1.Err != nil || len(r1.NewItems) != 2 || r1.NotModified {
		t.Fatalf("first fetch: %+v", r1)
	}
	if !strings.HasPrefix(gotUA, "hpdigest/") || !strings.Contains(gotAE, "gzip") {
		t.Errorf("request headers: User-Agent %q, Accept-Encoding %q", gotUA, gotAE)
	}
	r2 := p.FetchAll(ctx).Feeds[0]
	if r2.Err != nil || !r2.NotModified || len(r2.NewItems) != 0 || notModified.Load() != 1 {
		t.Fatalf("second fetch: %+v (304s sent: %d), want a 304", r2, notModified.Load())
	}
	if h := healthOf(t, st, "a"); h.ItemCount != 2 || h.ErrorCount != 0 {
		t.Errorf("after 304: %+v", h)
	}
	// New content: only the new item is new.
	mu.Lock()
	body = rssItems("a", 3)
	mu.Unlock()
	r3 := p.FetchAll(ctx).Feeds[0]
	if r3.Err != nil || len(r3.NewItems) != 1 || r3.NewItems[0].GUID != "a-2" {
		t.Fatalf("third fetch: %+v, want exactly item a-2 new", r3)
	}
	it := r3.NewItems[0]
	if it.ID == 0 || it.FeedName != "a" || it.StoryID != it.ID || it.Language != "vi" || it.FirstSeenAt.IsZero() {
		t.Errorf("new item not filled in: %+v", it)
	}
}

func TestUnchangedBodyWithoutValidatorsIsNotParsedAgain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, rssItems("u", 2)) }))
	defer srv.Close()
	st := newTestStore(t)
	sync1(t, st, Source{Name: "u", URL: srv.URL})
	p := NewPoller(Config{}, st, nil)
	p.FetchAll(context.Background())
	r := p.FetchAll(context.Background()).Feeds[0]
	if r.Err != nil || !r.NotModified || len(r.NewItems) != 0 {
		t.Fatalf("same body again: %+v, want NotModified", r)
	}
}

func TestRetryAfter(t *testing.T) {
	var hits429, hits503 atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/429", func(w http.ResponseWriter, r *http.Request) {
		hits429.Add(1)
		w.Header().Set("Retry-After", "7200")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	mux.HandleFunc("/503", func(w http.ResponseWriter, r *http.Request) {
		hits503.Add(1)
		w.Header().Set("Retry-After", time.Now().Add(3*time.Hour).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	st := newTestStore(t)
	sync1(t, st, Source{Name: "r429", URL: srv.URL + "/429"}, Source{Name: "r503", URL: srv.URL + "/503"})
	p := NewPoller(Config{DefaultInterval: 5 * time.Minute}, st, nil)
	before := time.Now()
	got := byName(p.FetchAll(context.Background()))
	for name, wait := range map[string]time.Duration{"r429": 2 * time.Hour, "r503": 3 * time.Hour} {
		if !errors.Is(got[name].Err, ErrRateLimited) {
			t.Errorf("%s: err %v, want ErrRateLimited", name, got[name].Err)
		}
		if h := healthOf(t, st, name); h.NextFetchAt.Before(before.Add(wait - time.Minute)) {
			t.Errorf("%s: next fetch %v, want not before Retry-After (%v from %v)", name, h.NextFetchAt, wait, before)
		}
	}
	// A second round does not knock before the server's time.
	got = byName(p.FetchAll(context.Background()))
	if hits429.Load() != 1 || hits503.Load() != 1 {
		t.Errorf("server hit again before Retry-After: 429 %d times, 503 %d times", hits429.Load(), hits503.Load())
	}
	if !errors.Is(got["r429"].Err, ErrRateLimited) {
		t.Errorf("skipped feed should report ErrRateLimited, got %v", got["r429"].Err)
	}
	if due, _ := st.feedsToFetch(context.Background(), time.Now()); len(due) != 0 {
		t.Errorf("feeds due while waiting for Retry-After: %v", due)
	}
}

func TestBackoffDisableReenable(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, rssItems("b", 1))
	}))
	defer srv.Close()
	st := newTestStore(t)
	sync1(t, st, Source{Name: "b", URL: srv.URL, Interval: 10 * time.Minute})
	p := NewPoller(Config{MaxErrors: 3, MaxBackoff: 30 * time.Minute}, st, nil)
	ctx := context.Background()
	for i, base := range []time.Duration{10 * time.Minute, 20 * time.Minute} {
		before := time.Now()
		p.FetchAll(ctx)
		after := time.Now()
		h := healthOf(t, st, "b")
		lo, hi := before.Add(time.Duration(float64(base)*0.8)-time.Second), after.Add(time.Duration(float64(base)*1.2)+time.Second)
		if h.ErrorCount != i+1 || !h.Enabled || h.NextFetchAt.Before(lo) || h.NextFetchAt.After(hi) {
			t.Fatalf("after failure %d: errors %d enabled %v next %v, want next in [%v, %v]", i+1, h.ErrorCount, h.Enabled, h.NextFetchAt, lo, hi)
		}
	}
	r := p.FetchAll(ctx).Feeds[0]
	if !r.Disabled {
		t.Errorf("third failure should disable the feed: %+v", r)
	}
	h := healthOf(t, st, "b")
	if h.Enabled || !strings.Contains(h.DisabledReason, "3 consecutive errors") || !strings.Contains(h.DisabledReason, "500") {
		t.Fatalf("after 3 failures: %+v", h)
	}
	if rep := p.FetchAll(ctx); len(rep.Feeds) != 0 || hits.Load() != 3 {
		t.Fatalf("disabled feed fetched again: %+v, hits %d", rep, hits.Load())
	}
	var buf bytes.Buffer
	if err := WriteHealth(&buf, []FeedHealth{h}, nil); err != nil || !strings.Contains(buf.String(), "disabled") || !strings.Contains(buf.String(), "consecutive errors") {
		t.Errorf("WriteHealth: %v\n%s", err, buf.String())
	}
	if err := st.Reenable(ctx, "nope"); !errors.Is(err, ErrUnknownFeed) {
		t.Errorf("Reenable unknown: %v", err)
	}
	if err := st.Reenable(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if h := healthOf(t, st, "b"); !h.Enabled || h.ErrorCount != 0 || h.DisabledReason != "" || h.LastError != "" {
		t.Fatalf("after Reenable: %+v", h)
	}
	fail.Store(false)
	if r := p.FetchAll(ctx).Feeds[0]; r.Err != nil || len(r.NewItems) != 1 {
		t.Fatalf("after Reenable and recovery: %+v", r)
	}
}

func TestBackoffIsCapped(t *testing.T) {
	p := NewPoller(Config{MaxBackoff: time.Hour}, nil, nil)
	f := feedRow{Interval: 30 * time.Minute}
	for n := 1; n < 70; n++ {
		if d := p.backoff(f, n); d > time.Hour*12/10 || d <= 0 {
			t.Fatalf("backoff(%d) = %v, want at most the cap plus jitter", n, d)
		}
	}
}

func TestTTLAndMaxAgeAreFloors(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ttl", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Replace(rssItems("t", 1), "<channel>", "<channel><ttl>180</ttl>", 1))
	})
	mux.HandleFunc("/maxage", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=7200")
		fmt.Fprint(w, rssItems("m", 1))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	st := newTestStore(t)
	sync1(t, st, Source{Name: "ttl", URL: srv.URL + "/ttl", Interval: 30 * time.Minute},
		Source{Name: "maxage", URL: srv.URL + "/maxage", Interval: 30 * time.Minute})
	p := NewPoller(Config{}, st, nil)
	before := time.Now()
	p.FetchAll(context.Background())
	for name, floor := range map[string]time.Duration{"ttl": 180 * time.Minute, "maxage": 2 * time.Hour} {
		if h := healthOf(t, st, name); h.NextFetchAt.Before(before.Add(time.Duration(float64(floor) * 0.9))) {
			t.Errorf("%s: next fetch %v, want at least %v after %v", name, h.NextFetchAt, floor, before)
		}
	}
}

// A feed whose server hangs must not hold back a feed on another host: the
// slow server is released only once the good feed's items have been handed
// to onNew by Run.
func TestRunSlowFeedDoesNotDelayOthers(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "late", 500)
	}))
	defer slow.Close()
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, rssItems("g", 2)) }))
	defer good.Close()
	st := newTestStore(t)
	sync1(t, st, Source{Name: "slow", URL: slow.URL}, Source{Name: "good", URL: good.URL})
	p := NewPoller(Config{Timeout: 5 * time.Minute, Concurrency: 2, PerHost: 1}, st, nil)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan []Item, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx, func(_ context.Context, items []Item) {
			select {
			case got <- items:
			default:
			}
		})
	}()
	items := <-got
	close(release)
	cancel()
	<-done
	if len(items) != 2 || items[0].FeedName != "good" {
		t.Fatalf("onNew got %+v, want the good feed's 2 items", items)
	}
}

func TestPerHostLimit(t *testing.T) {
	var cur, peak atomic.Int32
	second := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		defer cur.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if n >= 2 {
			once.Do(func() { close(second) })
		}
		// Hold the first request until a second one runs in parallel, so
		// the test shows fetches are concurrent without timing anything.
		select {
		case <-second:
		case <-r.Context().Done():
		}
		fmt.Fprint(w, rssItems(r.URL.Path[1:], 1))
	}))
	defer srv.Close()
	st := newTestStore(t)
	var srcs []Source
	for i := 0; i < 6; i++ {
		srcs = append(srcs, Source{Name: fmt.Sprint("h", i), URL: fmt.Sprintf("%s/h%d", srv.URL, i)})
	}
	sync1(t, st, srcs...)
	p := NewPoller(Config{Concurrency: 8, PerHost: 2, Timeout: time.Minute}, st, nil)
	rep := p.FetchAll(context.Background())
	if len(rep.Failed()) != 0 {
		t.Fatalf("failures: %+v", rep.Failed())
	}
	if peak.Load() != 2 {
		t.Errorf("peak concurrent requests to one host = %d, want 2 (fetch.per_host)", peak.Load())
	}
}

func TestSyncSourcesRemovedAndChanged(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, rssItems(r.URL.Path[1:], 1)) }))
	defer srv.Close()
	st := newTestStore(t)
	ctx := context.Background()
	sync1(t, st, Source{Name: "a", URL: srv.URL + "/a"}, Source{Name: "b", URL: srv.URL + "/b"})
	NewPoller(Config{}, st, nil).FetchAll(ctx)
	sync1(t, st, Source{Name: "a", URL: srv.URL + "/a2"})
	hb := healthOf(t, st, "b")
	if hb.Enabled || hb.DisabledReason != "removed from the config" || hb.ItemCount != 1 {
		t.Errorf("removed feed: %+v, want disabled with its item kept", hb)
	}
	if ha := healthOf(t, st, "a"); !ha.Enabled || ha.URL != srv.URL+"/a2" || !ha.NextFetchAt.IsZero() {
		t.Errorf("changed feed: %+v, want new URL due now", ha)
	}
	rep := NewPoller(Config{}, st, nil).FetchAll(ctx)
	if len(rep.Feeds) != 1 || rep.Feeds[0].Name != "a" {
		t.Errorf("a removed feed was fetched: %+v", rep.Feeds)
	}
	if err := st.SyncSources(ctx, []Source{{Name: "x", URL: "ftp://x", Language: "vi"}}); err == nil || !strings.Contains(err.Error(), "feeds[0].url") {
		t.Errorf("bad source accepted: %v", err)
	}
}

func TestGoneDisablesAtOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) }))
	defer srv.Close()
	st := newTestStore(t)
	sync1(t, st, Source{Name: "gone", URL: srv.URL})
	r := NewPoller(Config{}, st, nil).FetchAll(context.Background()).Feeds[0]
	if !errors.Is(r.Err, ErrGone) || !r.Disabled {
		t.Fatalf("410: %+v, want ErrGone and disabled", r)
	}
	if h := healthOf(t, st, "gone"); h.Enabled || !strings.Contains(h.DisabledReason, "410") {
		t.Errorf("health after 410: %+v", h)
	}
}

// Feeds configured together are fetched together once, then spread over the
// interval instead of all coming due at the same moment again.
func TestFirstRoundSpreadsFeeds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, rssItems(r.URL.Path[1:], 1)) }))
	defer srv.Close()
	st := newTestStore(t)
	var srcs []Source
	for i := 0; i < 20; i++ {
		srcs = append(srcs, Source{Name: fmt.Sprint("s", i), URL: fmt.Sprintf("%s/s%d", srv.URL, i), Interval: 30 * time.Minute})
	}
	sync1(t, st, srcs...)
	NewPoller(Config{}, st, nil).FetchAll(context.Background())
	hs, _ := st.Health(context.Background())
	lo, hi := hs[0].NextFetchAt, hs[0].NextFetchAt
	for _, h := range hs {
		if h.NextFetchAt.Before(lo) {
			lo = h.NextFetchAt
		}
		if h.NextFetchAt.After(hi) {
			hi = h.NextFetchAt
		}
	}
	if hi.Sub(lo) < 10*time.Minute {
		t.Errorf("next fetches of 20 feeds span only %v (%v .. %v), want them spread over the 30m interval", hi.Sub(lo), lo, hi)
	}
}
