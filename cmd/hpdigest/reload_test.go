package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/haiphong/hpdigest/internal/smtptest"
)

// reloadThemes are the test's two themes; extra adds phrases to diaspora.
func reloadThemes(extra string) string {
	return `
[[themes]]
key = "diaspora"
name_vi = "Kiều bào"
name_en = "Overseas Vietnamese"
threshold = 3
phrases = [ { text = "kiều bào", weight = 3 },` + extra + ` ]

[[themes]]
key = "fdi"
name_vi = "Đầu tư nước ngoài"
name_en = "Foreign investment"
threshold = 3
phrases = [ { text = "FDI", weight = 3 } ]
`
}

// orchidFeed serves one item that only the phrase added by the reload
// puts in a theme.
func orchidFeed(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Hoa</title><link>https://hoa.example.org/</link>
<item><title>Triển lãm hoa lan đột biến ở Kiến An</title><link>https://hoa.example.org/lan</link><guid>lan-1</guid>
<pubDate>%s</pubDate><description>Hàng trăm giống lan được trưng bày.</description></item></channel></rss>`, time.Now().Add(-time.Hour).Format(time.RFC1123Z))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sighup(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// A daemon sending an issue gets SIGHUP with a changed file: a new feed, a
// new schedule for the digest, a new phrase in a theme, and a new
// http.listen (which needs a restart). It applies the first three while the
// message in flight is held by the relay, keeps the old listen address and
// says so, and the send finishes: the reader gets the issue once. Then a
// broken file is rejected, with its file, line and key, and the daemon
// keeps working with what it had. /healthz and /metrics answer throughout.
func TestSIGHUPReloadsTheConfigWhileASendIsInFlight(t *testing.T) {
	held := make(chan struct{})
	release := make(chan struct{})
	orchids := orchidFeed(t)
	base := func(cfg string) string {
		cfg = strings.Replace(cfg, `timeout = "10s"`, `timeout = "60s"`, 1) // the relay holds a message a while
		return strings.Replace(cfg, `schedule = "0 8 * * FRI"`, `schedule = "@every 2s"`, 1) +
			"\n[metrics]\nlisten = \"127.0.0.1:0\"\n" + reloadThemes("")
	}
	d := startDaemonWith(t, base, func(s *smtptest.Server) {
		first := true
		s.RejectData = func([]string) *smtp.SMTPError {
			if first { // the relay holds the first message until the test lets it go
				first = false
				close(held)
				<-release
			}
			return nil
		}
	})
	stop := once(d.stop)
	defer stop()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	logs := d.logs
	waitFor(t, "a message in flight", func() bool {
		select {
		case <-held:
			return true
		default:
			return false
		}
	})
	// The old schedule keeps ticking while the send runs: those ticks are skipped.
	waitFor(t, "a tick skipped during the send", func() bool { return strings.Contains(logs.String(), "scheduled send skipped") })
	m := regexp.MustCompile(`msg="metrics listening" addr=(\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no metrics address in the log:\n%s", logs.String())
	}
	metricsURL := "http://" + m[1] + "/metrics"
	diaspora := func() float64 {
		v, _ := value(scrape(t, metricsURL, ""), "hpdigest_items", map[string]string{"theme": "diaspora"})
		return v
	}
	waitFor(t, "the first poll", func() bool { return diaspora() > 0 })
	before := diaspora()

	data, err := os.ReadFile(d.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	good := strings.Replace(string(data), `schedule = "@every 2s"`, `schedule = "@every 1h"`, 1)
	good = strings.Replace(good, `listen = "127.0.0.1:0"`, `listen = "127.0.0.1:1"`, 1) // http.listen comes first
	good = strings.Replace(good, `{ text = "kiều bào", weight = 3 },`, `{ text = "kiều bào", weight = 3 }, { text = "hoa lan", weight = 3 },`, 1)
	good += fmt.Sprintf("\n[[feeds]]\nname = \"Hoa\"\nurl = %q\nlanguage = \"vi\"\nallow_private = true\n", orchids.URL)
	if err := os.WriteFile(d.cfgPath, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	sighup(t)
	waitFor(t, "the reload", func() bool { return strings.Contains(logs.String(), "configuration reloaded") })
	afterReload := len(logs.String())
	if !regexp.MustCompile(`msg="reload: schedule changed" job="digest weekly: schedule" spec="CRON_TZ=\S+ @every 1h" was="CRON_TZ=\S+ @every 2s"`).MatchString(logs.String()) {
		t.Errorf("no schedule change in the log:\n%s", logs.String())
	}
	if !regexp.MustCompile(`msg="reload: a setting changed in the file needs a restart; the running value stays until then" key=http.listen where=".*line \d+: http.listen"`).MatchString(logs.String()) {
		t.Errorf("http.listen not reported as needing a restart:\n%s", logs.String())
	}
	// The new feed is polled at once and its item is sorted by the new phrase.
	waitFor(t, "the new feed's item in the diaspora theme", func() bool { return diaspora() == before+1 })
	// The new schedule replaced the old one: no more ticks every 2 s
	// (waiting for two of them).
	time.Sleep(4500 * time.Millisecond)
	if n := strings.Count(logs.String()[afterReload:], "scheduled send skipped"); n != 0 {
		t.Errorf("the old schedule still ticks after the reload (%d skipped ticks):\n%s", n, logs.String()[afterReload:])
	}
	// The send in flight was left alone: released, it finishes.
	close(release)
	waitFor(t, "the send to finish", func() bool { return strings.Contains(logs.String(), "send finished") })
	if n := len(d.smtp.For("lan@example.jp")); n != 1 {
		t.Errorf("the reader got %d copies, want 1", n)
	}
	if !strings.Contains(logs.String(), `msg="send finished" digest=weekly issue=1 sent=1 failed=0`) {
		t.Errorf("the send did not finish with its one message sent:\n%s", logs.String())
	}

	// A broken file: rejected, with the file, the line and the key.
	broken := strings.Replace(good, `schedule = "@every 1h"`, `schedule = "every friday"`, 1)
	if err := os.WriteFile(d.cfgPath, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	beforeBroken := len(logs.String())
	sighup(t)
	waitFor(t, "the rejection", func() bool { return strings.Contains(logs.String()[beforeBroken:], "configuration not reloaded") })
	line := regexp.MustCompile(`level=ERROR msg="configuration not reloaded; the daemon keeps running with the one it had" file=\S+ err="config \S+: line (\d+): digests\[0\]\.schedule: `).FindStringSubmatch(logs.String()[beforeBroken:])
	if line == nil {
		t.Fatalf("the rejection does not name the file, line and key:\n%s", logs.String()[beforeBroken:])
	}
	if want := lineNumber(broken, `schedule = "every friday"`); line[1] != fmt.Sprint(want) {
		t.Errorf("rejection names line %s, the key is on line %d", line[1], want)
	}
	if strings.Contains(logs.String()[beforeBroken:], "reload: schedule") {
		t.Errorf("the rejected file changed a schedule:\n%s", logs.String()[beforeBroken:])
	}
	// What the last good reload applied is still in use, and the daemon answers.
	fams := scrape(t, metricsURL, "")
	if v, ok := value(fams, "hpdigest_feed_enabled", map[string]string{"feed": "Hoa"}); !ok || v != 1 {
		t.Errorf("the feed added by the good reload: enabled=%v (present %v)", v, ok)
	}
	code, body := get(t, "http://"+d.addr+"/healthz")
	var h struct{ Status string }
	if json.Unmarshal([]byte(body), &h); code != http.StatusOK || h.Status != "ok" {
		t.Errorf("/healthz after the reloads: %d %s", code, body)
	}
	if code, body := get(t, "http://"+d.addr+"/subscribe"); code != http.StatusOK || !strings.Contains(body, "Overseas Vietnamese") && !strings.Contains(body, "Kiều bào") {
		t.Errorf("/subscribe after the reloads: %d", code)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d; log:\n%s", code, logs.String())
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines, want the rejection's alone:\n%s", n, logs.String())
	}
}

// lineNumber is the 1-based line of the first line of text holding s.
func lineNumber(text, s string) int {
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	return 0
}
