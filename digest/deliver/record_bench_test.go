package deliver

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkRecordOutcomes measures what recording a sent message costs
// the recorder: the outcomes of an issue to 20,000 readers written by
// the send's outcomeWriter in batches of 1, 5 (about what a send of 8
// connections commits at once), 20, 32 and 256 outcomes. The writer
// records a batch of up to maxRowsPerUpdate (32) outcomes in one UPDATE,
// its own commit, and splits a larger batch into UPDATEs of 32 (256: eight
// commits). Up to 32 the difference between batch sizes is the fixed cost
// of a commit; 256 against 32 is what a bigger batch saves with as many
// commits. It reports µs per outcome and outcomes per commit.
//
//	go test ./digest/deliver -run '^$' -bench RecordOutcomes -benchtime 3x
func BenchmarkRecordOutcomes(b *testing.B) {
	const readers = 20000
	now := time.Now().Unix()
	results := make([]result, readers)
	for i := range results {
		sid := int64(i + 1)
		results[i] = result{issueID: 1, sid: sid, state: StateSent, attempts: 1, code: 250,
			text: "2.0.0 Ok: queued as 4dLq3Z1xKQz9", relay: "smtp.haiphong.gov.vn",
			msgID: fmt.Sprintf("<hpd.1.%d.9f86d081884c7d65@haiphong.gov.vn>", sid), sentAt: now}
	}
	for _, size := range []int{1, 5, 20, maxRowsPerUpdate, 256} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			var took time.Duration
			var commits int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				db := openBenchDB(b, filepath.Join(b.TempDir(), "hp.db"), readers)
				e := NewSMTPEngine(db, Config{Host: "smtp.haiphong.gov.vn"}, nil)
				ctx := context.Background()
				if err := e.createRows(ctx, Job{IssueID: 1, Recipients: dbRecipients(db)}); err != nil {
					b.Fatal(err)
				}
				w, err := e.newOutcomeWriter()
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				for rest := results; len(rest) > 0; {
					n := min(size, len(rest))
					if err := w.write(rest[:n]); err != nil {
						b.Fatal(err)
					}
					rest = rest[n:]
				}
				took += time.Since(start)
				b.StopTimer()
				commits += e.commits.Load()
				w.close()
				var sent int
				if err := db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE issue_id = 1 AND state = 'sent' AND message_id <> ''`).Scan(&sent); err != nil || sent != readers {
					b.Fatalf("%d rows recorded as sent (%v), want %d", sent, err, readers)
				}
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(took.Microseconds())/float64(b.N*readers), "µs/outcome")
			b.ReportMetric(float64(b.N*readers)/float64(commits), "outcomes/commit")
		})
	}
}
