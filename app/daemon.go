package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/web"
)

// resumeEvery is how often the daemon looks for sends with recipients due
// for a retry (temporary SMTP failures, local-hour delivery) and issues
// staff rescheduled to a time now past.
const resumeEvery = "@every 1m"

// Run is the daemon: it serves HTTP, polls every feed on its own schedule,
// assembles drafts and sends issues on each digest's cron schedule, and
// resumes interrupted sends, until ctx is cancelled (SIGINT/SIGTERM). Work
// in progress is allowed to finish: a send drains its in-flight messages.
// parts are web pages served beside those of SetSite.
//
// One issue per scheduled send, ever: a send tick that comes while the
// digest's previous send is still running is skipped (logged and recorded
// for staff: SkippedSends), not queued, and the once-a-minute resume check
// only continues an issue that is being sent (or one staff rescheduled);
// it never assembles a new one.
func (a *App) Run(ctx context.Context, parts ...web.Registrar) error {
	cfg := a.Cfg()
	scheduled, err := parseJobs(a.jobs(cfg))
	if err != nil {
		return err
	}
	opsParts, stopOps, err := a.startOps(ctx) // heartbeat, metrics: ops.go
	if err != nil {
		return err
	}
	defer stopOps()
	site, err := a.newSite(cfg, a.Renderer(), append(parts, opsParts...))
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	errc := make(chan error, 1)
	if cfg.HTTP.Listen != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := web.StrictTransport(cfg.HTTP.BaseURL, site)
			err := web.Serve(ctx, cfg.HTTP.Listen, h, func(addr net.Addr) {
				a.Log.Info("http server listening", "addr", addr.String(), "base_url", cfg.HTTP.BaseURL)
			})
			if err != nil {
				select {
				case errc <- fmt.Errorf("http: %w", err):
				default:
				}
			}
		}()
	}
	a.Log.Info("daemon started", "digests", len(cfg.Digests), "feeds", len(cfg.Feeds))
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.Poller.Run(ctx, func(ctx context.Context, items []feeds.Item) { a.classifyItems(ctx, items) })
	}()
	wg.Add(1)
	go func() { // an interrupted send resumes at start-up, beside the schedules
		defer wg.Done()
		a.resumeSends(ctx)
	}()
	sched := newScheduler(ctx, a, &wg)
	sched.apply(scheduled)
	a.reload.running(sched, site)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	a.reload.running(nil, nil) // a reload from now on starts no schedule (after one in progress ends)
	a.Log.Info("stopping: waiting for running jobs")
	wg.Wait()
	a.Log.Info("stopped")
	return runErr
}

// jobs are the daemon's schedules for cfg. A job finds its digest by key
// when it runs, so a reload that changes a digest's settings but not its
// schedule keeps the job's loop and the next run uses the new settings.
func (a *App) jobs(cfg *config.Config) []job {
	var jobs []job
	for _, d := range cfg.Digests {
		key := d.Key
		if d.DraftSchedule != "" {
			jobs = append(jobs, job{name: "digest " + key + ": draft_schedule", spec: withTZ(d.DraftSchedule, d.Timezone), exclusive: true,
				run: func(ctx context.Context, _ time.Time) {
					if d, ok := a.Cfg().Digest(key); ok {
						a.scheduledDraft(ctx, d)
					}
				}})
		}
		jobs = append(jobs, job{name: "digest " + key + ": schedule", spec: withTZ(d.Schedule, d.Timezone),
			run: func(ctx context.Context, tick time.Time) {
				if d, ok := a.Cfg().Digest(key); ok {
					a.scheduledSend(ctx, d, tick)
				}
			}})
	}
	jobs = append(jobs,
		job{name: "resume", spec: resumeEvery, exclusive: true, run: func(ctx context.Context, _ time.Time) { a.resumeSends(ctx) }},
		job{name: "purge", spec: withTZ("30 3 * * *", cfg.Timezone), exclusive: true, run: func(ctx context.Context, _ time.Time) { a.purge(ctx) }},
		job{name: "retention.schedule", spec: withTZ(cfg.Retention.Schedule, cfg.Timezone), exclusive: true,
			run: func(ctx context.Context, _ time.Time) { a.scheduledRetention(ctx) }},
	)
	return append(jobs, a.opsJobs(cfg)...)
}

func withTZ(spec, tz string) string {
	if tz == "" {
		return spec
	}
	return "CRON_TZ=" + tz + " " + spec
}

func (a *App) scheduledDraft(ctx context.Context, d digest.Digest) {
	iss, added, err := a.Assemble(ctx, d)
	switch {
	case err != nil && ctx.Err() != nil:
		return // shutting down
	case err != nil:
		a.Log.Error("draft assembly failed", "digest", d.Key, "err", err)
	case iss.Status != digest.StatusDraft:
		a.Log.Info("no draft assembled: the open issue is "+iss.Status+"; the next draft starts once it is sent",
			"digest", d.Key, "issue", iss.Number)
	default:
		a.Log.Info("draft assembled", "digest", d.Key, "issue", iss.Number, "new_items", added, "included", iss.IncludedCount)
	}
}

// scheduledSend is the digest's send schedule: one tick, at most one new
// issue. A tick that finds the digest's previous send still running is
// skipped; one that finds an interrupted send not yet resumed resumes it
// instead of making a new issue. An issue rescheduled by staff to a later
// time waits for resumeSends to find it due.
func (a *App) scheduledSend(ctx context.Context, d digest.Digest, tick time.Time) {
	release, ok, err := a.gate.claim(ctx, d.Key, false)
	if err != nil {
		return // shutting down
	}
	if !ok {
		a.skipTick(ctx, d, tick, digest.SkipRunning)
		return
	}
	defer release()
	open, err := a.Digests.OpenIssueHeader(ctx, d.Key)
	switch {
	case err == nil && open.Status == digest.StatusSending:
		a.skipTick(ctx, d, tick, digest.SkipResumed)
		res, err := a.sendIssue(ctx, d, open)
		a.logSend(ctx, d, res, err)
		return
	case err == nil && !open.ScheduledAt.IsZero() && open.ScheduledAt.After(a.clock.Now()):
		a.Log.Info("issue rescheduled by staff; not sending now", "digest", d.Key, "issue", open.Number, "at", open.ScheduledAt)
		return
	}
	res, err := a.sendNow(ctx, d, false)
	a.logSend(ctx, d, res, err)
}

// skipTick logs and records a scheduled send that made no new issue.
func (a *App) skipTick(ctx context.Context, d digest.Digest, tick time.Time, reason string) {
	sk := digest.SkippedSend{Digest: d.Key, TickAt: tick, Reason: reason}
	if open, err := a.Digests.OpenIssueHeader(ctx, d.Key); err == nil {
		sk.Issue = open.Number
	}
	why := "the digest's previous send was still running"
	if reason == digest.SkipResumed {
		why = "an interrupted send was resumed instead"
	}
	a.Log.Warn("scheduled send skipped: "+why, "digest", d.Key, "tick", tick, "issue", sk.Issue)
	if err := a.Digests.RecordSkippedSend(context.WithoutCancel(ctx), sk); err != nil {
		a.Log.Error("record skipped send", "digest", d.Key, "err", err)
	}
}

// logSend says what a send did, in words an operator can act on.
func (a *App) logSend(ctx context.Context, d digest.Digest, res SendResult, err error) {
	number := 0
	if res.Issue != nil {
		number = res.Issue.Number
	}
	s := res.Summary
	switch {
	case errors.Is(err, ErrNotApproved):
		a.Log.Warn("scheduled send skipped: issue not approved by staff", "digest", d.Key, "issue", number)
	case errors.Is(err, ErrNothingToSend):
		a.Log.Info("scheduled send: nothing new", "digest", d.Key)
	case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
		if s.Total > 0 {
			a.Log.Info("send interrupted by shutdown; the rest is sent when the daemon starts again", "digest", d.Key, "issue", number,
				"sent", s.Sent, "remaining", s.Remaining(), "recipients", s.Total)
		} else {
			a.Log.Info("shutdown before the send started; nothing was sent", "digest", d.Key)
		}
	case errors.Is(err, deliver.ErrBusy):
		a.Log.Info("issue is being sent by another process; the resume check tries again", "digest", d.Key, "issue", number, "detail", err)
	case err != nil:
		a.Log.Error("send failed", "digest", d.Key, "issue", number, "err", err)
	case s.SentNow == 0 && s.FailedNow == 0:
		// A resume pass with nothing due yet (retries, local-hour rows).
		a.Log.Debug("send: nothing due", "digest", d.Key, "issue", number, "next", s.NextAt)
	default:
		a.Log.Info("send finished", "digest", d.Key, "issue", number, "sent", s.Sent, "failed", s.Failed, "retry", s.Retry, "skipped", s.Skipped)
	}
}

// resumeSends continues every issue that is being sent (interrupted, or
// with retries due) and sends issues that staff rescheduled to a time now
// past. It never assembles a new issue, and leaves a digest alone while a
// send of it is running.
func (a *App) resumeSends(ctx context.Context) {
	for _, d := range a.Cfg().Digests {
		if open, err := a.Digests.OpenIssueHeader(ctx, d.Key); err != nil || !a.resumable(d, open) {
			continue // the cheap check; decided again under the lock
		}
		release, ok, err := a.gate.claim(ctx, d.Key, false)
		if err != nil {
			return
		}
		if !ok {
			continue // being sent right now
		}
		res, err := a.resume(ctx, d)
		release()
		if res.Issue != nil || err != nil {
			a.logSend(ctx, d, res, err)
		}
	}
}

// resumable reports an open issue the resume check acts on.
func (a *App) resumable(d digest.Digest, open *digest.Issue) bool {
	if open.Status == digest.StatusSending {
		return true
	}
	due := !open.ScheduledAt.IsZero() && !open.ScheduledAt.After(a.clock.Now())
	return due && (open.Status == digest.StatusApproved || (open.Status == digest.StatusDraft && !d.RequireApproval))
}

// resume acts on the digest's open issue if it is resumable; the caller
// holds the gate. It returns a zero SendResult when there was nothing to do.
func (a *App) resume(ctx context.Context, d digest.Digest) (SendResult, error) {
	open, err := a.Digests.OpenIssueHeader(ctx, d.Key)
	if errors.Is(err, digest.ErrNotFound) {
		return SendResult{}, nil
	}
	if err != nil {
		return SendResult{}, err
	}
	if !a.resumable(d, open) {
		return SendResult{}, nil
	}
	if open.Status == digest.StatusSending {
		a.Log.Debug("resuming send", "digest", d.Key, "issue", open.Number)
		return a.sendIssue(ctx, d, open)
	}
	// Rescheduled by staff to a time now past: this issue, brought up to
	// date if it is still a draft.
	a.Log.Info("sending issue rescheduled by staff", "digest", d.Key, "issue", open.Number, "at", open.ScheduledAt)
	iss := open
	if open.Status == digest.StatusDraft {
		a.fetchBeforeSend(ctx)
		if iss, _, err = a.Assemble(ctx, d); err != nil {
			return SendResult{Issue: open}, err
		}
		if iss.ID != open.ID {
			return SendResult{Issue: iss}, fmt.Errorf("digest %s: issue #%d changed while being rescheduled", d.Key, open.Number)
		}
	}
	if iss.IncludedCount == 0 {
		return SendResult{Issue: iss}, ErrNothingToSend
	}
	return a.sendIssue(ctx, d, iss)
}

// purge is the daily clean-up.
func (a *App) purge(ctx context.Context) {
	// Sign-ups never confirmed are forgotten after subscribers.pending_expiry.
	if n, err := a.Subscribers.PurgePending(ctx); err != nil {
		a.Log.Error("purge unconfirmed sign-ups", "err", err)
	} else if n > 0 {
		a.Log.Info("purged unconfirmed sign-ups", "count", n)
	}
	if err := a.Subscribers.PruneChanges(ctx); err != nil {
		a.Log.Error("prune the log of subscriber changes", "err", err)
	}
}
