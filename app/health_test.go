package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/feeds"
)

func healthz(t *testing.T, a *App) (int, Health) {
	t.Helper()
	a.ops.health.last = nil // a fresh check, not the one of a moment ago
	mux := http.NewServeMux()
	healthPart{a}.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var h Health
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
		t.Fatalf("/healthz is not JSON: %v\n%s", err, rec.Body)
	}
	return rec.Code, h
}

// /healthz turns 503 when what matters goes wrong: every feed disabled
// (here: the portal answers 410 Gone), or the scheduler's heartbeat stops;
// the database write is reported either way.
func TestHealthzFailsOnWhatMatters(t *testing.T) {
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusGone)
	}))
	defer gone.Close()
	cfg := config.Default()
	cfg.Database = filepath.Join(t.TempDir(), "hp.db")
	cfg.Feeds = []feeds.Source{{Name: "Portal", URL: gone.URL + "/rss", Language: "vi", Timezone: cfg.Timezone, AllowPrivate: true}}
	a, err := New(context.Background(), cfg, Options{DryRunDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	a.beat()
	code, h := healthz(t, a)
	if code != http.StatusOK || h.Status != "ok" || !h.Database.Writable || h.Scheduler == nil || !h.Scheduler.Running || h.Feeds.Polled != 1 {
		t.Fatalf("healthy daemon: %d %+v", code, h)
	}

	a.FetchNow(context.Background()) // 410: the feed is disabled at once
	code, h = healthz(t, a)
	if code != http.StatusServiceUnavailable || h.Status != "fail" || h.Feeds.Disabled != 1 || !strings.Contains(strings.Join(h.Problems, ";"), "every feed is disabled") {
		t.Errorf("every feed disabled: %d %+v", code, h)
	}
	if err := a.Feeds.Reenable(context.Background(), "Portal"); err != nil {
		t.Fatal(err)
	}

	a.ops.heartbeat.Store(time.Now().Add(-10 * time.Minute).UnixNano())
	code, h = healthz(t, a)
	if code != http.StatusServiceUnavailable || h.Scheduler.Running || !strings.Contains(strings.Join(h.Problems, ";"), "scheduler has stalled") {
		t.Errorf("stalled scheduler: %d %+v", code, h)
	}

	a.beat()
	a.DB.Close() // nothing can be written any more
	code, h = healthz(t, a)
	if code != http.StatusServiceUnavailable || h.Database.Writable {
		t.Errorf("closed database: %d %+v", code, h)
	}
}
