package metrics_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/store"
	"github.com/haiphong/hpdigest/subscribers"
	"github.com/haiphong/hpdigest/web/metrics"
)

// One scrape of /metrics at a million readers, against the count the
// outbox already does for -delivery-status (Engine.Status) over the same
// rows, measured in the same run:
//
//	go test -run XXX -bench Scrape1M -benchtime 5x ./web/metrics
//
// The database holds 1M readers (2.04M events), a sent issue and an issue
// half-way through its send (1M outbox rows each): the worst case, since
// the outbox of an issue being sent is counted at every refresh.
func BenchmarkScrape1M(b *testing.B) {
	const readers = 1_000_000
	ctx := context.Background()
	db := seed1M(b, readers)
	src := metrics.Sources{
		DB:          db,
		Feeds:       feeds.NewStore(db),
		Digests:     digest.NewStore(db, nil),
		Subscribers: subscribers.NewStore(db),
		Schedules: func() []digest.Digest {
			return []digest.Digest{{Key: "weekly", Schedule: "0 8 * * FRI", Timezone: "Asia/Ho_Chi_Minh"}}
		},
		RateLimit: func() float64 { return 0 },
	}
	scrape := func(b *testing.B, m *metrics.Metrics) {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			b.Fatalf("scrape: %d", rec.Code)
		}
	}
	b.Run("cold", func(b *testing.B) { // a new snapshot: every query runs
		for i := 0; i < b.N; i++ {
			scrape(b, metrics.New(src, metrics.Options{}))
		}
	})
	b.Run("cached", func(b *testing.B) { // within MaxAge of the last read
		m := metrics.New(src, metrics.Options{MaxAge: time.Hour})
		scrape(b, m)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			scrape(b, m)
		}
	})
	b.Run("baseline-engine-status", func(b *testing.B) {
		e := deliver.NewDirEngine(db, b.TempDir(), nil)
		for i := 0; i < b.N; i++ {
			if s, err := e.Status(ctx, 2); err != nil || s.Total != readers {
				b.Fatalf("%+v %v", s, err)
			}
		}
	})
}

func seed1M(b *testing.B, n int) *sql.DB {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(filepath.Join(b.TempDir(), "1m.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := store.Migrate(ctx, db, app.Migrations()...); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < ?)
		INSERT INTO subscribers (email, name, language, themes, status, created_at, updated_at, status_at)
		SELECT 'reader'||i||'@example.org', 'Reader '||i, CASE i%3 WHEN 0 THEN 'en' ELSE 'vi' END, '',
			CASE WHEN i%50 = 0 THEN 'unsubscribed' WHEN i%97 = 0 THEN 'bounced' ELSE 'confirmed' END, 1, 1, 1 FROM c`,
		`INSERT INTO subscriber_events (subscriber_id, kind, detail, at) SELECT id, 'subscribed', '', 1 FROM subscribers`,
		`INSERT INTO subscriber_events (subscriber_id, kind, detail, at) SELECT id, 'confirmed', '', 2 FROM subscribers`,
		`INSERT INTO subscriber_events (subscriber_id, kind, detail, at) SELECT id, 'bounce', '550 5.1.1 no such user', 3 FROM subscribers WHERE id % 97 = 0`,
		`INSERT INTO subscriber_events (subscriber_id, kind, detail, at) SELECT id, 'unsubscribed', 'web', 3 FROM subscribers WHERE id % 50 = 0`,
		`INSERT INTO issues (digest, number, status, period_start_at, period_end_at, created_at, updated_at, sending_at, sent_at)
			VALUES ('weekly', 1, 'sent', 1, 2, 1, 1, 10, 20), ('weekly', 2, 'sending', 2, 3, 30, 30, 40, 0)`,
		`INSERT INTO delivery_jobs (issue_id, created_at, rows_complete_at, finished_at) VALUES (1, 10, 11, 20), (2, 40, 41, 0)`,
		`INSERT INTO deliveries (issue_id, subscriber_id, email, state, created_at, updated_at, sent_at)
			SELECT 1, id, email, CASE WHEN id%97 = 0 THEN 'failed' ELSE 'sent' END, 10, 20, 20 FROM subscribers`,
		`INSERT INTO deliveries (issue_id, subscriber_id, email, state, created_at, updated_at, sent_at)
			SELECT 2, id, email, CASE WHEN id%2 = 0 THEN 'sent' ELSE 'pending' END, 40, 50, CASE WHEN id%2 = 0 THEN 50 ELSE 0 END FROM subscribers`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 20)
		INSERT INTO feeds (name, url, language, created_at, last_success_at) SELECT 'Feed '||i, 'https://portal'||i||'.example.vn/rss', 'vi', 1, 100 FROM c`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 20000)
		INSERT INTO item_themes (item_id, themes, primary_theme, explanation, classified_at)
		SELECT i, CASE i%4 WHEN 0 THEN 'fdi' WHEN 1 THEN 'china,fdi' WHEN 2 THEN 'diaspora' ELSE '' END, 'fdi', '', 1 FROM c`,
	} {
		var args []any
		if strings.Contains(q, "?") { // the reader count
			args = append(args, n)
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
	}
	return db
}
