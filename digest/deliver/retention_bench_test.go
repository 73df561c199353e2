package deliver

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/internal/clock"
)

var (
	retentionReaders = flag.Int("retention.readers", 100000, "readers per issue in BenchmarkRetentionSize")
	retentionWeeks   = flag.Int("retention.weeks", 52, "weekly issues in BenchmarkRetentionSize")
	retentionKeep    = flag.Duration("retention.outbox", 180*24*time.Hour, "retention.outbox in BenchmarkRetentionSize")
)

// BenchmarkRetentionSize compares the database after a year of weekly
// issues (-retention.weeks) to -retention.readers readers kept whole and
// with the outbox of issues older than -retention.outbox folded after each
// send, measured in the same run:
//
//	go test ./digest/deliver -run '^$' -bench RetentionSize -benchtime 1x
//
// Mailing 5.2 million messages would take the better part of an hour, so
// each issue's outbox is made by the engine's own code without SMTP: the
// rows as a send creates them (createRows), every outcome recorded as the
// workers record it (outcomeWriter: 98.5% accepted with the relay's reply
// and a Message-ID, 1% refused at RCPT, 0.5% skipped), the send marked
// finished with its counts (markFinished), and the mail that comes back
// later filed on the rows (RecordOutcome: 0.6% hard bounces, 1% soft,
// 0.05% complaints). The readers' table stands in for the subscribers.
func BenchmarkRetentionSize(b *testing.B) {
	for range b.N {
		kept := retentionRun(b, false)
		folded := retentionRun(b, true)
		b.ReportMetric(kept.size/1e6, "MB_kept")
		b.ReportMetric(folded.size/1e6, "MB_retention")
		b.ReportMetric(folded.vacuumed/1e6, "MB_retention_vacuumed")
		b.ReportMetric(kept.size/folded.size, "ratio")
		b.ReportMetric(kept.size/folded.vacuumed, "ratio_vacuumed")
		b.Logf("%d weekly issues to %d readers: %.0f MB kept whole (%d outbox rows, %s); with retention.outbox = %s: %.0f MB (%d rows, %s), %.0f MB after -vacuum (%s)",
			*retentionWeeks, *retentionReaders, kept.size/1e6, kept.rows, kept.took.Round(time.Second), *retentionKeep,
			folded.size/1e6, folded.rows, folded.took.Round(time.Second), folded.vacuumed/1e6, folded.vacuumTook.Round(time.Millisecond))
	}
}

type retentionResult struct {
	size, vacuumed   float64 // bytes
	rows             int64
	took, vacuumTook time.Duration
}

func retentionRun(b *testing.B, fold bool) retentionResult {
	b.Helper()
	start := time.Now()
	path := filepath.Join(b.TempDir(), "hp.db")
	db := openBenchDB(b, path, *retentionReaders)
	defer db.Close()
	clk := clock.NewManual(time.Date(2026, 1, 2, 1, 0, 0, 0, time.UTC))
	e := NewSMTPEngine(db, Config{Host: "smtp.haiphong.gov.vn"}, nil)
	e.SetClock(clk)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	for week := 1; week <= *retentionWeeks; week++ {
		issue := int64(week)
		if err := e.createRows(ctx, Job{IssueID: issue, Recipients: dbRecipients(db)}); err != nil {
			b.Fatal(err)
		}
		w, err := e.newOutcomeWriter()
		if err != nil {
			b.Fatal(err)
		}
		batch := make([]result, 0, 1024)
		for sid := int64(1); sid <= int64(*retentionReaders); sid++ {
			batch = append(batch, outcomeOf(issue, sid, rng, clk.Now()))
			if len(batch) == cap(batch) || sid == int64(*retentionReaders) {
				if err := w.write(batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		w.close()
		if err := e.markFinished(ctx, issue); err != nil {
			b.Fatal(err)
		}
		for sid := int64(1); sid <= int64(*retentionReaders); sid++ {
			kind := ""
			switch p := rng.IntN(10000); {
			case p < 60:
				kind = OutcomeHardBounce
			case p < 160:
				kind = OutcomeSoftBounce
			case p < 165:
				kind = OutcomeComplaint
			default:
				continue
			}
			o := Outcome{Kind: kind, Status: "5.1.1", Reason: "550 5.1.1 <u@example.net>: Recipient address rejected: User unknown in virtual mailbox table",
				ReportingMTA: "mail.haiphong.gov.vn", RemoteMTA: "mx1.example.net", FoundBy: FoundByVERP,
				ReportID: fmt.Sprintf("<%d.%d.dsn@mail.haiphong.gov.vn>", issue, sid), At: clk.Now().Add(time.Hour)}
			if _, err := e.RecordOutcome(ctx, Delivery{IssueID: issue, SubscriberID: sid}, o); err != nil {
				b.Fatal(err)
			}
		}
		if fold {
			if _, err := e.FoldOutbox(ctx, clk.Now().Add(-*retentionKeep)); err != nil {
				b.Fatal(err)
			}
		}
		clk.Advance(7 * 24 * time.Hour)
	}
	res := retentionResult{took: time.Since(start)}
	if err := db.QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&res.rows); err != nil {
		b.Fatal(err)
	}
	res.size = fileSize(b, db, path)
	if fold {
		t := time.Now()
		if _, err := db.Exec(`VACUUM`); err != nil {
			b.Fatal(err)
		}
		res.vacuumTook = time.Since(t)
		res.vacuumed = fileSize(b, db, path)
	}
	return res
}

// outcomeOf is what the workers record for one reader of an issue.
func outcomeOf(issue, sid int64, rng *rand.Rand, now time.Time) result {
	switch p := rng.IntN(1000); {
	case p < 10:
		return result{issueID: issue, sid: sid, state: StateFailed, attempts: 1, code: 550, text: "5.1.1 <" + addr(sid) + ">: Recipient address rejected: User unknown",
			errMsg: "RCPT TO: 550 5.1.1 <" + addr(sid) + ">: Recipient address rejected: User unknown", relay: "smtp.haiphong.gov.vn"}
	case p < 15:
		return result{issueID: issue, sid: sid, state: StateSkipped, errMsg: "unsubscribed, paused or bounced before the message left"}
	}
	return result{issueID: issue, sid: sid, state: StateSent, attempts: 1, code: 250,
		text: fmt.Sprintf("2.0.0 Ok: queued as 4X%010X", rng.Uint64()&0xFFFFFFFFFF), relay: "smtp.haiphong.gov.vn",
		msgID: fmt.Sprintf("<hpd.%d.%d.%016x@haiphong.gov.vn>", issue, sid, rng.Uint64()), sentAt: now.Unix()}
}

// fileSize checkpoints the WAL into the database and returns its size.
func fileSize(b *testing.B, db *sql.DB, path string) float64 {
	b.Helper()
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return float64(st.Size())
}
