package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/internal/smtptest"
)

// syncBuffer is a log sink the daemon writes to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// reListening finds the address the daemon's HTTP server listens on in its log.
var reListening = regexp.MustCompile(`msg="http server listening" addr=(\S+)`)

// waitFor polls cond until it holds; the deadline only stops a broken test
// from hanging, it asserts nothing about speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startDaemon runs the daemon in-process with the config edited by edit;
// cancelling stop is what SIGINT/SIGTERM do in main.
func startDaemon(t *testing.T, edit func(string) string) (smtp *smtptest.Server, httpAddr string, logs *syncBuffer, stop func() int) {
	t.Helper()
	d := startDaemonWith(t, edit, nil)
	return d.smtp, d.addr, d.logs, d.stop
}

// runningDaemon is a daemon started by startDaemonWith.
type runningDaemon struct {
	smtp    *smtptest.Server
	addr    string // of the HTTP server
	logs    *syncBuffer
	cfgPath string
	stop    func() int
}

// startDaemonWith is startDaemon that also lets prepare set up the SMTP
// server before the daemon starts, and tells where the config file is.
func startDaemonWith(t *testing.T, edit func(string) string, prepare func(*smtptest.Server)) *runningDaemon {
	t.Helper()
	dir := t.TempDir()
	d := &runningDaemon{smtp: smtptest.Start(t)}
	if prepare != nil {
		prepare(d.smtp)
	}
	d.cfgPath = writeConfig(t, dir, feedServer(t).URL, d.smtp)
	// Port 0: the daemon listens on a port the system picks and logs it, so
	// no other process can take the port between picking and listening.
	data, _ := os.ReadFile(d.cfgPath)
	cfg := strings.Replace(string(data), "[http]\n", "[http]\nlisten = \"127.0.0.1:0\"\n", 1)
	os.WriteFile(d.cfgPath, []byte(edit(cfg)), 0o644)
	if code, _, errOut := cli(t, "-config", d.cfgPath, "-add-subscriber", "lan@example.jp"); code != 0 {
		t.Fatal(errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.logs = &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"-config", d.cfgPath}, io.Discard, d.logs) }()
	t.Cleanup(cancel)
	waitFor(t, "the HTTP server", func() bool {
		if m := reListening.FindStringSubmatch(d.logs.String()); m != nil {
			d.addr = m[1]
		}
		return d.addr != ""
	})
	d.stop = func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(60 * time.Second):
			t.Fatal("daemon did not stop after cancellation")
			return -1
		}
	}
	return d
}

func TestDaemonSendsOnScheduleServesHealthAndStopsCleanly(t *testing.T) {
	smtp, addr, logs, stop := startDaemon(t, func(cfg string) string {
		return strings.Replace(cfg, `schedule = "0 8 * * FRI"`, `schedule = "@every 2s"`, 1)
	})
	waitFor(t, "/healthz", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	waitFor(t, "the scheduled send", func() bool { return len(smtp.For("lan@example.jp")) == 1 })
	// Later runs of the schedule find nothing new: still exactly one copy.
	waitFor(t, "a second scheduled run", func() bool { return strings.Count(logs.String(), "nothing new") >= 1 })
	if n := len(smtp.For("lan@example.jp")); n != 1 {
		t.Fatalf("subscriber got %d copies", n)
	}
	// The same process serves the public pages and the web version.
	for path, want := range map[string]string{
		"/subscribe":          "<form",
		"/issues":             "/issues/1",
		"/issues/1?lang=vi":   "Khu công nghiệp VSIP",
		"/issues/feed.atom":   "<feed",
		"/staff/":             `type="password"`, // redirected to the login page
		"/issues/999?lang=vi": "",
	} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want == "" {
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body lacks %q", path, resp.StatusCode, want)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("daemon exit %d after SIGTERM-like stop; log:\n%s", code, logs.String())
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Errorf("no clean-stop line in the log:\n%s", logs.String())
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Errorf("the HTTP server still answers after stop")
	}
}

func TestDaemonWaitsForApproval(t *testing.T) {
	smtp, _, logs, stop := startDaemon(t, func(cfg string) string {
		return strings.Replace(cfg, `schedule = "0 8 * * FRI"`, `schedule = "@every 2s"`+"\nrequire_approval = true", 1)
	})
	waitFor(t, "the scheduled run", func() bool { return strings.Contains(logs.String(), "not approved") })
	if n := len(smtp.Messages()); n != 0 {
		t.Fatalf("%d messages sent without approval", n)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// -demo -serve keeps the demo's site up: the links in its emails work.
func TestDemoServe(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"-demo", "-serve", "-listen", "127.0.0.1:0"}, out, io.Discard) }()
	waitFor(t, "the demo site", func() bool { return strings.Contains(out.String(), "staff area") })
	var base string
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "archive" {
			base = strings.TrimSuffix(f[1], "/issues")
		}
	}
	if base == "" {
		t.Fatalf("no archive URL printed:\n%s", out.String())
	}
	// The unsubscribe link of a demo email leads to a working page.
	files, _ := filepath.Glob(filepath.Join("outbox", "*.eml"))
	if len(files) == 0 {
		t.Fatal("no .eml written")
	}
	data, _ := os.ReadFile(files[0])
	i := strings.Index(string(data), base+"/unsubscribe/")
	if i < 0 {
		t.Fatalf("the email has no unsubscribe link to %s", base)
	}
	link := string(data[i:])
	link = link[:strings.IndexAny(link, ">, \r\n")]
	for _, u := range []string{base + "/issues/1", base + "/issues", link} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", u, resp.StatusCode)
		}
	}
	// The staff area, in English, with the printed login: the issue's
	// page shows each edition's coverage.
	var login []string
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) >= 6 && f[0] == "staff" && f[1] == "area" {
			login = []string{strings.Trim(f[3], "("), strings.Trim(f[5], ")")}
		}
	}
	if login == nil {
		t.Fatalf("no staff login printed:\n%s", out.String())
	}
	jar, _ := cookiejar.New(nil)
	staffClient := &http.Client{Jar: jar}
	get := func(u string) string {
		t.Helper()
		resp, err := staffClient.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	form := get(base + "/staff/login")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form)
	if csrf == nil {
		t.Fatalf("no login form:\n%s", form)
	}
	resp, err := staffClient.PostForm(base+"/staff/login", url.Values{"csrf": {csrf[1]}, "email": {login[0]}, "password": {login[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if page := get(base + "/staff/lang?to=en&back=/staff/issues/1"); !strings.Contains(page, "English edition: 6 of 8 stories in English") {
		t.Errorf("the issue's staff page has no coverage line:\n%s", page)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the demo site did not stop")
	}
}
