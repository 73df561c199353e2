package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// With base_url = https://digest.example.org/ban-tin (the office's site
// proxies /ban-tin/ to the daemon), every page lives under /ban-tin: the
// links in the mail ("view in browser", List-Archive, List-Unsubscribe)
// work, the staff area works, and nothing answers outside the path. HSTS
// comes with an https base URL.
func TestSiteUnderBaseURLPath(t *testing.T) {
	const base = "https://digest.example.org/ban-tin"
	t.Setenv("HPDIGEST_STAFF_PASSWORD", "correct horse battery")
	var cfgText string
	smtp, addr, _, stop := startDaemon(t, func(cfg string) string {
		cfg = strings.Replace(cfg, `base_url = "https://digest.example.org"`, `base_url = "`+base+`/"`, 1)
		cfgText = strings.Replace(cfg, `schedule = "0 8 * * FRI"`, `schedule = "@every 2s"`, 1)
		return cfgText
	})
	defer stop()
	waitFor(t, "the scheduled send", func() bool { return len(smtp.For("lan@example.jp")) == 1 })
	msg, err := smtp.For("lan@example.jp")[0].Parsed()
	if err != nil {
		t.Fatal(err)
	}
	local := func(link string) string {
		t.Helper()
		if !strings.HasPrefix(link, base+"/") {
			t.Fatalf("link %s is not under %s", link, base)
		}
		return "http://" + addr + strings.TrimPrefix(link, "https://digest.example.org")
	}
	archive := strings.Trim(msg.Header.Get("List-Archive"), "<>")
	unsub := strings.Trim(strings.Split(msg.Header.Get("List-Unsubscribe"), ",")[0], "<> ")
	text, _ := parts(t, msg)
	view := regexp.MustCompile(`https://\S+/issues/\d+`).FindString(text)
	if view == "" {
		t.Fatalf("no view-in-browser link in the text part:\n%s", text)
	}
	get := func(c *http.Client, u string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, link := range []string{view, archive, unsub, base + "/subscribe", base + "/issues/feed.atom"} {
		resp, _ := get(plain, local(link))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", link, resp.StatusCode)
		}
		if resp.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("GET %s: no HSTS with an https base URL", link)
		}
	}
	for _, path := range []string{"/issues/1", "/issues", "/subscribe", "/staff/login"} {
		if resp, _ := get(plain, "http://"+addr+path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s outside the base path: %d, want 404", path, resp.StatusCode)
		}
	}

	// The staff area: the login redirect, the form, the cookie and every
	// link stay under the path.
	resp, _ := get(plain, "http://"+addr+"/ban-tin/staff/")
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/ban-tin/staff/login") {
		t.Fatalf("staff area without a session: redirect to %q", loc)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	if code, _, errOut := cli(t, "-config", configPathIn(cfgText), "-create-staff", "lan@haiphong.example.org"); code != 0 {
		t.Fatalf("create-staff: %s", errOut)
	}
	_, page := get(browser, "http://"+addr+"/ban-tin/staff/login")
	if !strings.Contains(page, `action="/ban-tin/staff/login"`) || !strings.Contains(page, `href="/ban-tin/staff/static/staff.css"`) {
		t.Fatalf("login page links are not under the path:\n%s", page)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	resp, err = browser.PostForm("http://"+addr+"/ban-tin/staff/login", url.Values{"csrf": {csrf[1]}, "email": {"lan@haiphong.example.org"}, "password": {"correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `href="/ban-tin/staff/history"`) || strings.Contains(string(body), `href="/staff/`) {
		t.Fatalf("after logging in: %d, links not all under /ban-tin:\n%s", resp.StatusCode, body)
	}
	resp, page = get(browser, "http://"+addr+"/ban-tin/staff/history")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `href="/ban-tin/issues/1"`) {
		t.Errorf("history: %d, the web version link is not under the path", resp.StatusCode)
	}
	if resp, _ := get(browser, "http://"+addr+"/ban-tin/staff/static/staff.css"); resp.StatusCode != http.StatusOK {
		t.Errorf("stylesheet: %d", resp.StatusCode)
	}
}
