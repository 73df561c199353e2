package staff

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// BenchmarkChartPages renders the overview and history pages of a database
// with a million readers and 200 weekly issues (built by fillHistory), with
// and without their charts. The charts' data comes from the owners' running
// tallies, so the difference is what the charts cost. The one-off count of
// the newest issue's million-row outbox (kept once the send is finished) is
// reported as cold_totals.
//
//	go test ./web/staff -run '^$' -bench ChartPages -benchtime 10x
//
// (HPDIGEST_BENCH_READERS=small builds 20,000 readers, for a quick look.)
func BenchmarkChartPages(b *testing.B) {
	readers := 1_000_000
	if os.Getenv("HPDIGEST_BENCH_READERS") == "small" {
		readers = 20_000
	}
	a, h := benchStaff(b, feedServer(b).URL, "")
	ctx := context.Background()
	start := time.Now()
	fillHistory(b, a.DB, readers, 200, time.Now())
	b.Logf("built %d readers and 200 issues in %v", readers, time.Since(start).Round(time.Second))
	if _, err := a.DB.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	s := &session{account: account{Email: aliceEmail, Name: "Nguyễn Thị Lan"}}
	page := func(b *testing.B, fn handlerFunc, path string) {
		w := httptest.NewRecorder()
		fn(w, httptest.NewRequest(http.MethodGet, path, nil), s)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d\n%s", path, w.Code, w.Body.String())
		}
	}
	b.Run("cold_totals", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if _, err := a.DB.ExecContext(ctx, `DELETE FROM delivery_totals WHERE issue_id = (SELECT MAX(issue_id) FROM deliveries)`); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			page(b, h.history, "/staff/history")
		}
	})
	page(b, h.history, "/staff/history") // the finished sends' counts are kept from here on
	for _, p := range []struct {
		name string
		fn   handlerFunc
		path string
	}{{"overview", h.dashboard, "/staff/"}, {"history", h.history, "/staff/history"}} {
		b.Run(p.name+"_with_charts", func(b *testing.B) {
			h.noCharts = false
			for b.Loop() {
				page(b, p.fn, p.path)
			}
		})
		b.Run(p.name+"_without_charts", func(b *testing.B) {
			h.noCharts = true
			for b.Loop() {
				page(b, p.fn, p.path)
			}
		})
	}
	h.noCharts = false
}
