package feeds

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The fetch before a send leaves a failing feed alone until its back-off
// is over; the operator's -fetch-now (FetchAll) still tries it.
func TestFetchHealthyRespectsBackoff(t *testing.T) {
	var bad, good atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		bad.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	})
	mux.HandleFunc("/good", func(w http.ResponseWriter, r *http.Request) {
		good.Add(1)
		fmt.Fprint(w, rssItems("g", 1))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	st := newTestStore(t)
	sync1(t, st, Source{Name: "bad", URL: srv.URL + "/bad"}, Source{Name: "good", URL: srv.URL + "/good"})
	var logs bytes.Buffer
	p := NewPoller(Config{DefaultInterval: 10 * time.Minute}, st, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()

	first := byName(p.FetchHealthy(ctx))
	if first["bad"].Err == nil || bad.Load() != 1 {
		t.Fatalf("first fetch of the failing feed: %+v, %d requests", first["bad"], bad.Load())
	}
	second := byName(p.FetchHealthy(ctx))
	if bad.Load() != 1 || second["bad"].Err != nil || second["bad"].BackingOff.IsZero() {
		t.Errorf("second fetch before a send: %d requests to the failing feed (want 1), result %+v", bad.Load(), second["bad"])
	}
	if good.Load() != 2 {
		t.Errorf("the healthy feed was fetched %d times, want every time (2)", good.Load())
	}
	p.FetchAll(ctx)
	if bad.Load() != 2 {
		t.Errorf("FetchAll did not try the failing feed: %d requests", bad.Load())
	}

	// The warning names the feed and its URL once each.
	line := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "fetch failed") {
			line = l
			break
		}
	}
	if strings.Count(line, "bad") != 2 || strings.Count(line, srv.URL+"/bad") != 1 || !strings.Contains(line, "500") {
		t.Errorf("warning repeats or lacks the feed's name and URL: %s", line)
	}
}

// The schedule and the fetch before a send share their feeds: a fetch that
// finds the feed being fetched waits for that fetch instead of asking the
// portal a second time, and the first fetch reports the new items.
func TestConcurrentFetchesOfAFeedJoin(t *testing.T) {
	var requests atomic.Int32
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		arrived <- struct{}{}
		<-release
		fmt.Fprint(w, rssItems("j", 2))
	}))
	defer srv.Close()
	st := newTestStore(t)
	sync1(t, st, Source{Name: "slow", URL: srv.URL + "/feed"})
	p := NewPoller(Config{}, st, nil)
	ctx := context.Background()

	first := make(chan Report)
	go func() { first <- p.FetchAll(ctx) }()
	<-arrived
	second := make(chan Report)
	go func() { second <- p.FetchHealthy(ctx) }()
	select {
	case r := <-second:
		t.Fatalf("the second fetch returned while the first was still running: %+v", r.Feeds)
	case <-time.After(100 * time.Millisecond): // it waits (no timing is asserted beyond that)
	}
	close(release)
	a, b := byName(<-first)["slow"], byName(<-second)["slow"]
	if requests.Load() != 1 {
		t.Errorf("the portal was asked %d times, want once", requests.Load())
	}
	if a.Joined || len(a.NewItems) != 2 || a.Err != nil {
		t.Errorf("first fetch: %+v, want the 2 new items", a)
	}
	if !b.Joined || len(b.NewItems) != 0 || b.Err != nil {
		t.Errorf("second fetch: %+v, want joined, no items of its own", b)
	}
}
