// Package metrics serves the daemon's Prometheus metrics on /metrics.
//
// Most values are read from the database at scrape time, each through a
// read function of the package that owns the table (feeds, digest,
// digest/deliver, subscribers), aggregated in SQL over indexes. A scrape
// re-reads the database at most once per MaxAge; scrapes in between (or
// from several Prometheus servers) get the same snapshot, so the cost stays
// bounded whatever the scrape rate. Counters that the database cannot
// give (fetches per feed, HTTP request durations) come from hooks: the
// feeds poller's observer and the web server's request observer.
package metrics

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/subscribers"
)

// Sources are where the metrics come from. Functions are called at each
// refresh, so a reloaded configuration shows without rebuilding Metrics.
type Sources struct {
	DB          *sql.DB
	Feeds       *feeds.Store
	Digests     *digest.Store
	Subscribers *subscribers.Store
	// Schedules returns the configured digests (their send schedules).
	Schedules func() []digest.Digest
	// RateLimit returns the configured sending limit (messages per second).
	RateLimit func() float64
	// Backups returns the state of scheduled backups, and false when none
	// are scheduled (nothing is reported). nil: outside the daemon, none.
	Backups func() (BackupState, bool)
	// Heartbeat returns the scheduler's last beat; nil outside the daemon.
	Heartbeat func() time.Time
	Log       *slog.Logger
}

// BackupState is what the daemon knows of its scheduled backups.
type BackupState struct {
	LastSuccess time.Time // zero if none
	Failures    int64     // since the daemon started
}

// DefaultMaxAge is how long a snapshot of the database serves scrapes.
const DefaultMaxAge = 15 * time.Second

// Options tune New.
type Options struct {
	// Token, when set, is required as "Authorization: Bearer <token>".
	Token string
	// OnMainServer makes Register add GET /metrics to the main server.
	OnMainServer bool
	// MaxAge bounds how often the database is read (default DefaultMaxAge).
	MaxAge time.Duration
}

// Metrics is the registry of the daemon's metrics and its hooks.
type Metrics struct {
	reg      *prometheus.Registry
	opts     Options
	fetches  *prometheus.CounterVec
	requests *prometheus.HistogramVec
	db       *dbCollector
}

// New builds the metrics of one daemon.
func New(src Sources, opts Options) *Metrics {
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if src.Log == nil {
		src.Log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), opts: opts}
	m.fetches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hpdigest_feed_fetches_total",
		Help: "Feed fetches since the daemon started, by feed and result (ok, not_modified, error).",
	}, []string{"feed", "result"})
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hpdigest_http_request_duration_seconds",
		Help:    "HTTP request durations by route class (public, archive, staff, health, other) and status class.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"class", "code"})
	m.db = newDBCollector(src, opts.MaxAge)
	m.reg.MustRegister(m.fetches, m.requests, m.db, buildInfo(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveFetch counts one feed fetch (for feeds.Poller.Observe).
func (m *Metrics) ObserveFetch(r feeds.FeedResult, _ time.Duration) {
	result := "ok"
	switch {
	case r.Err != nil:
		result = "error"
	case r.NotModified:
		result = "not_modified"
	}
	m.fetches.WithLabelValues(r.Name, result).Inc()
}

// ObserveRequest records one HTTP request (web.RequestObserver).
func (m *Metrics) ObserveRequest(class string, status int, took time.Duration) {
	m.requests.WithLabelValues(class, strconv.Itoa(status/100)+"xx").Observe(took.Seconds())
}

// Handler answers GET /metrics, checking the bearer token when one is set.
func (m *Metrics) Handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	if m.opts.Token == "" {
		return h
	}
	want := []byte("Bearer " + m.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hpdigest metrics"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Register adds GET /metrics to the main server's mux when metrics are
// served there (behind the token); otherwise it adds nothing, and the
// Metrics only observes the main server's requests.
func (m *Metrics) Register(mux *http.ServeMux) {
	if m.opts.OnMainServer {
		mux.Handle("GET /metrics", m.Handler())
	}
}

// Mux is the handler of the metrics' own listener.
func (m *Metrics) Mux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return mux
}

// Refresh reads the database now, as a scrape after MaxAge would.
func (m *Metrics) Refresh(ctx context.Context) { m.db.refresh(ctx) }

// buildInfo is hpdigest_build_info: 1, with the version as labels.
func buildInfo() prometheus.Collector {
	version, revision, goVersion := "(unknown)", "", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		version, goVersion = info.Main.Version, info.GoVersion
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "hpdigest_build_info",
		Help:        "The version hpdigest was built from (always 1).",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "go_version": goVersion},
	})
	g.Set(1)
	return g
}
