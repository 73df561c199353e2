package subscribers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// Benchmarks, each paired with a baseline measured in the same run:
//
//	go test -run XXX -bench . -benchtime 3x ./subscribers
//
// ImportCSV (validation, IDN, suppression check, events) against raw
// INSERTs of the same rows in one transaction; streaming recipients with
// ConfirmedAfter against one plain scan; Verify against a bare HMAC.

const benchRows = 5000

func benchCSV() string {
	var b strings.Builder
	b.WriteString("email,name,language,themes\n")
	for i := 0; i < benchRows; i++ {
		fmt.Fprintf(&b, "reader%d@Example%d.com,Người đọc %d,%s,fdi;china\n", i, i%50, i, []string{"vi", "en"}[i%2])
	}
	return b.String()
}

func BenchmarkImportCSV(b *testing.B) {
	data := benchCSV()
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openStore(b)
		b.StartTimer()
		rep, err := s.ImportCSV(ctx, strings.NewReader(data))
		if err != nil || rep.Added != benchRows {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}

func BenchmarkImportBaselineRawInsert(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openStore(b)
		b.StartTimer()
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < benchRows; j++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO subscribers (email, name, language, themes, status, created_at, updated_at, status_at) VALUES (?, ?, ?, ?, 'confirmed', 1, 1, 1)`,
				fmt.Sprintf("reader%d@example%d.com", j, j%50), fmt.Sprintf("Người đọc %d", j), []string{"vi", "en"}[j%2], "fdi china"); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}

func benchStore(b *testing.B) *Store {
	s := openStore(b)
	if _, err := s.ImportCSV(context.Background(), strings.NewReader(benchCSV())); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkConfirmedAfterStream(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, after := 0, int64(0)
		for {
			page, err := s.ConfirmedAfter(ctx, after, 500)
			if err != nil {
				b.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			n += len(page)
			after = page[len(page)-1].ID
		}
		if n != benchRows {
			b.Fatalf("streamed %d", n)
		}
	}
}

func BenchmarkConfirmedBaselineOneScan(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		all, err := s.ListAfter(ctx, 0, benchRows+1)
		var subs []Subscriber
		for _, sub := range all {
			if sub.Status == Confirmed {
				subs = append(subs, sub)
			}
		}
		if err != nil || len(subs) != benchRows {
			b.Fatalf("%d %v", len(subs), err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	tk, _ := NewTokens([]Key{testKey("k1")})
	tok := tk.Sign(PurposeUnsubscribe, 123456)
	for i := 0; i < b.N; i++ {
		if _, err := tk.Verify(tok, PurposeUnsubscribe); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyBaselineHMAC(b *testing.B) {
	key := []byte(testKey("k1").Secret)
	msg := []byte("hpdigest-token-v1\x00unsub\x00k1\x002n9c\x00t4x1kg")
	for i := 0; i < b.N; i++ {
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		m.Sum(nil)
	}
}

// searchRows is the size of the list the staff search benchmarks look in.
const searchRows = 100000

// searchStore holds searchRows readers with Vietnamese names.
func searchStore(b *testing.B) *Store {
	s := openStore(b)
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for j := 0; j < searchRows; j++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO subscribers (email, name, language, themes, status, created_at, updated_at, status_at) VALUES (?, ?, ?, '', 'confirmed', 1, 1, 1)`,
			fmt.Sprintf("reader%d@example%d.com", j, j%50), fmt.Sprintf("Nguyễn Văn Đức %d", j), []string{"vi", "en"}[j%2]); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkSearch is the staff table's query: a page of 200 matches of a
// name typed without marks, and the number of matches, among 100k readers.
// The baseline reads every reader and matches in Go, as a table that
// loads the whole list would.
//
//	go test ./subscribers -run '^$' -bench 'Search' -benchtime 5x -benchmem
func BenchmarkSearch(b *testing.B) {
	s := searchStore(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.Search(ctx, Search{Text: "duc 99", Limit: 200})
		if err != nil || res.Matched != 1111 || len(res.Rows) != 200 {
			b.Fatalf("%d matched, %d rows, %v", res.Matched, len(res.Rows), err)
		}
	}
}

func BenchmarkSearchBaselineListAll(b *testing.B) {
	s := searchStore(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		all, err := everyone(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		matched := 0
		for _, sub := range all {
			if strings.Contains(strings.ToLower(sub.Name), "đức 99") {
				matched++
			}
		}
		if matched != 1111 {
			b.Fatalf("%d matched", matched)
		}
	}
}

// BenchmarkCLIList prints the list of 100k readers (-subscribers) a page
// at a time; the baseline loads them all and lays out one table, as the
// command did before. Besides bytes allocated per listing it reports the
// most heap in use above where the listing started (peak-heap-MB) and how
// long the operator waits for the first line (first-write-ms).
//
//	go test ./subscribers -run '^$' -bench 'CLIList' -benchtime 5x
func BenchmarkCLIList(b *testing.B) {
	s := searchStore(b)
	benchPeakHeap(b, func(w io.Writer) error { return s.CLIList(context.Background(), w) })
}

func BenchmarkCLIListBaselineLoadAll(b *testing.B) {
	s := searchStore(b)
	benchPeakHeap(b, func(w io.Writer) error { return cliListLoadingAll(context.Background(), s, w) })
}

// firstWrite discards what is written and notes when the first write came.
type firstWrite struct{ at time.Time }

func (w *firstWrite) Write(p []byte) (int, error) {
	if w.at.IsZero() {
		w.at = time.Now()
	}
	return len(p), nil
}

// benchPeakHeap runs op b.N times, each from a collected heap, sampling
// the heap's objects (live or not yet swept) every millisecond; it
// reports the largest rise above the start as peak-heap-MB and the mean
// time from the start of op to its first write as first-write-ms.
func benchPeakHeap(b *testing.B, op func(io.Writer) error) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	b.ReportAllocs()
	var peak uint64
	var waited time.Duration
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		base := heap()
		done := make(chan struct{})
		var wg sync.WaitGroup
		most := base
		wg.Go(func() {
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					most = max(most, heap())
				}
			}
		})
		b.StartTimer()
		w, start := &firstWrite{}, time.Now()
		err := op(w)
		b.StopTimer()
		waited += w.at.Sub(start)
		close(done)
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, max(most, heap())-base)
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(waited.Milliseconds())/float64(b.N), "first-write-ms")
}
