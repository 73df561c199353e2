package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"text/template"
	"time"

	"github.com/haiphong/hpdigest/app"
	"github.com/haiphong/hpdigest/config"
	"github.com/haiphong/hpdigest/digest"
	"github.com/haiphong/hpdigest/feeds"
	"github.com/haiphong/hpdigest/subscribers"
	"github.com/haiphong/hpdigest/web"
	"github.com/haiphong/hpdigest/web/staff"
)

// The demo's sample feeds, written for the project (not real news): some
// stories in both languages (one story for the daemon, each reader gets
// their language's version), others in one. Dates are template calls
// ("hours ago") so the items always fall inside the digest's window.
//
//go:embed demo/*.rss demo/*.atom
var demoFeeds embed.FS

const (
	demoDB     = "hpdigest-demo.db"
	demoOutbox = "outbox"
)

var demoSubscribers = []subscribers.Subscriber{
	{Email: "lan.nguyen@example.jp", Name: "Nguyễn Thị Lan", Language: "vi"},
	{Email: "minh.tran@example.de", Name: "Minh Tran", Language: "en", Themes: []string{"fdi"}},
	{Email: "hoa.pham@example.com.au", Name: "Phạm Hoa", Language: "vi", Themes: []string{"diaspora", "china"}},
	{Email: "david.le@example.us", Name: "David Le", Language: "en"},
}

// runDemo runs the whole job offline: it serves the sample feeds on
// loopback, fetches them, sorts the items into themes, assembles an issue
// and writes one .eml file per sample subscriber into ./outbox/. The demo
// database is started afresh each run.
//
// With serve, it then keeps serving the web pages on listen (the links in
// the .eml files point there: view in browser, preferences, unsubscribe,
// the archive and the staff area, with a demo staff account) until ctx is
// cancelled.
func runDemo(ctx context.Context, stdout io.Writer, log *slog.Logger, serve bool, listen string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: demoFeedHandler(base), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(demoDB + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	cfg := config.Default()
	var site net.Listener
	if serve {
		// Bound first, so that every link in the demo's emails works.
		if site, err = net.Listen("tcp", listen); err != nil {
			return fmt.Errorf("-listen: %w", err)
		}
		defer site.Close()
		cfg.HTTP.BaseURL = "http://" + site.Addr().String()
	}
	cfg.Database = demoDB
	cfg.OutboxDir = demoOutbox
	cfg.Sender.PostalAddress = "Sở Ngoại vụ Hải Phòng, 18 Hoàng Diệu, Hồng Bàng, Hải Phòng, Việt Nam"
	// The sample feeds are served on loopback, which only feeds marked
	// allow_private may be fetched from.
	cfg.Feeds = []feeds.Source{
		{Name: "Cổng thông tin Hải Phòng (mẫu)", URL: base + "/haiphong-vi.rss", Language: "vi", Timezone: cfg.Timezone, AllowPrivate: true},
		{Name: "World & Vietnam Report (sample)", URL: base + "/wvr-en.atom", Language: "en", Timezone: cfg.Timezone, AllowPrivate: true},
	}
	cfg.Digests = []digest.Digest{{Key: "weekly", Schedule: "0 8 * * FRI"}}
	cfg.Digests[0].Defaults(cfg.Timezone, cfg.ThemeKeys())
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	a, err := app.New(ctx, cfg, app.Options{DryRunDir: demoOutbox, Log: log})
	if err != nil {
		return err
	}
	defer a.Close()
	for _, s := range demoSubscribers {
		s.Status = subscribers.Confirmed
		if _, err := a.Subscribers.Add(ctx, s); err != nil {
			return fmt.Errorf("demo subscriber %s: %w", s.Email, err)
		}
	}
	res, err := a.SendNow(ctx, cfg.Digests[0], true)
	if err != nil {
		return err
	}
	s := res.Summary
	abs := func(p string) string {
		if full, err := filepath.Abs(p); err == nil {
			return full
		}
		return p
	}
	fmt.Fprintf(stdout, "\nHai Phong Digest demo\n")
	fmt.Fprintf(stdout, "  sample feeds served at  %s\n", base)
	fmt.Fprintf(stdout, "  issue #%d: %d stories included\n", res.Issue.Number, len(res.Issue.Included()))
	for _, sec := range res.Issue.Sections(cfg.Digests[0].Themes) {
		n := 0
		for _, it := range sec.Items {
			if it.Included {
				n++
			}
		}
		note := ""
		if left := len(sec.Items) - n; left > 0 {
			note = fmt.Sprintf(" (%d more kept in the draft for staff, not sent)", left)
		}
		fmt.Fprintf(stdout, "    %-9s %d%s\n", sec.Theme, n, note)
	}
	// Each edition's share of stories in its language (the staff area
	// shows the same as a meter).
	for _, ed := range []struct{ lang, name string }{{"vi", "Vietnamese"}, {"en", "English"}} {
		c := digest.CoverageOf(res.Issue, ed.lang, cfg.Digests[0].OtherLanguage)
		rest := ""
		if c.Missing > 0 {
			rest = fmt.Sprintf(" (%d with a language badge)", c.Missing)
		}
		fmt.Fprintf(stdout, "  %s edition: %d of %d stories in %s%s\n", ed.name, c.InLanguage(), c.Stories, ed.name, rest)
	}
	fmt.Fprintf(stdout, "  recipients: %d sent, %d failed, %d skipped\n", s.Sent, s.Failed, s.Skipped)
	fmt.Fprintf(stdout, "  emails (.eml, open them in a mail client): %s\n", abs(demoOutbox))
	fmt.Fprintf(stdout, "  database: %s\n", abs(demoDB))
	if s.Failed > 0 {
		return fmt.Errorf("%d messages failed", s.Failed)
	}
	if !serve {
		fmt.Fprintf(stdout, "  (add -serve to browse the web version, archive, reader pages and staff area)\n")
		return nil
	}
	return serveDemo(ctx, a, site, stdout)
}

// serveDemo serves the site of the demo with a demo staff account.
func serveDemo(ctx context.Context, a *app.App, site net.Listener, stdout io.Writer) error {
	parts, err := siteParts(a)
	if err != nil {
		return err
	}
	staffArea, err := staff.New(ctx, a, a.Cfg().Staff)
	if err != nil {
		return err
	}
	defer staffArea.Wait()
	pw := rand.Text()
	if err := staff.CreateAccount(ctx, a.DB, "editor@localhost", "Biên tập viên (demo)", pw); err != nil {
		return err
	}
	base := a.Cfg().HTTP.BaseURL
	fmt.Fprintf(stdout, "\nServing the demo site until Ctrl-C:\n")
	fmt.Fprintf(stdout, "  issue #1 on the web  %s/issues/1\n", base)
	fmt.Fprintf(stdout, "  archive              %s/issues\n", base)
	fmt.Fprintf(stdout, "  subscribe            %s/subscribe\n", base)
	fmt.Fprintf(stdout, "  staff area           %s/staff/  (editor@localhost / %s)\n", base, pw)
	return web.ServeListener(ctx, site, web.StrictTransport(base, web.Handler(a.DB, a.Log, append(parts, staffArea)...)))
}

// demoFeedHandler serves the embedded sample feeds with dates relative to now.
func demoFeedHandler(base string) http.Handler {
	now := time.Now()
	funcs := template.FuncMap{
		"rfc822":  func(hoursAgo int) string { return now.Add(-time.Duration(hoursAgo) * time.Hour).Format(time.RFC1123Z) },
		"rfc3339": func(hoursAgo int) string { return now.Add(-time.Duration(hoursAgo) * time.Hour).Format(time.RFC3339) },
	}
	tpl := template.Must(template.New("").Funcs(funcs).ParseFS(demoFeeds, "demo/*"))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Base(r.URL.Path)
		var buf bytes.Buffer
		if err := tpl.ExecuteTemplate(&buf, name, map[string]string{"Base": base}); err != nil {
			http.NotFound(w, r)
			return
		}
		if filepath.Ext(name) == ".atom" {
			w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		}
		w.Write(buf.Bytes())
	})
}
