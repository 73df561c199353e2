package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/web"
)

// resumeEvery is how often the daemon looks for sends with recipients due
// for a retry (temporary SMTP failures, local-hour delivery).
const resumeEvery = "@every 1m"

// Run is the daemon: it serves HTTP, polls every feed on its own schedule,
// assembles drafts and sends issues on each digest's cron schedule, and
// resumes interrupted sends, until ctx is cancelled (SIGINT/SIGTERM). Work
// in progress is allowed to finish: a send drains its in-flight messages.
func (a *App) Run(ctx context.Context, parts ...web.Registrar) error {
	c := cron.New(cron.WithLogger(cronLogger{a}), cron.WithChain(cron.SkipIfStillRunning(cronLogger{a})))
	for _, d := range a.Cfg.Digests {
		if d.DraftSchedule != "" {
			if _, err := c.AddFunc(withTZ(d.DraftSchedule, d.Timezone), func() { a.scheduledDraft(ctx, d) }); err != nil {
				return fmt.Errorf("digest %s: draft_schedule: %w", d.Key, err)
			}
		}
		if _, err := c.AddFunc(withTZ(d.Schedule, d.Timezone), func() { a.scheduledSend(ctx, d) }); err != nil {
			return fmt.Errorf("digest %s: schedule: %w", d.Key, err)
		}
	}
	if _, err := c.AddFunc(resumeEvery, func() { a.resumeSends(ctx) }); err != nil {
		return err
	}
	// Sign-ups never confirmed are forgotten after subscribers.pending_expiry.
	if _, err := c.AddFunc(withTZ("30 3 * * *", a.Cfg.Timezone), func() {
		if n, err := a.Subscribers.PurgePending(ctx); err != nil {
			a.Log.Error("purge unconfirmed sign-ups", "err", err)
		} else if n > 0 {
			a.Log.Info("purged unconfirmed sign-ups", "count", n)
		}
	}); err != nil {
		return err
	}
	opsParts, stopOps, err := a.startOps(ctx, c) // heartbeat, backups, metrics: ops.go
	if err != nil {
		return err
	}
	defer stopOps()
	parts = append(parts, opsParts...)

	var wg sync.WaitGroup
	errc := make(chan error, 1)
	if a.Cfg.HTTP.Listen != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := web.Handler(a.DB, a.Log, parts...)
			err := web.Serve(ctx, a.Cfg.HTTP.Listen, h, func(addr net.Addr) {
				a.Log.Info("http server listening", "addr", addr.String(), "base_url", a.Cfg.HTTP.BaseURL)
			})
			if err != nil {
				select {
				case errc <- fmt.Errorf("http: %w", err):
				default:
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.Poller.Run(ctx, func(ctx context.Context, items []feeds.Item) { a.classifyItems(ctx, items) })
	}()
	a.resumeSends(ctx) // an interrupted send resumes at start-up
	c.Start()
	for _, e := range c.Entries() {
		a.Log.Debug("scheduled", "next", e.Next)
	}
	a.Log.Info("daemon started", "digests", len(a.Cfg.Digests), "feeds", len(a.Cfg.Feeds))

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	a.Log.Info("stopping: waiting for running jobs")
	<-c.Stop().Done()
	wg.Wait()
	a.Log.Info("stopped")
	return runErr
}

func withTZ(spec, tz string) string {
	if tz == "" {
		return spec
	}
	return "CRON_TZ=" + tz + " " + spec
}

func (a *App) scheduledDraft(ctx context.Context, d digest.Digest) {
	iss, added, err := a.Assemble(ctx, d)
	if err != nil {
		a.Log.Error("draft assembly failed", "digest", d.Key, "err", err)
		return
	}
	a.Log.Info("draft assembled", "digest", d.Key, "issue", iss.Number, "new_items", added, "status", iss.Status)
}

// scheduledSend is the digest's cron job. An issue rescheduled by staff to a
// later time waits for resumeSends to find it due.
func (a *App) scheduledSend(ctx context.Context, d digest.Digest) {
	if open, err := a.Digests.OpenIssueHeader(ctx, d.Key); err == nil && !open.ScheduledAt.IsZero() && open.ScheduledAt.After(time.Now()) {
		a.Log.Info("issue rescheduled by staff; not sending now", "digest", d.Key, "issue", open.Number, "at", open.ScheduledAt)
		return
	}
	a.sendAndLog(ctx, d)
}

func (a *App) sendAndLog(ctx context.Context, d digest.Digest) {
	res, err := a.SendNow(ctx, d, false)
	switch {
	case errors.Is(err, ErrNotApproved):
		a.Log.Warn("scheduled send skipped: issue not approved by staff", "digest", d.Key, "issue", res.Issue.Number)
	case errors.Is(err, ErrNothingToSend):
		a.Log.Info("scheduled send: nothing new", "digest", d.Key)
	case err != nil:
		a.Log.Error("send failed", "digest", d.Key, "err", err)
	case res.Summary.SentNow == 0 && res.Summary.FailedNow == 0:
		// A resume pass with nothing due yet (retries, local-hour rows).
		a.Log.Debug("send: nothing due", "digest", d.Key, "issue", res.Issue.Number, "next", res.Summary.NextAt)
	default:
		s := res.Summary
		a.Log.Info("send finished", "digest", d.Key, "issue", res.Issue.Number, "sent", s.Sent, "failed", s.Failed, "retry", s.Retry, "skipped", s.Skipped)
	}
}

// resumeSends continues every issue that is being sent (interrupted, or with
// retries due) and sends issues that staff rescheduled to a time now past.
func (a *App) resumeSends(ctx context.Context) {
	for _, d := range a.Cfg.Digests {
		open, err := a.Digests.OpenIssueHeader(ctx, d.Key)
		if err != nil {
			continue
		}
		due := !open.ScheduledAt.IsZero() && !open.ScheduledAt.After(time.Now()) &&
			(open.Status == digest.StatusApproved || (open.Status == digest.StatusDraft && !d.RequireApproval))
		if open.Status == digest.StatusSending || due {
			a.sendAndLog(ctx, d)
		}
	}
}

type cronLogger struct{ a *App }

func (l cronLogger) Info(msg string, kv ...any) { l.a.Log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.a.Log.Error("cron: "+msg, append(kv, "err", err)...)
}
