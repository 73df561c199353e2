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
// the send's outcomeWriter (one UPDATE a batch, each its own commit) in
// batches of 1, 5 (about what a send of 8 connections commits at once),
// 20 and 256 outcomes. It reports µs per outcome; the difference between
// batch sizes is the fixed cost of a commit.
//
//	go test ./digest/deliver -run '^$' -bench RecordOutcomes -benchtime 3x
func BenchmarkRecordOutcomes(b *testing.B) {
	const readers = 20000
	for _, size := range []int{1, 5, 20, 256} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			var took time.Duration
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
				now := e.now().Unix()
				batch := make([]result, 0, size)
				b.StartTimer()
				start := time.Now()
				for sid := int64(1); sid <= readers; sid++ {
					batch = append(batch, result{issueID: 1, sid: sid, state: StateSent, attempts: 1, code: 250,
						text: "2.0.0 Ok: queued as 4dLq3Z1xKQz9", relay: "smtp.haiphong.gov.vn",
						msgID: fmt.Sprintf("hpd.1.%d.9f86d081884c7d65@haiphong.gov.vn", sid), sentAt: now})
					if len(batch) == size || sid == readers {
						if err := w.write(batch); err != nil {
							b.Fatal(err)
						}
						batch = batch[:0]
					}
				}
				took += time.Since(start)
				b.StopTimer()
				w.close()
				var sent int
				if err := db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE issue_id = 1 AND state = 'sent' AND message_id <> ''`).Scan(&sent); err != nil || sent != readers {
					b.Fatalf("%d rows recorded as sent (%v), want %d", sent, err, readers)
				}
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(took.Microseconds())/float64(b.N*readers), "µs/outcome")
		})
	}
}
