package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/subscribers"
)

// finishedMaxAge is how long the outbox counts of a finished send are
// reused: they change only when its rows are sent again (finished_at is
// reset then) or when a later bounce report is filed against a row.
const finishedMaxAge = 10 * time.Minute

// sendRateWindow is the window of hpdigest_send_rate_per_second.
const sendRateWindow = time.Minute

// dbCollector emits the metrics read from the database, from a snapshot
// refreshed at most once per maxAge.
type dbCollector struct {
	src     Sources
	maxAge  time.Duration
	started time.Time

	mu     sync.Mutex
	snap   *snapshot
	outbox map[int64]cachedOutbox // by issue id
	errors int
}

type cachedOutbox struct {
	counts     deliver.OutboxCounts
	finishedAt time.Time
	at         time.Time
}

// snapshot is one read of the database.
type snapshot struct {
	at      time.Time
	took    time.Duration
	feeds   []feeds.FeedStat
	digests []digest.DigestStat
	outbox  map[string]deliver.OutboxCounts  // by digest: its latest mailed issue
	reports map[string]deliver.OutcomeCounts // by digest: reports filed since on that issue's deliveries
	sending map[string]bool                  // by digest: that issue is still going out
	themes  map[string]int
	subs    []subscribers.StatusCount
	events  subscribers.EventCounts
}

func newDBCollector(src Sources, maxAge time.Duration) *dbCollector {
	return &dbCollector{src: src, maxAge: maxAge, started: time.Now(), outbox: map[int64]cachedOutbox{}}
}

var (
	descFeedSince     = desc("hpdigest_feed_seconds_since_success", "Seconds since the feed was last fetched successfully (since it was added, if never).", "feed")
	descFeedErrors    = desc("hpdigest_feed_consecutive_errors", "Consecutive failed fetches of the feed.", "feed")
	descFeedEnabled   = desc("hpdigest_feed_enabled", "1 if the feed is polled, 0 once disabled after repeated failures.", "feed")
	descItems         = desc("hpdigest_items", "Stored items by theme (an item with several themes counts in each).", "theme")
	descIssues        = desc("hpdigest_issues", "Issues by digest and status.", "digest", "status")
	descLastSent      = desc("hpdigest_digest_last_sent_timestamp_seconds", "When the digest's newest issue finished sending (unix time).", "digest")
	descSendDue       = desc("hpdigest_digest_send_due_timestamp_seconds", "The first scheduled send time after the digest's last issue went out (unix time): in the past by more than a send takes means a scheduled send was missed.", "digest")
	descDeliveries    = desc("hpdigest_issue_deliveries", "Outbox rows of the digest's newest mailed issue, by state (pending, sent, retry, failed = bounced at SMTP time, skipped).", "digest", "state")
	descReports       = desc("hpdigest_issue_reports", "Deliveries of the digest's newest mailed issue that mail came back about after the relay accepted them, by kind (hard_bounce, soft_bounce, complaint; each delivery once per kind).", "digest", "kind")
	descSendRate      = desc("hpdigest_send_rate_per_second", "Messages of the digest's newest issue sent per second over the last minute.", "digest")
	descRateLimit     = desc("hpdigest_send_rate_limit_per_second", "The configured sending limit (0: none).")
	descSubscribers   = desc("hpdigest_subscribers", "Subscribers by status and language.", "status", "language")
	descEvents        = desc("hpdigest_subscriber_events", "Recorded reader events by kind (bounce, complaint, unsubscribe); forgetting a reader removes theirs, and retention.reader_events the old ones.", "kind")
	descBackupLast    = desc("hpdigest_backup_last_success_timestamp_seconds", "When the newest scheduled backup was taken (unix time).")
	descBackupFails   = desc("hpdigest_backup_failures_total", "Scheduled backups that failed since the daemon started.")
	descHeartbeat     = desc("hpdigest_scheduler_heartbeat_timestamp_seconds", "The daemon's scheduler's last heartbeat (unix time).")
	descRefresh       = desc("hpdigest_metrics_refresh_seconds", "How long the last read of the database for these metrics took.")
	descRefreshErrors = desc("hpdigest_metrics_refresh_errors_total", "Reads of the database for these metrics that failed (the previous values are served).")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// Describe sends nothing: the collector is unchecked (its label values
// come from the database).
func (c *dbCollector) Describe(chan<- *prometheus.Desc) {}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if c.snap == nil || time.Since(c.snap.at) >= c.maxAge {
		c.refreshLocked(context.Background())
	}
	s, errs := c.snap, c.errors
	c.mu.Unlock()

	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descRefresh, s.took.Seconds())
	ch <- prometheus.MustNewConstMetric(descRefreshErrors, prometheus.CounterValue, float64(errs))
	now := time.Now()
	for _, f := range s.feeds {
		since := f.LastSuccessAt
		if since.IsZero() {
			since = f.CreatedAt
		}
		gauge(descFeedSince, now.Sub(since).Seconds(), f.Name)
		gauge(descFeedErrors, float64(f.ErrorCount), f.Name)
		gauge(descFeedEnabled, boolValue(f.Enabled), f.Name)
	}
	for theme, n := range s.themes {
		gauge(descItems, float64(n), theme)
	}
	schedules := map[string]digest.Digest{}
	if c.src.Schedules != nil {
		for _, d := range c.src.Schedules() {
			schedules[d.Key] = d
		}
	}
	for _, d := range s.digests {
		for status, n := range d.ByStatus {
			gauge(descIssues, float64(n), d.Digest, status)
		}
		if !d.LastSentAt.IsZero() {
			gauge(descLastSent, float64(d.LastSentAt.Unix()), d.Digest)
		}
		if o, ok := s.outbox[d.Digest]; ok {
			for _, state := range []string{deliver.StatePending, deliver.StateSent, deliver.StateRetry, deliver.StateFailed, deliver.StateSkipped} {
				gauge(descDeliveries, float64(o.ByState[state]), d.Digest, state)
			}
			rate := 0.0
			if s.sending[d.Digest] {
				rate = float64(o.SentSince) / sendRateWindow.Seconds()
			}
			gauge(descSendRate, rate, d.Digest)
		}
		if r, ok := s.reports[d.Digest]; ok {
			gauge(descReports, float64(r.HardBounces), d.Digest, "hard_bounce")
			gauge(descReports, float64(r.SoftBounces), d.Digest, "soft_bounce")
			gauge(descReports, float64(r.Complaints), d.Digest, "complaint")
		}
	}
	for key, d := range schedules {
		if due, ok := c.sendDue(d, s.digests); ok {
			gauge(descSendDue, float64(due.Unix()), key)
		}
	}
	if c.src.RateLimit != nil {
		gauge(descRateLimit, c.src.RateLimit())
	}
	for _, sc := range s.subs {
		gauge(descSubscribers, float64(sc.N), sc.Status, sc.Language)
	}
	gauge(descEvents, float64(s.events.Bounces), "bounce")
	gauge(descEvents, float64(s.events.Complaints), "complaint")
	gauge(descEvents, float64(s.events.Unsubscribes), "unsubscribe")
	if b, ok := c.backups(); ok {
		if !b.LastSuccess.IsZero() {
			gauge(descBackupLast, float64(b.LastSuccess.Unix()))
		}
		ch <- prometheus.MustNewConstMetric(descBackupFails, prometheus.CounterValue, float64(b.Failures))
	}
	if c.src.Heartbeat != nil {
		if t := c.src.Heartbeat(); !t.IsZero() {
			gauge(descHeartbeat, float64(t.Unix()))
		}
	}
}

func (c *dbCollector) backups() (BackupState, bool) {
	if c.src.Backups == nil {
		return BackupState{}, false
	}
	return c.src.Backups()
}

// sendDue is the first time the digest's send schedule fired after its
// newest issue started going out (or, with none yet, after its first issue
// was made or the daemon started).
func (c *dbCollector) sendDue(d digest.Digest, stats []digest.DigestStat) (time.Time, bool) {
	spec := d.Schedule
	if d.Timezone != "" {
		spec = "CRON_TZ=" + d.Timezone + " " + spec
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return time.Time{}, false
	}
	base := c.started
	for _, st := range stats {
		if st.Digest != d.Key {
			continue
		}
		switch {
		case !st.LastSendingAt.IsZero():
			base = st.LastSendingAt
		case !st.FirstCreatedAt.IsZero() && st.FirstCreatedAt.Before(base):
			base = st.FirstCreatedAt
		}
	}
	return sched.Next(base), true
}

func (c *dbCollector) refresh(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshLocked(ctx)
}

// refreshLocked reads a new snapshot; on an error the previous values stay
// (and the error is counted and logged).
func (c *dbCollector) refreshLocked(ctx context.Context) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := c.read(ctx, start)
	if err != nil {
		c.errors++
		c.src.Log.Warn("metrics: read the database", "err", err)
		if c.snap == nil {
			c.snap = &snapshot{}
		}
		c.snap.at = start
		return
	}
	s.took = time.Since(start)
	c.snap = s
}

func (c *dbCollector) read(ctx context.Context, now time.Time) (*snapshot, error) {
	s := &snapshot{at: now, outbox: map[string]deliver.OutboxCounts{}, sending: map[string]bool{}, reports: map[string]deliver.OutcomeCounts{}}
	var err error
	if s.feeds, err = c.src.Feeds.FeedStats(ctx); err != nil {
		return nil, err
	}
	if s.digests, err = c.src.Digests.Stats(ctx); err != nil {
		return nil, err
	}
	if s.themes, err = c.src.Digests.ThemeCounts(ctx); err != nil {
		return nil, err
	}
	if s.subs, err = c.src.Subscribers.CountByStatus(ctx); err != nil {
		return nil, err
	}
	if s.events, err = c.src.Subscribers.CountEvents(ctx); err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, d := range s.digests {
		if d.LatestMailedID == 0 {
			continue
		}
		seen[d.LatestMailedID] = true
		o, finished, err := c.outboxCounts(ctx, d.LatestMailedID, now)
		if err != nil {
			return nil, err
		}
		s.outbox[d.Digest] = o
		s.sending[d.Digest] = !finished
		// Reports keep coming for weeks after the send: read each time.
		if s.reports[d.Digest], err = deliver.ReportCounts(ctx, c.src.DB, d.LatestMailedID); err != nil {
			return nil, err
		}
	}
	for id := range c.outbox {
		if !seen[id] {
			delete(c.outbox, id)
		}
	}
	return s, nil
}

// outboxCounts counts an issue's outbox rows: each time while its send is
// going on, and once per finishedMaxAge after it finished.
func (c *dbCollector) outboxCounts(ctx context.Context, issueID int64, now time.Time) (deliver.OutboxCounts, bool, error) {
	finishedAt, err := deliver.JobFinishedAt(ctx, c.src.DB, issueID)
	if err != nil {
		return deliver.OutboxCounts{}, false, err
	}
	finished := !finishedAt.IsZero()
	if cached, ok := c.outbox[issueID]; ok && finished && cached.finishedAt.Equal(finishedAt) && now.Sub(cached.at) < finishedMaxAge {
		return cached.counts, true, nil
	}
	counts, err := deliver.CountOutbox(ctx, c.src.DB, issueID, now.Add(-sendRateWindow))
	if err != nil {
		return counts, finished, err
	}
	c.outbox[issueID] = cachedOutbox{counts: counts, finishedAt: finishedAt, at: now}
	return counts, finished, nil
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
