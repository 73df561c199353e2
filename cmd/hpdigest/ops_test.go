package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/haiphong/hpdigest/internal/smtptest"
)

// scrape reads /metrics with Prometheus's own text parser.
func scrape(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("the Prometheus parser rejects /metrics: %v", err)
	}
	return fams
}

// sample finds the metric of family name whose labels include want.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (*dto.Metric, bool) {
	f, ok := fams[name]
	if !ok {
		return nil, false
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m, true
	}
	return nil, false
}

func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	m, ok := sample(fams, name, labels)
	switch {
	case !ok:
		return 0, false
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue(), true
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue(), true
	}
	return 0, false
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A running daemon that has sent an issue: /metrics on its own loopback
// address, read by Prometheus's parser, tells what an operator watches;
// /healthz answers JSON; scheduled backups are written and rotated.
func TestDaemonMetricsHealthAndScheduledBackups(t *testing.T) {
	var backupDir string
	smtp, addr, logs, stop := startDaemon(t, func(cfg string) string {
		backupDir = filepath.Join(t.TempDir(), "backups")
		cfg = strings.Replace(cfg, `schedule = "0 8 * * FRI"`, `schedule = "@every 2s"`, 1)
		return cfg + "\n[metrics]\nlisten = \"127.0.0.1:0\"\n\n[backup]\nschedule = \"@every 1s\"\ndir = \"" + backupDir + "\"\nkeep = 2\n"
	})
	stop = once(stop)
	defer stop()
	waitFor(t, "the scheduled send", func() bool { return len(smtp.For("lan@example.jp")) == 1 })
	waitFor(t, "the send to finish", func() bool { return strings.Contains(logs.String(), "send finished") })
	waitFor(t, "three scheduled backups", func() bool { return strings.Count(logs.String(), "backup written") >= 3 })

	// Requests of every route class, so that their durations are recorded.
	for _, path := range []string{"/healthz", "/issues", "/subscribe", "/staff/login", "/no/such/page/12345"} {
		get(t, "http://"+addr+path)
	}
	code, body := get(t, "http://"+addr+"/healthz")
	var h struct {
		Status    string
		Database  struct{ Writable bool }
		Scheduler *struct {
			Running bool
		}
		Feeds struct{ Polled, Failing int }
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("/healthz is not JSON: %v\n%s", err, body)
	}
	if code != http.StatusOK || h.Status != "ok" || !h.Database.Writable || h.Scheduler == nil || !h.Scheduler.Running || h.Feeds.Polled != 6 || h.Feeds.Failing < 3 {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if strings.Contains(body, "127.0.0.1") || strings.Contains(body, "hp.db") {
		t.Errorf("/healthz shows private details:\n%s", body)
	}
	if code, _ := get(t, "http://"+addr+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the public server: %d, want 404 (it has its own address)", code)
	}

	m := regexp.MustCompile(`msg="metrics listening" addr=(\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no metrics address in the log:\n%s", logs.String())
	}
	fams := scrape(t, "http://"+m[1]+"/metrics", "")
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64 // -1: present, any value
	}{
		{"hpdigest_build_info", nil, 1},
		{"hpdigest_subscribers", map[string]string{"status": "confirmed", "language": "vi"}, 1},
		{"hpdigest_issues", map[string]string{"digest": "weekly", "status": "sent"}, 1},
		{"hpdigest_issue_deliveries", map[string]string{"digest": "weekly", "state": "sent"}, 1},
		{"hpdigest_issue_deliveries", map[string]string{"digest": "weekly", "state": "failed"}, 0},
		{"hpdigest_send_rate_per_second", map[string]string{"digest": "weekly"}, 0}, // finished
		{"hpdigest_feed_enabled", map[string]string{"feed": "WVR"}, 1},
		{"hpdigest_feed_fetches_total", map[string]string{"feed": "Broken500", "result": "error"}, -1},
		{"hpdigest_feed_fetches_total", map[string]string{"feed": "WVR", "result": "ok"}, -1},
		{"hpdigest_feed_seconds_since_success", map[string]string{"feed": "Broken500"}, -1},
		{"hpdigest_feed_consecutive_errors", map[string]string{"feed": "Broken500"}, -1},
		{"hpdigest_items", map[string]string{"theme": "fdi"}, -1},
		{"hpdigest_subscriber_events", map[string]string{"kind": "bounce"}, 0},
		{"hpdigest_subscriber_events", map[string]string{"kind": "complaint"}, 0},
		{"hpdigest_digest_last_sent_timestamp_seconds", map[string]string{"digest": "weekly"}, -1},
		{"hpdigest_digest_send_due_timestamp_seconds", map[string]string{"digest": "weekly"}, -1},
		{"hpdigest_backup_last_success_timestamp_seconds", nil, -1},
		{"hpdigest_backup_failures_total", nil, 0},
		{"hpdigest_scheduler_heartbeat_timestamp_seconds", nil, -1},
		{"hpdigest_send_rate_limit_per_second", nil, 0},
	} {
		v, ok := value(fams, c.name, c.labels)
		if !ok || (c.want >= 0 && v != c.want) {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if v, _ := value(fams, "hpdigest_feed_fetches_total", map[string]string{"feed": "Broken500", "result": "error"}); v < 1 {
		t.Errorf("failed fetches of Broken500 = %v, want at least 1", v)
	}
	if v, _ := value(fams, "hpdigest_items", map[string]string{"theme": "fdi"}); v < 1 {
		t.Errorf("fdi items = %v", v)
	}
	// Every metric the shipped alert rules use exists.
	rules, err := os.ReadFile(filepath.Join("..", "..", "contrib", "prometheus", "hpdigest-rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`hpdigest_[a-z_]+`).FindAllString(string(rules), -1) {
		if _, ok := fams[name]; !ok {
			t.Errorf("contrib/prometheus/hpdigest-rules.yml uses %s, which /metrics does not have", name)
		}
	}
	classes := map[string]bool{}
	for _, m := range fams["hpdigest_http_request_duration_seconds"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "class" {
				classes[l.GetValue()] = m.GetHistogram().GetSampleCount() > 0
			}
			if strings.Contains(l.GetValue(), "12345") {
				t.Errorf("a raw path leaked into a label: %v", m.GetLabel())
			}
		}
	}
	for _, c := range []string{"health", "archive", "public", "staff", "other"} {
		if !classes[c] {
			t.Errorf("no request duration recorded for class %q (got %v)", c, classes)
		}
	}
	files, _ := filepath.Glob(filepath.Join(backupDir, "hp-*.db"))
	if len(files) != 2 {
		t.Errorf("backup directory holds %v, want the newest 2", files)
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("backup %s: %v %v, want mode 0600", f, st.Mode(), err)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("daemon exit %d", code)
	}
}

// Served on the main server, /metrics answers only with the bearer token.
func TestMetricsBehindTokenOnMainServer(t *testing.T) {
	t.Setenv("HPDIGEST_TEST_METRICS_TOKEN", "s3cret-token")
	_, addr, _, stop := startDaemon(t, func(cfg string) string {
		return cfg + "\n[metrics]\ntoken_env = \"HPDIGEST_TEST_METRICS_TOKEN\"\n"
	})
	stop = once(stop)
	defer stop()
	waitFor(t, "/healthz", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	for _, token := range []string{"", "wrong"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(b), "hpdigest_") {
			t.Errorf("token %q: %d %q, want 401 and no metrics", token, resp.StatusCode, b)
		}
	}
	fams := scrape(t, "http://"+addr+"/metrics", "s3cret-token")
	if v, ok := value(fams, "hpdigest_subscribers", map[string]string{"status": "confirmed"}); !ok || v != 1 {
		t.Errorf("hpdigest_subscribers{confirmed} = %v %v", v, ok)
	}
}

// A metrics address other machines can reach is refused by every command,
// naming the key and its line; a missing token stops the daemon (which
// serves /metrics) at start-up, while the other commands do not need it.
func TestMetricsConfigRefusals(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, "http://127.0.0.1:1", smtptest.Start(t))
	data, _ := os.ReadFile(cfgPath)
	base := strings.Replace(string(data), "[http]\n", "[http]\nlisten = \"127.0.0.1:0\"\n", 1)
	for _, c := range []struct {
		section, want string
		args          []string
	}{
		{"[metrics]\nlisten = \"0.0.0.0:9464\"\n", "metrics.listen: \"0.0.0.0:9464\" can be reached from other machines", []string{"-subscribers"}},
		{"[metrics]\ntoken_env = \"HPDIGEST_NO_SUCH_VARIABLE\"\n", "metrics.token_env: the environment variable HPDIGEST_NO_SUCH_VARIABLE is empty", nil},
	} {
		cfg := base + "\n" + c.section
		os.WriteFile(cfgPath, []byte(cfg), 0o644)
		line := strings.Count(cfg[:strings.Index(cfg, c.section)], "\n") + 2
		code, _, errOut := cli(t, append([]string{"-config", cfgPath}, c.args...)...)
		if code != 2 || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "line "+strconv.Itoa(line)+":") {
			t.Errorf("exit %d, %q: want 2, %q at line %d", code, errOut, c.want, line)
		}
	}
	if code, _, errOut := cli(t, "-config", cfgPath, "-subscribers"); code != 0 {
		t.Errorf("-subscribers with the token's variable unset: exit %d, %s; it serves no metrics and needs no token", code, errOut)
	}
}

// once makes stopping the daemon safe to repeat (a deferred stop after
// the test's own).
func once(stop func() int) func() int {
	var o sync.Once
	var code int
	return func() int {
		o.Do(func() { code = stop() })
		return code
	}
}

// configPathIn is where writeConfig put the config whose text is cfg.
func configPathIn(cfg string) string {
	for _, line := range strings.Split(cfg, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "database" {
			db, _ := strconv.Unquote(strings.TrimSpace(v))
			return filepath.Join(filepath.Dir(db), "config.toml")
		}
	}
	return ""
}

// -backup copies the database while the daemon runs; -restore refuses
// while it runs, and once it has stopped puts the copy back, keeping the
// replaced database and printing what it restored.
func TestBackupWhileDaemonRunsAndRestoreAfterwards(t *testing.T) {
	var cfgPath string
	smtp, _, logs, stop := startDaemon(t, func(cfg string) string {
		cfgPath = configPathIn(cfg)
		return strings.Replace(cfg, `schedule = "0 8 * * FRI"`, `schedule = "@every 2s"`, 1)
	})
	stop = once(stop)
	defer stop()
	waitFor(t, "the scheduled send", func() bool { return len(smtp.For("lan@example.jp")) == 1 })
	waitFor(t, "the send to finish", func() bool { return strings.Contains(logs.String(), "send finished") })

	backupFile := filepath.Join(t.TempDir(), "hp-backup.db")
	code, out, errOut := cli(t, "-config", cfgPath, "-backup", backupFile)
	if code != 0 || !strings.Contains(out, "integrity ok") {
		t.Fatalf("-backup while the daemon runs: exit %d %s %s", code, out, errOut)
	}
	if st, err := os.Stat(backupFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}
	if code, _, errOut := cli(t, "-config", cfgPath, "-backup", backupFile); code == 0 || !strings.Contains(errOut, "already exists") {
		t.Errorf("second -backup to the same file: exit %d %s", code, errOut)
	}
	// A reader added after the backup: the restore takes it away again.
	if code, _, errOut := cli(t, "-config", cfgPath, "-add-subscriber", "late@example.org"); code != 0 {
		t.Fatal(errOut)
	}
	code, _, errOut = cli(t, "-config", cfgPath, "-restore", backupFile)
	if code == 0 || !strings.Contains(errOut, "stop the daemon") {
		t.Fatalf("-restore while the daemon runs: exit %d %s", code, errOut)
	}
	if code := stop(); code != 0 {
		t.Fatalf("daemon exit %d", code)
	}
	code, out, errOut = cli(t, "-config", cfgPath, "-restore", backupFile)
	if code != 0 {
		t.Fatalf("-restore: exit %d %s %s", code, out, errOut)
	}
	for _, want := range []string{"integrity ok", ".before-restore", "subscribers: 1 (1 confirmed)", "issues of weekly: 1 sent", "outbox rows: 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("-restore output lacks %q:\n%s", want, out)
		}
	}
	_, list, _ := cli(t, "-config", cfgPath, "-subscribers")
	if !strings.Contains(list, "lan@example.jp") || strings.Contains(list, "late@example.org") {
		t.Errorf("subscribers after the restore:\n%s", list)
	}
}
