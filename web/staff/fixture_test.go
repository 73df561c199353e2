package staff

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// fillHistory writes a few years of a digest's life straight into the
// database, as the owning packages lay it out (their triggers keep the
// tallies): readers signing up, unsubscribing and bouncing; weekly issues
// sent to them, the newest with its whole outbox and the older ones with
// only their counts (as after retention folds an outbox); a month of feed
// fetches. It is how the charts are tested and measured at scale: a million
// readers cannot be added one by one.
func fillHistory(tb testing.TB, db *sql.DB, readers, issues int, now time.Time) {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(17, 2026))
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	prep := func(q string) *sql.Stmt {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			tb.Fatal(err)
		}
		return st
	}
	must := func(_ sql.Result, err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	zones := []struct {
		name   string
		weight float64
	}{{"", 0.5}, {"Asia/Tokyo", 0.12}, {"Asia/Seoul", 0.08}, {"Europe/Berlin", 0.06}, {"America/New_York", 0.05},
		{"Australia/Sydney", 0.04}, {"Europe/Warsaw", 0.03}, {"Asia/Taipei", 0.03}, {"Europe/Paris", 0.03},
		{"America/Los_Angeles", 0.03}, {"Europe/London", 0.03}}
	zone := func() string {
		x := rng.Float64()
		for _, z := range zones {
			if x < z.weight {
				return z.name
			}
			x -= z.weight
		}
		return ""
	}
	const span = 2 * 365 * 24 * time.Hour
	sub := prep(`INSERT INTO subscribers (id, email, language, status, timezone, created_at, updated_at, confirmed_at, status_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	event := prep(`INSERT INTO subscriber_events (subscriber_id, kind, detail, at) VALUES (?, ?, ?, ?)`)
	type reader struct {
		id          int64
		email       string
		confirmedAt time.Time
	}
	var confirmed []reader
	for i := 1; i <= readers; i++ {
		// More sign-ups lately: the list grows.
		joined := now.Add(-time.Duration(math.Pow(rng.Float64(), 1.6) * float64(span)))
		lang := "vi"
		if rng.Float64() < 0.35 {
			lang = "en"
		}
		status, statusAt, confirmedAt := "confirmed", joined, joined
		switch x := rng.Float64(); {
		case x < 0.02:
			status, confirmedAt = "pending", time.Time{}
		case x < 0.09:
			status, statusAt = "unsubscribed", joined.Add(time.Duration(rng.Float64()*float64(now.Sub(joined))))
		case x < 0.12:
			status, statusAt = "bounced", joined.Add(time.Duration(rng.Float64()*float64(now.Sub(joined))))
		}
		var conf int64
		if !confirmedAt.IsZero() {
			conf = confirmedAt.Unix()
		}
		email := fmt.Sprintf("reader%d@example.org", i)
		must(sub.ExecContext(ctx, i, email, lang, status, zone(), joined.Unix(), statusAt.Unix(), conf, statusAt.Unix()))
		if conf > 0 {
			must(event.ExecContext(ctx, i, "confirmed", "", conf))
		}
		switch status {
		case "confirmed":
			confirmed = append(confirmed, reader{int64(i), email, confirmedAt})
		case "unsubscribed":
			detail := "one-click (RFC 8058)"
			if rng.Float64() < 0.03 {
				detail = "complaint (feedback report)"
			}
			must(event.ExecContext(ctx, i, "unsubscribed", detail, statusAt.Unix()))
		case "bounced":
			must(event.ExecContext(ctx, i, "bounce", "1/1: 550 no such user", statusAt.Unix()))
			must(event.ExecContext(ctx, i, "bounced", "550 no such user", statusAt.Unix()))
		}
	}

	// Weekly issues, the newest sent yesterday.
	issue := prep(`INSERT INTO issues (digest, number, status, period_start_at, period_end_at, created_at, updated_at, sending_at, sent_at)
		VALUES ('weekly', ?, 'sent', ?, ?, ?, ?, ?, ?)`)
	item := prep(`INSERT INTO issue_items (issue_id, item_id, theme, position, included) VALUES (?, ?, ?, ?, ?)`)
	job := prep(`INSERT INTO delivery_jobs (issue_id, created_at, rows_complete_at, finished_at) VALUES (?, ?, ?, ?)`)
	totals := prep(`INSERT INTO delivery_totals (issue_id, finished_at, total, sent, failed, retry, skipped, pending, rejected)
		VALUES (?, ?, ?, ?, ?, 0, ?, 0, ?)`)
	var first int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM issues WHERE digest = 'weekly'`).Scan(&first); err != nil {
		tb.Fatal(err)
	}
	themes := []string{"diaspora", "fdi", "china", "other"}
	itemID := int64(1 << 40)
	var lastIssue int64
	for k := issues - 1; k >= 0; k-- {
		at := now.Add(-24*time.Hour - time.Duration(k)*7*24*time.Hour)
		res, err := issue.ExecContext(ctx, first+issues-1-k, at.Add(-7*24*time.Hour).Unix(), at.Add(-time.Hour).Unix(),
			at.Add(-24*time.Hour).Unix(), at.Unix(), at.Unix(), at.Add(time.Hour).Unix())
		if err != nil {
			tb.Fatal(err)
		}
		id, _ := res.LastInsertId()
		lastIssue = id
		for pos := 1; pos <= 18; pos++ {
			itemID++
			th := themes[rng.IntN(len(themes))]
			must(item.ExecContext(ctx, id, itemID, th, pos, th != "other" && rng.Float64() < 0.8))
		}
		finished := at.Add(time.Hour).Unix()
		must(job.ExecContext(ctx, id, at.Unix(), at.Unix(), finished))
		if k > 0 {
			// An older issue: its outbox folded into counts.
			n := 0
			for _, r := range confirmed {
				if r.confirmedAt.Before(at) {
					n++
				}
			}
			failed := n / 150
			must(totals.ExecContext(ctx, id, finished, n, n-failed, failed, 0, failed/2))
		}
	}
	// The newest issue's outbox, row by row.
	delivery := prep(`INSERT INTO deliveries (issue_id, subscriber_id, email, state, smtp_code, last_error, created_at, updated_at, sent_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	at := now.Add(-24 * time.Hour).Unix()
	for _, r := range confirmed {
		state, code, lastErr, sentAt := "sent", 250, "", at
		if rng.Float64() < 0.006 {
			state, code, lastErr, sentAt = "failed", 550, "RCPT TO: 550 5.1.1 no such user", 0
		}
		must(delivery.ExecContext(ctx, lastIssue, r.id, r.email, state, code, lastErr, at, at, sentAt))
	}

	// A month of fetches of a dozen feeds, a few failing now and then.
	day := prep(`INSERT INTO feed_days (feed_id, day, ok, failed, new_items) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (feed_id, day) DO UPDATE SET ok = excluded.ok, failed = excluded.failed, new_items = excluded.new_items`)
	for f := int64(1); f <= 12; f++ {
		for d := 0; d < 30; d++ {
			failed := 0
			if rng.Float64() < 0.08 {
				failed = 1 + rng.IntN(20)
			}
			must(day.ExecContext(ctx, 1000+f, now.Add(-time.Duration(d)*24*time.Hour).Unix()/86400, 96-failed, failed, rng.IntN(15)))
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}
