package app

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Health is the answer of /healthz: the state that matters, without
// private details (no addresses, paths or error texts; those go to the log).
type Health struct {
	Status    string           `json:"status"` // "ok", or "fail" (HTTP 503)
	Problems  []string         `json:"problems,omitempty"`
	Database  DatabaseHealth   `json:"database"`
	Scheduler *SchedulerHealth `json:"scheduler,omitempty"` // absent outside the daemon
	Feeds     FeedsHealth      `json:"feeds"`
	CheckedAt time.Time        `json:"checked_at"`
}

// DatabaseHealth says whether a write to the database went through.
type DatabaseHealth struct {
	Writable bool `json:"writable"`
}

// SchedulerHealth is the daemon's scheduler's heartbeat.
type SchedulerHealth struct {
	Running  bool      `json:"running"`
	LastBeat time.Time `json:"last_beat"`
}

// FeedsHealth sums up the feeds' last polls.
type FeedsHealth struct {
	Polled   int `json:"polled"`   // enabled feeds
	Failing  int `json:"failing"`  // enabled, last fetch failed
	Disabled int `json:"disabled"` // disabled after repeated failures
	// LastSuccess is the newest successful fetch of any feed.
	LastSuccess time.Time `json:"last_success,omitzero"`
}

const (
	// healthMaxAge bounds how often /healthz writes to the database, however
	// often it is asked.
	healthMaxAge = 5 * time.Second
	// feedsStaleAfter: with no feed fetched successfully for this long,
	// the next digest would have nothing new.
	feedsStaleAfter = 24 * time.Hour
)

type healthCache struct {
	mu   sync.Mutex
	last *Health
}

// Health checks the database (a write to the settings table), the
// scheduler's heartbeat (in the daemon) and the feeds; Status is "fail"
// when the database cannot be written, the scheduler has stalled, every
// feed is disabled, or no feed has been fetched successfully for a day.
// Results are reused for a few seconds.
func (a *App) Health(ctx context.Context) Health {
	a.ops.health.mu.Lock()
	defer a.ops.health.mu.Unlock()
	if h := a.ops.health.last; h != nil && time.Since(h.CheckedAt) < healthMaxAge {
		return *h
	}
	now := time.Now()
	h := Health{Status: "ok", CheckedAt: now.UTC()}
	fail := func(problem string) {
		h.Status = "fail"
		h.Problems = append(h.Problems, problem)
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	_, err := a.DB.ExecContext(wctx, `INSERT INTO settings (key, value) VALUES ('healthz_at', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, now.Unix())
	cancel()
	h.Database.Writable = err == nil
	if err != nil {
		a.Log.Error("healthz: database write failed", "err", err)
		fail("database is not writable")
	}
	if beat := a.lastBeat(); !beat.IsZero() {
		h.Scheduler = &SchedulerHealth{Running: now.Sub(beat) < 3*heartbeatEvery, LastBeat: beat.UTC()}
		if !h.Scheduler.Running {
			fail("scheduler has stalled")
		}
	}
	a.feedsHealth(ctx, now, &h, fail)
	a.ops.health.last = &h
	return h
}

func (a *App) feedsHealth(ctx context.Context, now time.Time, h *Health, fail func(string)) {
	stats, err := a.Feeds.FeedStats(ctx)
	if err != nil {
		a.Log.Error("healthz: read feeds", "err", err)
		fail("feeds cannot be read")
		return
	}
	var freshest time.Time // newest success, or addition of a feed not yet fetched
	for _, f := range stats {
		if !f.Enabled {
			h.Feeds.Disabled++
			continue
		}
		h.Feeds.Polled++
		if f.ErrorCount > 0 {
			h.Feeds.Failing++
		}
		if f.LastSuccessAt.After(h.Feeds.LastSuccess) {
			h.Feeds.LastSuccess = f.LastSuccessAt.UTC()
		}
		for _, t := range []time.Time{f.LastSuccessAt, f.CreatedAt} {
			if t.After(freshest) {
				freshest = t
			}
		}
	}
	switch {
	case len(stats) > 0 && h.Feeds.Polled == 0:
		fail("every feed is disabled")
	case h.Feeds.Polled > 0 && now.Sub(freshest) > feedsStaleAfter:
		fail("no feed fetched successfully for more than a day")
	}
}

// healthPart serves GET /healthz: JSON, 200 or 503.
type healthPart struct{ a *App }

func (p healthPart) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		h := p.a.Health(r.Context())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if h.Status != "ok" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(h)
	})
}
