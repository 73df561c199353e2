package app

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/store/backup"
	"github.com/haiphong/hpdigest/web"
	"github.com/haiphong/hpdigest/web/metrics"
)

// heartbeatEvery is how often the daemon's scheduler beats; /healthz
// reports it stalled after missing a few beats.
const heartbeatEvery = 30 * time.Second

// ops is the daemon's operational state: the scheduler's heartbeat, the
// outcome of scheduled backups, the metrics and the last health check.
type ops struct {
	heartbeat      atomic.Int64 // unix nanoseconds of the last beat; 0 outside the daemon
	backupFailures atomic.Int64
	metrics        *metrics.Metrics
	health         healthCache
}

// opsJobs are the daemon's operational schedules for cfg: the heartbeat
// /healthz reads, and the scheduled backups.
func (a *App) opsJobs(cfg *config.Config) []job {
	jobs := []job{{name: "heartbeat", spec: fmt.Sprintf("@every %s", heartbeatEvery), exclusive: true,
		run: func(context.Context, time.Time) { a.beat() }}}
	if spec := cfg.Backup.Schedule; spec != "" {
		jobs = append(jobs, job{name: "backup.schedule", spec: withTZ(spec, cfg.Timezone), exclusive: true,
			run: func(ctx context.Context, _ time.Time) { a.scheduledBackup(ctx) }})
	}
	return jobs
}

// startOps starts the metrics listener when one is configured, and
// returns the parts it adds to the main web server (/healthz; /metrics
// when served there; the request observer) and a function that stops the
// metrics listener and waits for it.
func (a *App) startOps(ctx context.Context) ([]web.Registrar, func(), error) {
	a.beat()
	cfg := a.Cfg()
	parts := []web.Registrar{healthPart{a}}
	wait := func() {}
	if !cfg.Metrics.Enabled() {
		return parts, wait, nil
	}
	m := a.newMetrics()
	a.ops.metrics = m
	a.Poller.Observe(m.ObserveFetch)
	parts = append(parts, m)
	if addr := cfg.Metrics.Listen; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("metrics.listen: %w", err)
		}
		a.Log.Info("metrics listening", "addr", ln.Addr().String(), "token", cfg.Metrics.Token != "")
		sctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := web.ServeListener(sctx, ln, m.Mux()); err != nil {
				a.Log.Error("metrics server", "err", err)
			}
		}()
		wait = func() { stop(); <-done }
	}
	return parts, wait, nil
}

func (a *App) newMetrics() *metrics.Metrics {
	// Each function reads the configuration in use at the time: a reload
	// shows in the next scrape.
	src := metrics.Sources{
		DB:          a.DB,
		Feeds:       a.Feeds,
		Digests:     a.Digests,
		Subscribers: a.Subscribers,
		Schedules:   func() []digest.Digest { return a.Cfg().Digests },
		RateLimit:   func() float64 { return a.Cfg().SMTP.RatePerSec },
		Heartbeat:   a.lastBeat,
		Log:         a.Log,
		Backups: func() (metrics.BackupState, bool) {
			cfg := a.Cfg()
			if cfg.Backup.Schedule == "" {
				return metrics.BackupState{}, false
			}
			last, _ := backup.Latest(cfg.Backup.Dir, cfg.Database)
			return metrics.BackupState{LastSuccess: last, Failures: a.ops.backupFailures.Load()}, true
		},
	}
	cfg := a.Cfg()
	return metrics.New(src, metrics.Options{Token: cfg.Metrics.Token, OnMainServer: cfg.Metrics.OnMainServer()})
}

func (a *App) beat() { a.ops.heartbeat.Store(a.clock.Now().UnixNano()) }

// lastBeat is the scheduler's last heartbeat (zero outside the daemon).
func (a *App) lastBeat() time.Time {
	if n := a.ops.heartbeat.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// scheduledBackup is the [backup] schedule's job: a failure is logged and
// counted (hpdigest_backup_failures_total), never fatal.
func (a *App) scheduledBackup(ctx context.Context) {
	cfg := a.Cfg()
	info, removed, err := backup.Scheduled(ctx, a.DB, cfg.Database, cfg.Backup, time.Now())
	if err != nil {
		a.ops.backupFailures.Add(1)
		a.Log.Error("scheduled backup failed", "dir", cfg.Backup.Dir, "err", err)
		return
	}
	a.Log.Info("backup written", "file", info.Path, "bytes", info.Size, "took", info.Took.Round(time.Millisecond), "removed_old", len(removed))
}
