package deliver

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/store"
	"github.com/haiphong/hpdigest/subscribers"
)

// BenchmarkSendStopCheck measures what the send-time check of unsubscribes
// costs: the same send of N messages with and without Job.Stopped backed
// by a real subscribers.StopWatch (100 readers unsubscribed while it
// watches), alternating, in one run, against the same sink.
//
//	go test ./digest/deliver -run '^$' -bench SendStopCheck -benchtime 1x [-deliver.n 10000] [-deliver.sink postfix]
func BenchmarkSendStopCheck(b *testing.B) {
	n, workers := *benchN, *benchWorkers
	port := benchSinkPort(b)
	dir := b.TempDir()
	tmpl := benchTemplate()
	ctx := context.Background()
	var rates [2][]float64 // without, with
	run := 0
	for i := 0; i < b.N; i++ {
		for round := 0; round < 2; round++ {
			for _, check := range []bool{false, true} {
				run++
				db, err := store.Open(filepath.Join(dir, fmt.Sprintf("stop%d.db", run)))
				if err != nil {
					b.Fatal(err)
				}
				if err := store.Migrate(ctx, db, Migrations(), subscribers.Migrations()); err != nil {
					b.Fatal(err)
				}
				if err := seedSubscribers(db, n); err != nil {
					b.Fatal(err)
				}
				job := Job{IssueID: 1, Recipients: dbRecipients(db),
					Compose: func(_ context.Context, r Recipient) (*Message, error) { return tmpl.compose(r) }}
				var w *subscribers.StopWatch
				if check {
					// Readers with ids past the recipients': every message is sent.
					if _, err := db.Exec(`INSERT INTO sqlite_sequence (name, seq) VALUES ('subscribers', ?)`, n); err != nil {
						b.Fatal(err)
					}
					subs := subscribers.NewStore(db)
					var ids []int64
					for k := 0; k < 200; k++ {
						s, err := subs.Add(ctx, subscribers.Subscriber{Email: fmt.Sprintf("reader%d@example.org", k)})
						if err != nil {
							b.Fatal(err)
						}
						ids = append(ids, s.ID)
					}
					if w, err = subs.WatchStops(ctx, nil); err != nil {
						b.Fatal(err)
					}
					for _, id := range ids[:100] {
						if err := subs.Unsubscribe(ctx, id, "bench"); err != nil {
							b.Fatal(err)
						}
					}
					job.Stopped = w.Stopped
				}
				e := NewSMTPEngine(db, Config{Host: "127.0.0.1", Port: port, TLS: "none", Workers: workers, PerConn: 1000, Timeout: 30 * time.Second}, nil)
				start := time.Now()
				sum, err := e.Send(ctx, job)
				el := time.Since(start)
				if w != nil {
					w.Close()
				}
				db.Close()
				if err != nil || sum.Sent != n {
					b.Fatalf("%+v %v", sum, err)
				}
				k := 0
				if check {
					k = 1
				}
				rates[k] = append(rates[k], float64(n)/el.Seconds())
			}
		}
	}
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	without, with := mean(rates[0]), mean(rates[1])
	b.Logf("n=%d workers=%d sink=%s: without the check %.0f msg/s %v, with it %.0f msg/s %v; ratio with/without %.3f",
		n, workers, *benchSink, without, rates[0], with, rates[1], with/without)
	b.ReportMetric(with/without, "ratio")
}
