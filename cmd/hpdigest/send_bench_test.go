package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/digest/deliver"
	"github.com/haiphong/hpdigest/internal/postfixtest"
	"github.com/haiphong/hpdigest/internal/sendbench"
	"github.com/haiphong/hpdigest/store"
)

var (
	sendReaders = flag.Int("send.n", 20000, "readers of BenchmarkSendNow (100000 for the large check, 1000000 for peak memory)")
	sendRounds  = flag.Int("send.rounds", 3, "rounds of BenchmarkSendNow: each runs -send-now, then the ceiling")
	sendDKIM    = flag.Bool("send.dkim", false, "BenchmarkSendNow signs with an RSA-2048 key, and so does the ceiling, every copy")
	sendProfile = flag.String("send.cpuprofile", "", "BenchmarkSendNow writes the CPU profile of each -send-now (hpdigest -cpuprofile) into this `directory`")
	sendPin     = flag.Bool("send.pin", false, "BenchmarkSendNow keeps smtp-sink on the last CPU and itself, the ceiling and -send-now on the others")
	sendDir     = flag.String("send.dir", "", "BenchmarkSendNow works in this `directory` and leaves it (binary, configs, the readers' database) for a look afterwards")
)

// The connections of BenchmarkSendNow, for the engine and the ceiling alike.
const (
	benchConns   = 8
	benchPerConn = 100
)

// BenchmarkSendNow measures a send as an operator runs it: the built
// hpdigest binary runs -send-now (fetch the feeds from a loopback server,
// classify, assemble the issue, create its outbox in a real SQLite file,
// render each variant, personalise, sign the links and the VERP sender,
// send, record every outcome) to N readers with a mix of languages and
// theme choices, into Postfix's smtp-sink running as its own process. The
// ceiling is a bare pipelined SMTP client (internal/sendbench) sending N
// copies of one pre-rendered message of the median size over the same 8
// connections, each replaced after 100 messages, as the engine's are.
// Rounds alternate, engine then ceiling; each round starts from a copy of
// the same database. Each round's rates are logged with the load average,
// then the median ratio. The engine's rate counts the whole command,
// from start to exit; its send phase alone (the outbox, then the
// messages, as -send-now reports it) is shown beside it.
//
//	go test ./cmd/hpdigest -run '^$' -bench SendNow -benchtime 1x [-send.n 100000] [-send.rounds 5] [-send.dkim] [-send.cpuprofile DIR]
//
// With -send.dkim both sign every message with the same RSA-2048 key: the
// engine with [smtp.dkim], the ceiling with a signature per copy over a
// body hash it computes once. -send.n 1000000 -send.rounds 1 shows the
// peak memory (max RSS) of -send-now for a million readers.
func BenchmarkSendNow(b *testing.B) {
	n := *sendReaders
	dir := *sendDir
	if dir == "" {
		dir = b.TempDir()
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "hpdigest")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	port := postfixtest.Sink(b, "")
	placement := "shared by all"
	if *sendPin {
		placement = pinApart(b, port)
	}
	feedsSrv := httptest.NewUnstartedServer(nil)
	feedsSrv.Config.Handler = demoFeedHandler("http://" + feedsSrv.Listener.Addr().String())
	feedsSrv.Start()
	defer feedsSrv.Close()
	bench := &sendBench{dir: dir, bin: bin, port: port, feeds: feedsSrv.URL}
	if *sendDKIM {
		bench.dkimKey = writeRSAKey(b, dir)
	}
	template := filepath.Join(dir, "readers.db")
	seedReaders(b, template, n)
	median := bench.medianMessage(b)
	ceiling := sendbench.Ceiling{Addr: "127.0.0.1:" + strconv.Itoa(port), Conns: benchConns, PerConn: benchPerConn,
		From: "bounces@haiphong.example", To: "reader@example.org", Message: median}
	if bench.dkimKey != nil {
		s, err := sendbench.NewSigner(median, "haiphong.example", "bench", bench.dkimKey, dkimHeaderList(median))
		if err != nil {
			b.Fatal(err)
		}
		ceiling.Sign = s.Sign
	}
	b.Logf("n=%d readers, %d connections of %d messages, message of the median size %d bytes, DKIM %v, GOMAXPROCS of the child %s, CPUs %s",
		n, benchConns, benchPerConn, len(median), *sendDKIM, orDefault(os.Getenv("GOMAXPROCS"), "default"), placement)
	b.ResetTimer()
	var ratios, phaseRatios, engines, ceilings []float64
	var peak int64
	for i := 0; i < b.N; i++ {
		for r := 1; r <= *sendRounds; r++ {
			load := loadAverage()
			sink0 := postfixtest.SinkCPU(port)
			eng := bench.engineRound(b, template, n, r)
			sink1, self1 := postfixtest.SinkCPU(port), selfCPU()
			el, err := ceiling.Run(n)
			if err != nil {
				b.Fatalf("ceiling: %v", err)
			}
			sink2, self2 := postfixtest.SinkCPU(port), selfCPU()
			ceil := sendbench.Rate(n, el)
			ratios = append(ratios, eng.rate/ceil)
			phaseRatios = append(phaseRatios, eng.phaseRate/ceil)
			engines, ceilings = append(engines, eng.rate), append(ceilings, ceil)
			peak = max(peak, eng.maxRSS)
			per := func(d time.Duration) time.Duration { return (d / time.Duration(n)).Round(100 * time.Nanosecond) }
			b.Logf("round %d (load %s): -send-now %6.0f msg/s (%.2fs; send phase %6.0f msg/s; peak RSS %.1f MB), ceiling %6.0f msg/s: ratio %.2f (send phase %.2f); CPU per message: -send-now %v + sink %v, ceiling %v + sink %v",
				r, load, eng.rate, eng.took.Seconds(), eng.phaseRate, float64(eng.maxRSS)/(1<<20), ceil, eng.rate/ceil, eng.phaseRate/ceil,
				per(eng.cpu), per(sink1-sink0), per(self2-self1), per(sink2-sink1))
		}
	}
	b.Logf("median of %d rounds: -send-now %.0f msg/s, ceiling %.0f msg/s, ratio %.2f (send phase %.2f); peak RSS %.1f MB",
		len(ratios), median64(engines), median64(ceilings), median64(ratios), median64(phaseRatios), float64(peak)/(1<<20))
	b.ReportMetric(median64(ratios), "ratio")
	b.ReportMetric(median64(phaseRatios), "send-phase-ratio")
	b.ReportMetric(median64(engines), "msg/s")
	b.ReportMetric(median64(ceilings), "ceiling-msg/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
}

type sendBench struct {
	dir, bin, feeds string
	port            int
	dkimKey         *rsa.PrivateKey
}

// pinApart keeps the sink on the last CPU and every thread of this
// process on the others; the threads it starts later, and the -send-now
// it runs, inherit that. It says where each runs.
func pinApart(b *testing.B, port int) string {
	b.Helper()
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		b.Fatal(err)
	}
	var cpus []int
	for c := 0; c < 1024 && len(cpus) < all.Count(); c++ {
		if all.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) < 2 {
		b.Fatalf("-send.pin needs two CPUs, this process may use %v", cpus)
	}
	sinkCPU := cpus[len(cpus)-1]
	if err := postfixtest.PinSink(port, sinkCPU); err != nil {
		b.Fatal(err)
	}
	rest := all
	rest.Clear(sinkCPU)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range tasks {
		tid, _ := strconv.Atoi(t.Name())
		if err := unix.SchedSetaffinity(tid, &rest); err != nil {
			b.Fatalf("pin thread %d: %v", tid, err)
		}
	}
	return fmt.Sprintf("%v for -send-now and the ceiling, %d for smtp-sink", cpus[:len(cpus)-1], sinkCPU)
}

// benchTokenKeyEnv holds the link-signing key of the benchmark's config.
const benchTokenKeyEnv = "HPDIGEST_BENCH_TOKEN_KEY"

// config writes the config of one run: the database, the sink, the
// demo's feeds served on loopback, the engine's 8 connections.
func (s *sendBench) config(b *testing.B, name, db string) string {
	b.Helper()
	var dkim string
	if s.dkimKey != nil {
		dkim = fmt.Sprintf("\n[smtp.dkim]\ndomain = \"haiphong.example\"\nselector = \"bench\"\nprivate_key_file = %q\n", filepath.Join(s.dir, "dkim.pem"))
	}
	cfg := fmt.Sprintf(`database = %q
outbox_dir = %q

[http]
base_url = "https://digest.haiphong.example"

[sender]
name = "Bản tin Hải Phòng"
address = "digest@haiphong.example"
postal_address = "Sở Ngoại vụ Hải Phòng, 18 Hoàng Diệu, Hồng Bàng, Hải Phòng, Việt Nam"

[smtp]
host = "127.0.0.1"
port = %d
tls = "none"
workers = %d
messages_per_connection = %d
envelope_from = "bounces@haiphong.example"
%s
[[feeds]]
name = "Cổng thông tin Hải Phòng"
url = "%[7]s/haiphong-vi.rss"
language = "vi"
allow_private = true # the benchmark's server on loopback

[[feeds]]
name = "World & Vietnam Report"
url = "%[7]s/wvr-en.atom"
language = "en"
allow_private = true

[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"

[[subscribers.keys]]
id = "k1"
secret_env = %q
`, db, filepath.Join(s.dir, name+"-outbox"), s.port, benchConns, benchPerConn, dkim, s.feeds, benchTokenKeyEnv)
	path := filepath.Join(s.dir, name+".toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// engineRun is one -send-now.
type engineRun struct {
	rate      float64 // readers per second of the whole command
	phaseRate float64 // messages per second of the send phase, as -send-now logs it
	took, cpu time.Duration
	maxRSS    int64
}

var sendLogRe = regexp.MustCompile(`\((\d+) now, ([0-9.]+)/s\)`)

// engineRound copies the readers' database and runs -send-now on it.
func (s *sendBench) engineRound(b *testing.B, template string, n, round int) engineRun {
	b.Helper()
	name := fmt.Sprintf("round%d", round)
	db := filepath.Join(s.dir, name+".db")
	copyFile(b, template, db)
	defer os.Remove(db)
	args := []string{"-config", s.config(b, name, db), "-send-now", "-force"}
	if *sendProfile != "" {
		os.MkdirAll(*sendProfile, 0o755)
		args = append(args, "-cpuprofile", filepath.Join(*sendProfile, name+".pprof"))
	}
	out, errOut, m := s.run(b, args...)
	if !strings.Contains(out, fmt.Sprintf("%d recipients: %d sent, 0 failed", n, n)) {
		b.Fatalf("-send-now did not send to every reader:\n%s\n%s", out, lastLines(errOut, 20))
	}
	sm := sendLogRe.FindStringSubmatch(errOut)
	if sm == nil {
		b.Fatalf("no send rate in the log:\n%s", lastLines(errOut, 20))
	}
	phase, _ := strconv.ParseFloat(sm[2], 64)
	if testing.Verbose() {
		for _, l := range strings.Split(errOut, "\n") {
			if strings.Contains(l, "deliver: issue") {
				b.Log(l)
			}
		}
	}
	return engineRun{rate: sendbench.Rate(n, m.took), phaseRate: phase, took: m.took, cpu: m.cpu, maxRSS: m.maxRSS}
}

type childRun struct {
	took, cpu time.Duration
	maxRSS    int64
}

// run runs the binary to its end; it fails the benchmark on a non-zero exit.
func (s *sendBench) run(b *testing.B, args ...string) (stdout, stderr string, m childRun) {
	b.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append(os.Environ(), benchTokenKeyEnv+"=bench-link-signing-key-0123456789abcdef")
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("hpdigest %s: %v\n%s\n%s", strings.Join(args, " "), err, out.String(), lastLines(errOut.String(), 30))
	}
	m.took = time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSS = int64(ru.Maxrss) * 1024
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return out.String(), errOut.String(), m
}

// medianMessage sends the issue to the first 1,000 readers of the same
// mix with -dry-run and returns the message of the median size.
func (s *sendBench) medianMessage(b *testing.B) []byte {
	b.Helper()
	db := filepath.Join(s.dir, "sample.db")
	seedReaders(b, db, 1000)
	key := s.dkimKey
	s.dkimKey = nil // the ceiling signs for itself
	cfg := s.config(b, "sample", db)
	s.dkimKey = key
	s.run(b, "-config", cfg, "-send-now", "-force", "-dry-run")
	files, _ := filepath.Glob(filepath.Join(s.dir, "sample-outbox", "*.eml"))
	if len(files) == 0 {
		b.Fatal("the dry run wrote no message")
	}
	type sized struct {
		path string
		size int64
	}
	var all []sized
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, sized{f, st.Size()})
	}
	slices.SortFunc(all, func(x, y sized) int { return int(x.size - y.size) })
	msg, err := os.ReadFile(all[len(all)/2].path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("dry run: %d messages from %d to %d bytes, median %d", len(all), all[0].size, all[len(all)-1].size, len(msg))
	return msg
}

// Languages, theme choices, names and time zones of the benchmark's
// readers, picked per reader by a hash of its number: most read
// Vietnamese; about half take every theme.
var (
	benchLangs  = []string{"vi", "vi", "vi", "en", "en"}
	benchThemes = []string{"", "", "", "", "", "diaspora", "fdi", "fdi", "china", "diaspora fdi", "fdi china", "diaspora china"}
	benchNames  = []string{"Nguyễn Thị Lan", "Trần Văn Minh", "Phạm Hoa", "David Le", "Lê Hoàng Anh", "", "Vũ Đức Thắng", "Mai Nguyen", "Đặng Thu Trang", "Bùi Quốc Khánh"}
	benchZones  = []string{"Asia/Tokyo", "Europe/Berlin", "America/Los_Angeles", "Australia/Sydney", "", "Asia/Seoul", "Europe/Paris", "America/Toronto"}
	benchHosts  = []string{"example.jp", "example.de", "example.com", "example.com.au", "example.vn", "example.kr", "example.fr", "example.ca"}
)

// seedReaders makes a migrated database at path with n confirmed readers,
// inserted as they are (the benchmark measures sending, not importing).
func seedReaders(b *testing.B, path string, n int) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Migrate(ctx, db, app.Migrations()...); err != nil {
		b.Fatal(err)
	}
	now := time.Now().Unix()
	for id := 1; id <= n; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO subscribers (id, email, name, language, themes, status, timezone, created_at, updated_at, confirmed_at, status_at)
			VALUES (?, ?, ?, ?, ?, 'confirmed', ?, ?, ?, ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		for end := min(id+5000, n+1); id < end; id++ {
			h := uint64(id) * 0x9E3779B97F4A7C15
			pick := func(k int) int { h = h*6364136223846793005 + 1442695040888963407; return int(h>>33) % k }
			name := benchNames[pick(len(benchNames))]
			email := fmt.Sprintf("doc-gia.%d@%s", id, benchHosts[pick(len(benchHosts))])
			if _, err := st.ExecContext(ctx, id, email, name, benchLangs[pick(len(benchLangs))], benchThemes[pick(len(benchThemes))],
				benchZones[pick(len(benchZones))], now, now, now, now); err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}

func writeRSAKey(b *testing.B, dir string) *rsa.PrivateKey {
	b.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dkim.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		b.Fatal(err)
	}
	return key
}

// dkimHeaderList is the h= list the engine writes for msg: the default
// headers, each as often as msg holds it (at least once), the over-signed
// ones once more.
func dkimHeaderList(msg []byte) []string {
	head, _, _ := strings.Cut(string(msg), "\r\n\r\n")
	count := map[string]int{}
	for _, line := range strings.Split(head, "\r\n") {
		if k, _, ok := strings.Cut(line, ":"); ok && line[0] != ' ' && line[0] != '\t' {
			count[strings.ToLower(k)]++
		}
	}
	var out []string
	for _, h := range deliver.DefaultDKIMHeaders {
		k := max(count[strings.ToLower(h)], 1)
		if slices.Contains(deliver.OverSignedHeaders, h) {
			k = count[strings.ToLower(h)] + 1
		}
		for range k {
			out = append(out, h)
		}
	}
	return out
}

// selfCPU is the CPU time (user and system) of this process so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func median64(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
