package deliver

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"flag"
	"fmt"
	"net/smtp"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/internal/postfixtest"
	"github.com/haiphong/hpdigest/internal/sendbench"
	"github.com/haiphong/hpdigest/store"
)

var (
	benchN       = flag.Int("deliver.n", 10000, "messages per BenchmarkSend run (100000 for the full-size check)")
	benchWorkers = flag.Int("deliver.workers", 8, "SMTP connections in BenchmarkSend")
	benchSink    = flag.String("deliver.sink", "go", "sink for BenchmarkSend: go (in-process go-smtp) or postfix (smtp-sink)")
	benchDKIM    = flag.String("deliver.dkim", "", "sign in BenchmarkSend: rsa (2048) or ed25519; default none")
	benchProfile = flag.String("deliver.cpuprofile", "", "write a CPU profile of the engine's send alone (not the ceiling runs) to this file")
)

// BenchmarkSend sends N personalised messages through the engine (outbox in
// SQLite, recipients streamed from a SQLite table) to a loopback sink and,
// in the same run, measures the sink's ceiling: a bare pipelined client
// writing one pre-rendered message over the same number of connections.
// It is the engine's unit benchmark; cmd/hpdigest's BenchmarkSendNow
// measures the whole -send-now against a sink in its own process.
//
//	go test ./digest/deliver -run '^$' -bench Send -benchtime 1x [-deliver.n 100000] [-deliver.sink postfix]
//
// -deliver.cpuprofile f profiles the engine's send only (go tool pprof -top
// f); -cpuprofile would mix in the ceiling runs.
func BenchmarkSend(b *testing.B) {
	n, workers := *benchN, *benchWorkers
	port := benchSinkPort(b)
	dir := b.TempDir()
	tmpl := benchTemplate()
	var rate, ceil, peakRSS, peakHeap float64
	for i := 0; i < b.N; i++ {
		dbPath := filepath.Join(dir, fmt.Sprintf("bench%d.db", i))
		db := openBenchDB(b, dbPath, n)
		sample, _ := tmpl.compose(Recipient{SubscriberID: 1, Email: "u1@example.org", Name: "Người đọc 1"})
		eng0 := newEngine(nil, Config{}, nil)
		raw, _, _ := eng0.render(sample, 1, 1)

		ref := bareClient(b, port, workers, n/2, raw) // net/smtp, for reference
		cpu0 := cpuTime()
		c1 := ceiling(b, port, workers, n, raw)
		cpuCeil := cpuTime() - cpu0
		runtime.GC()
		resetPeakRSS()
		stopHeap := sampleHeap()
		cfg := Config{Host: "127.0.0.1", Port: port, TLS: "none", Workers: workers, PerConn: 1000, Timeout: 30 * time.Second}
		if *benchDKIM != "" {
			cfg.DKIM = benchDKIMConfig(b, *benchDKIM)
		}
		e := NewSMTPEngine(db, cfg, nil)
		if e.err != nil {
			b.Fatal(e.err)
		}
		if *benchProfile != "" {
			pf, err := os.Create(*benchProfile)
			if err != nil {
				b.Fatal(err)
			}
			defer pf.Close()
			if err := pprof.StartCPUProfile(pf); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		cpu1 := cpuTime()
		sum, err := e.Send(context.Background(), Job{IssueID: 1, Recipients: dbRecipients(db),
			Compose: func(_ context.Context, r Recipient) (*Message, error) { return tmpl.compose(r) }})
		el := time.Since(start)
		cpuEng := cpuTime() - cpu1
		if *benchProfile != "" {
			pprof.StopCPUProfile()
		}
		peakHeap = float64(stopHeap()) / (1 << 20)
		peakRSS = float64(readPeakRSS()) / (1 << 10)
		if err != nil || sum.Sent != n {
			b.Fatalf("%+v %v", sum, err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.Logf("live heap after the send: %.1f MB", float64(ms.HeapAlloc)/(1<<20))
		c2 := ceiling(b, port, workers, n, raw)
		rate = float64(n) / el.Seconds()
		ceil = (c1 + c2) / 2
		db.Close()
		os.Remove(dbPath)
		b.Logf("outcome commits: %d (%.1f rows each)", e.commits.Load(), float64(n)/float64(e.commits.Load()))
		b.Logf("process CPU per message (client + in-process sink, if any): engine %v, raw ceiling %v",
			cpuEng/time.Duration(n), cpuCeil/time.Duration(n))
		b.Logf("n=%d workers=%d sink=%s msg=%dB: engine %.0f msg/s (%.2fs), ceiling (pipelined bare client, before/after) %.0f / %.0f msg/s, ratio %.2f; net/smtp client %.0f msg/s (engine/net-smtp %.2f); peak RSS %.0f MB, peak heap %.0f MB",
			n, workers, *benchSink, len(raw), rate, el.Seconds(), c1, c2, rate/ceil, ref, rate/ref, peakRSS, peakHeap)
	}
	b.ReportMetric(rate, "msg/s")
	b.ReportMetric(ceil, "ceiling-msg/s")
	b.ReportMetric(rate/ceil, "ratio")
	b.ReportMetric(peakRSS, "peak-RSS-MB")
	b.ReportMetric(peakHeap, "peak-heap-MB")
}

// benchSinkPort starts the sink -deliver.sink names and returns its port.
func benchSinkPort(b *testing.B) int {
	if *benchSink == "postfix" {
		return postfixtest.Sink(b, "")
	}
	ts := newTestServer(b)
	ts.keep, ts.bare = false, true
	return ts.port
}

// ceiling is the pipelined bare client of internal/sendbench sending n
// copies of raw over `workers` connections of 1,000 messages each (the
// engine's cap here); it returns messages per second.
func ceiling(tb testing.TB, port, workers, n int, raw []byte) float64 {
	c := sendbench.Ceiling{Addr: "127.0.0.1:" + strconv.Itoa(port), Conns: workers, PerConn: 1000,
		From: "digest@haiphong.example", To: "u1@example.org", Message: raw}
	el, err := c.Run(n)
	if err != nil {
		tb.Fatal(err)
	}
	return sendbench.Rate(n, el)
}

// bareClient sends n copies of raw over `workers` net/smtp connections and
// returns messages per second.
func bareClient(tb testing.TB, port, workers, n int, raw []byte) float64 {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	start := time.Now()
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := smtp.Dial("127.0.0.1:" + strconv.Itoa(port))
			if err != nil {
				errs <- err
				return
			}
			defer c.Quit()
			sent := 0
			for left.Add(-1) >= 0 {
				if sent == 1000 { // same per-connection cap as the engine
					c.Quit()
					if c, err = smtp.Dial("127.0.0.1:" + strconv.Itoa(port)); err != nil {
						errs <- err
						return
					}
					sent = 0
				}
				if err := c.Mail("digest@haiphong.example"); err != nil {
					errs <- err
					return
				}
				if err := c.Rcpt("u1@example.org"); err != nil {
					errs <- err
					return
				}
				wc, err := c.Data()
				if err != nil {
					errs <- err
					return
				}
				wc.Write(raw)
				if err := wc.Close(); err != nil {
					errs <- err
					return
				}
				sent++
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	select {
	case err := <-errs:
		tb.Fatal(err)
	default:
	}
	return float64(n) / el.Seconds()
}

// openBenchDB makes a database with the outbox's schema and n readers.
func openBenchDB(b *testing.B, path string, n int) *sql.DB {
	db, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Migrate(context.Background(), db, Migrations()); err != nil {
		b.Fatal(err)
	}
	if err := seedSubscribers(db, n); err != nil {
		b.Fatal(err)
	}
	return db
}

func seedSubscribers(db *sql.DB, n int) error {
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS bench_subscribers (id INTEGER PRIMARY KEY, email TEXT, name TEXT, lang TEXT, tz TEXT)`); err != nil {
		return err
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	st, _ := tx.Prepare(`INSERT INTO bench_subscribers (id, email, name, lang, tz) VALUES (?, ?, ?, ?, ?)`)
	for i := 1; i <= n; i++ {
		lang := "vi"
		if i%3 == 0 {
			lang = "en"
		}
		if _, err := st.Exec(i, addr(int64(i)), fmt.Sprintf("Nguyễn Thị Người Đọc %d", i), lang, "Europe/Berlin"); err != nil {
			tx.Rollback()
			return err
		}
	}
	st.Close()
	return tx.Commit()
}

func dbRecipients(db *sql.DB) func(ctx context.Context, after int64, limit int) ([]Recipient, error) {
	return func(ctx context.Context, after int64, limit int) ([]Recipient, error) {
		rows, err := db.QueryContext(ctx, `SELECT id, email, name, lang, tz FROM bench_subscribers WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []Recipient
		for rows.Next() {
			var r Recipient
			if err := rows.Scan(&r.SubscriberID, &r.Email, &r.Name, &r.Language, &r.Timezone); err != nil {
				return nil, err
			}
			r.Themes = []string{"diaspora", "fdi"}
			out = append(out, r)
		}
		return out, rows.Err()
	}
}

// benchTmpl is a pre-rendered issue body per language, split at its
// placeholders once, and personalised per recipient by joining the pieces
// (render once per variant, personalise per recipient).
type benchTmpl struct{ text, html map[string][]string }

func benchTemplate() *benchTmpl {
	t := &benchTmpl{text: map[string][]string{}, html: map[string][]string{}}
	for _, lang := range []string{"vi", "en"} {
		var tx, h strings.Builder
		h.WriteString(`<html><body><table width="600" style="font-family:Arial,sans-serif">`)
		h.WriteString(`<tr><td style="padding:16px">Xin chào {{NAME}},</td></tr>`)
		for i := 0; i < 30; i++ {
			fmt.Fprintf(&h, `<tr><td style="padding:8px 16px;border-bottom:1px solid #eee"><a href="https://haiphong.example/i/%d?u={{TOKEN}}" style="color:#0b5394;font-weight:bold">Hải Phòng thu hút thêm vốn FDI vào khu công nghiệp %d</a><p style="margin:4px 0;color:#444">Kiều bào Hải Phòng ở nước ngoài đóng góp cho quê hương; hợp tác với Trung Quốc trong lĩnh vực logistics và cảng biển (%s).</p></td></tr>`, i, i, lang)
			fmt.Fprintf(&tx, "* Hải Phòng thu hút thêm vốn FDI vào khu công nghiệp %d\n  https://haiphong.example/i/%d?u={{TOKEN}}\n", i, i)
		}
		h.WriteString(`<tr><td><a href="https://haiphong.example/unsubscribe/{{TOKEN}}">Hủy đăng ký</a></td></tr></table></body></html>`)
		tx.WriteString("Hủy đăng ký: https://haiphong.example/unsubscribe/{{TOKEN}}\n")
		t.text[lang], t.html[lang] = splitPlaceholders("Xin chào {{NAME}},\n\n"+tx.String()), splitPlaceholders(h.String())
	}
	return t
}

// splitPlaceholders returns literal, name, literal, name, ..., literal.
func splitPlaceholders(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "{{")
		j := strings.Index(s, "}}")
		if i < 0 || j < i {
			return append(out, s)
		}
		out = append(out, s[:i], s[i+2:j])
		s = s[j+2:]
	}
}

func fill(parts []string, vals map[string]string) string {
	n := 0
	for i, p := range parts {
		if i%2 == 0 {
			n += len(p)
		} else {
			n += len(vals[p])
		}
	}
	var b strings.Builder
	b.Grow(n)
	for i, p := range parts {
		if i%2 == 0 {
			b.WriteString(p)
		} else {
			b.WriteString(vals[p])
		}
	}
	return b.String()
}

func (t *benchTmpl) compose(r Recipient) (*Message, error) {
	tok := fmt.Sprintf("%d.%x", r.SubscriberID, r.SubscriberID*2654435761)
	vals := map[string]string{"NAME": r.Name, "TOKEN": tok}
	lang := r.Language
	if lang == "" {
		lang = "vi"
	}
	return &Message{FromName: "Bản tin Hải Phòng", FromAddress: "digest@haiphong.example", To: r.Email, ToName: r.Name,
		Subject: "Bản tin Hải Phòng — tuần 12", Text: fill(t.text[lang], vals), HTML: fill(t.html[lang], vals),
		Headers: map[string]string{
			"List-Id":               "Hai Phong Digest <digest.haiphong.example>",
			"List-Unsubscribe":      "<https://haiphong.example/unsubscribe/" + tok + ">, <mailto:unsubscribe@haiphong.example?subject=" + tok + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		}, MessageIDDomain: "haiphong.example"}, nil
}

func benchDKIMConfig(tb testing.TB, kind string) DKIMConfig {
	var key any
	switch kind {
	case "rsa":
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	case "ed25519":
		_, key, _ = ed25519.GenerateKey(rand.Reader)
	default:
		tb.Fatalf("-deliver.dkim %q: want rsa or ed25519", kind)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	f := filepath.Join(tb.TempDir(), "dkim.pem")
	os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	return DKIMConfig{Domain: "haiphong.example", Selector: "bench", PrivateKeyFile: f}
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets the kernel's high-water mark of this process's RSS.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// readPeakRSS returns VmHWM in KiB (0 if unavailable).
func readPeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			v, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return v
		}
	}
	return 0
}

// sampleHeap samples the live heap until stopped and returns the peak in bytes.
func sampleHeap() func() uint64 {
	stop := make(chan struct{})
	res := make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				res <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-res }
}
