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
