package deliver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkSendDeliverability measures what VERP and DKIM cost: the same
// send as BenchmarkSend (N personalised messages, outbox and recipients in
// SQLite, -deliver.workers connections) to the same sink, in one run. The
// sends without and with VERP alternate (ABBA), four of each; then one each with
// VERP and DKIM (Ed25519, RSA-2048, both keys signing). A bare net/smtp
// client writing one pre-rendered message, before and after, is the
// reference.
//
//	go test ./digest/deliver -run '^$' -bench SendDeliverability -benchtime 1x -deliver.sink postfix [-deliver.n 10000]
func BenchmarkSendDeliverability(b *testing.B) {
	n, workers := *benchN, *benchWorkers
	port := benchSinkPort(b)
	tmpl := benchTemplate()
	dir := b.TempDir()
	rsaCfg, edCfg := benchDKIMConfig(b, "rsa"), benchDKIMConfig(b, "ed25519")
	dual := DKIMConfig{Domain: "haiphong.example", Keys: []DKIMKey{
		{Selector: "r", Algorithm: "rsa", PrivateKeyFile: rsaCfg.PrivateKeyFile},
		{Selector: "e", Algorithm: "ed25519", PrivateKeyFile: edCfg.PrivateKeyFile}}}
	verp, err := NewVERP([]VERPKey{{Secret: "0123456789abcdef0123456789abcdef-bench"}})
	if err != nil {
		b.Fatal(err)
	}
	sample, _ := tmpl.compose(Recipient{SubscriberID: 1, Email: "u1@example.org", Name: "Người đọc 1"})
	raw, _, _ := newEngine(nil, Config{}, nil).render(sample, 1, 1)

	type variant struct {
		name string
		verp bool
		dkim DKIMConfig
	}
	plain, withVERP := variant{"plain", false, DKIMConfig{}}, variant{"verp", true, DKIMConfig{}}
	run := []variant{plain, withVERP, withVERP, plain, plain, withVERP, withVERP, plain, // ABBA: a drift in the machine's load hits both alike
		{"verp+ed25519", true, edCfg}, {"verp+rsa2048", true, rsaCfg}, {"verp+rsa2048+ed25519", true, dual}}
	sum := map[string]float64{}
	cpuSum := map[string]time.Duration{}
	count := map[string]int{}
	var ref float64
	for i := 0; i < b.N; i++ {
		ref += bareClient(b, port, workers, n, raw) / 2
		for j, v := range run {
			dbPath := filepath.Join(dir, fmt.Sprintf("bench%d-%d.db", i, j))
			db := openBenchDB(b, dbPath, n)
			cfg := Config{Host: "127.0.0.1", Port: port, TLS: "none", Workers: workers, PerConn: 1000, Timeout: 30 * time.Second,
				EnvelopeFrom: "bounces@haiphong.example", DKIM: v.dkim}
			e := NewSMTPEngine(db, cfg, nil)
			if e.err != nil {
				b.Fatal(e.err)
			}
			if v.verp {
				e.SetVERP(verp)
			}
			cpu0, start := cpuTime(), time.Now()
			s, err := e.Send(context.Background(), Job{IssueID: 1, Recipients: dbRecipients(db),
				Compose: func(_ context.Context, r Recipient) (*Message, error) { return tmpl.compose(r) }})
			el, cpu := time.Since(start), cpuTime()-cpu0
			db.Close()
			os.Remove(dbPath)
			if err != nil || s.Sent != n {
				b.Fatalf("%s: %+v %v", v.name, s, err)
			}
			rate := float64(n) / el.Seconds()
			sum[v.name] += rate
			cpuSum[v.name] += cpu / time.Duration(n)
			count[v.name]++
			b.Logf("%-22s %7.0f msg/s (%.2fs), process CPU %v per message", v.name, rate, el.Seconds(), cpu/time.Duration(n))
		}
		ref += bareClient(b, port, workers, n, raw) / 2
	}
	ref /= float64(b.N)
	mean := func(name string) float64 { return sum[name] / float64(count[name]) }
	cpuPer := func(name string) time.Duration { return cpuSum[name] / time.Duration(count[name]) }
	base := mean("plain")
	b.Logf("n=%d workers=%d sink=%s msg=%dB; net/smtp client %.0f msg/s; engine without VERP %.0f msg/s (%.2f of net/smtp), CPU %v per message",
		n, workers, *benchSink, len(raw), ref, base, base/ref, cpuPer("plain"))
	for _, name := range []string{"verp", "verp+ed25519", "verp+rsa2048", "verp+rsa2048+ed25519"} {
		b.Logf("  %-22s %6.0f msg/s: %.2f of the engine without VERP, %.2f of net/smtp; CPU per message %.2f times", name,
			mean(name), mean(name)/base, mean(name)/ref, float64(cpuPer(name))/float64(cpuPer("plain")))
	}
	b.ReportMetric(base, "plain-msg/s")
	b.ReportMetric(mean("verp")/base, "verp-ratio")
	b.ReportMetric(mean("verp")/ref, "verp/net-smtp")
	b.ReportMetric(mean("verp+ed25519")/base, "ed25519-ratio")
	b.ReportMetric(mean("verp+rsa2048")/base, "rsa-ratio")
	b.ReportMetric(mean("verp+rsa2048+ed25519")/base, "dual-ratio")
}
