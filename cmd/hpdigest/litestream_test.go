package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/store/backup"
)

// writerEnv tells the test binary, started again by TestLitestreamReplication,
// to be its writer process (in the directory the variable names).
const writerEnv = "HPDIGEST_LITESTREAM_WRITER_DIR"

// Litestream, configured by contrib/litestream.yml, replicates the
// database while a writer process adds readers and sends issues through
// the project's code (with backup.litestream: the project leaves WAL
// checkpoints to Litestream). Both are killed with SIGKILL in mid-write.
// A restore taken right then is an intact database holding a prefix of the
// writes; once Litestream restarts (and is killed again), a restore holds
// every row the writer committed: the same readers, issues and outbox rows
// as the writer's own database.
func TestLitestreamReplication(t *testing.T) {
	litestream := needTool(t, "litestream")
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "hpdigest.db")
	replica := filepath.Join(dir, "replica")
	lsConfig := litestreamConfig(t, dir, dbPath, replica)

	writer := exec.Command(os.Args[0], "-test.run=^TestLitestreamWriterProcess$", "-test.count=1")
	writer.Env = append(os.Environ(), writerEnv+"="+dir)
	writerLog, err := os.Create(filepath.Join(dir, "writer.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer writerLog.Close()
	writer.Stderr = writerLog
	out, err := writer.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	defer writer.Process.Kill()
	var readers, sends atomic.Int64
	ready := make(chan struct{})
	var mu sync.Mutex
	acked := map[string]bool{} // readers the writer saw committed
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 1 && f[0] == "ready":
				close(ready)
			case len(f) == 2 && f[0] == "reader":
				mu.Lock()
				acked[f[1]] = true
				mu.Unlock()
				readers.Add(1)
			case len(f) >= 2 && f[0] == "sent":
				sends.Add(1)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatal("the writer did not start")
	}

	ls := startLitestream(t, litestream, lsConfig)
	waitFor(t, "Litestream's first replication", func() bool {
		found := false
		filepath.WalkDir(replica, func(_ string, e os.DirEntry, err error) error {
			found = found || (err == nil && e.Type().IsRegular())
			return nil
		})
		return found
	})
	os.WriteFile(filepath.Join(dir, "go"), nil, 0o644) // the writer starts writing
	waitFor(t, "readers and sends", func() bool { return readers.Load() >= 150 && sends.Load() >= 5 })
	// Both die at once, in mid-write.
	writer.Process.Signal(syscall.SIGKILL)
	ls.Process.Signal(syscall.SIGKILL)
	writer.Wait()
	ls.Wait()

	want := tableRows(t, dbPath)
	if len(want["subscribers"]) < 150 || len(want["deliveries"]) == 0 {
		t.Fatalf("the writer's database holds %d readers and %d outbox rows", len(want["subscribers"]), len(want["deliveries"]))
	}
	mu.Lock()
	for email := range acked {
		if !containsField(want["subscribers"], email) {
			t.Errorf("reader %s, acknowledged by the writer, is not in its own database", email)
		}
	}
	mu.Unlock()

	// Right after the crash: an intact database, holding some prefix.
	early := restoreReplica(t, litestream, lsConfig, dbPath, filepath.Join(dir, "early.db"))
	for table, rows := range early {
		for _, r := range rows {
			if !contains(want[table], r) && !earlierState(want[table], r) {
				t.Errorf("restored %s row %q was never committed", table, r)
			}
		}
	}

	// Litestream comes back, catches up from the WAL, and is killed again.
	ls = startLitestream(t, litestream, lsConfig)
	var got map[string][]string
	n := 0
	waitFor(t, "the replica to hold every committed row", func() bool {
		n++
		got = restoreReplica(t, litestream, lsConfig, dbPath, filepath.Join(dir, fmt.Sprintf("poll-%d.db", n)))
		return sameRows(got, want)
	})
	ls.Process.Signal(syscall.SIGKILL)
	ls.Wait()
	final := restoreReplica(t, litestream, lsConfig, dbPath, filepath.Join(dir, "final.db"))
	if !sameRows(final, want) {
		t.Fatalf("after the second kill the replica lost rows: %d readers, %d outbox rows; want %d and %d",
			len(final["subscribers"]), len(final["deliveries"]), len(want["subscribers"]), len(want["deliveries"]))
	}
	t.Logf("replicated %d readers, %d issues, %d outbox rows; the restore right after the crash held %d readers",
		len(want["subscribers"]), len(want["issues"]), len(want["deliveries"]), len(early["subscribers"]))
}

// litestreamConfig is contrib/litestream.yml with its two paths moved into dir.
func litestreamConfig(t *testing.T, dir, dbPath, replica string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "contrib", "litestream.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	for old, repl := range map[string]string{"/var/lib/hpdigest/hpdigest.db": dbPath, "/var/backups/hpdigest/litestream": replica} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("contrib/litestream.yml no longer names %s", old)
		}
		cfg = strings.ReplaceAll(cfg, old, repl)
	}
	path := filepath.Join(dir, "litestream.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func startLitestream(t *testing.T, bin, cfg string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "replicate", "-config", cfg)
	log, err := os.Create(cfg + ".log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// restoreReplica restores the replica into a new file with `litestream
// restore`, checks it like hpdigest -restore does and returns its rows.
func restoreReplica(t *testing.T, bin, cfg, dbPath, out string) map[string][]string {
	t.Helper()
	if b, err := exec.Command(bin, "restore", "-config", cfg, "-o", out, dbPath).CombinedOutput(); err != nil {
		t.Fatalf("litestream restore: %v\n%s", err, b)
	}
	if _, err := backup.Check(context.Background(), out); err != nil {
		t.Fatalf("restored replica: %v", err)
	}
	return tableRows(t, out)
}

// tableRows reads the rows the writer makes, as text, in key order.
func tableRows(t *testing.T, path string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string][]string{}
	for table, q := range map[string]string{
		"subscribers": `SELECT id || ' ' || email || ' ' || status FROM subscribers ORDER BY id`,
		"issues":      `SELECT id || ' ' || number || ' ' || status FROM issues ORDER BY id`,
		"deliveries":  `SELECT issue_id || ' ' || subscriber_id || ' ' || state FROM deliveries ORDER BY issue_id, subscriber_id`,
		"items":       `SELECT id || ' ' || guid FROM items ORDER BY id`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for rows.Next() {
			var s string
			rows.Scan(&s)
			out[table] = append(out[table], s)
		}
		rows.Close()
	}
	return out
}

func sameRows(a, b map[string][]string) bool {
	for _, table := range []string{"subscribers", "issues", "deliveries", "items"} {
		if strings.Join(a[table], "\n") != strings.Join(b[table], "\n") {
			return false
		}
	}
	return true
}

// statesBefore lists, for a row's last state, the states it went through
// before (issues and outbox rows move forward only).
var statesBefore = map[string][]string{
	"approved": {"draft"},
	"sending":  {"draft", "approved"},
	"sent":     {"draft", "approved", "sending", "pending", "retry"},
	"retry":    {"pending"},
	"failed":   {"pending", "retry"},
	"skipped":  {"pending"},
}

// earlierState reports whether r is a row of rows as it was committed
// before its state last moved: same key (every field but the last), and a
// state the row held before its final one.
func earlierState(rows []string, r string) bool {
	key, state, ok := cutLast(r)
	if !ok {
		return false
	}
	for _, x := range rows {
		if k, final, ok := cutLast(x); ok && k == key && slices.Contains(statesBefore[final], state) {
			return true
		}
	}
	return false
}

func cutLast(r string) (key, last string, ok bool) {
	i := strings.LastIndexByte(r, ' ')
	if i < 0 {
		return "", "", false
	}
	return r[:i], r[i+1:], true
}

func contains(rows []string, r string) bool {
	for _, x := range rows {
		if x == r {
			return true
		}
	}
	return false
}

func containsField(rows []string, field string) bool {
	for _, x := range rows {
		if strings.Contains(" "+x+" ", " "+field+" ") {
			return true
		}
	}
	return false
}

// TestLitestreamWriterProcess is the writer of TestLitestreamReplication,
// run in a process of its own so that it can be killed: it serves a feed
// that has a new item at every fetch, adds readers and sends an issue to
// them all every ten readers (dry run: .eml files), printing each commit;
// it writes for a few seconds, over several of Litestream's syncs.
func TestLitestreamWriterProcess(t *testing.T) {
	dir := os.Getenv(writerEnv)
	if dir == "" {
		t.Skip("the writer process of TestLitestreamReplication")
	}
	var fetches atomic.Int64
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := fetches.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Cổng Hải Phòng</title>
<item><title>Khu công nghiệp thu hút thêm vốn FDI, dự án %[1]d</title><guid>fdi-%[1]d</guid><link>https://portal.example.vn/fdi/%[1]d</link>
<description>Nhà đầu tư nước ngoài đăng ký dự án mới tại khu công nghiệp.</description><pubDate>%[2]s</pubDate></item>
</channel></rss>`, n, time.Now().Format(time.RFC1123Z))
	}))
	defer feed.Close()
	cfgPath := filepath.Join(dir, "config.toml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`database = %q
outbox_dir = %q

[http]
base_url = "https://digest.example.org"

[sender]
address = "digest@haiphong.example.org"
postal_address = "18 Hoàng Diệu, Hải Phòng"

[backup]
litestream = true

[[feeds]]
name = "Cổng Hải Phòng"
url = "%s/rss"
language = "vi"
allow_private = true # a test server on loopback

[[digests]]
key = "weekly"
schedule = "0 8 * * FRI"
`, filepath.Join(dir, "hpdigest.db"), filepath.Join(dir, "outbox"), feed.URL)), 0o644)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, app.Options{DryRunDir: cfg.OutboxDir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	d, _ := cfg.Digest("")
	fmt.Println("ready")
	for {
		if _, err := os.Stat(filepath.Join(dir, "go")); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := 1; ; i++ {
		email := fmt.Sprintf("reader%d@example.org", i)
		if err := a.Subscribers.CLIAdd(ctx, discard{}, email, "Bạn đọc", []string{"vi", "en"}[i%2], ""); err != nil {
			t.Fatal(err)
		}
		fmt.Println("reader", email)
		time.Sleep(20 * time.Millisecond) // writes go on over several of Litestream's syncs
		if i%10 == 0 {
			res, err := a.SendNow(ctx, d, true)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Println("sent", res.Issue.Number, res.Summary.Sent)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
