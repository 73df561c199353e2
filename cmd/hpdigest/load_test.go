package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haiphong/hpdigest/store"
	"github.com/haiphong/hpdigest/subscribers"
)

// loadLines is the size of the import the load test runs beside the
// one-clicks: HPDIGEST_LOAD_LINES, else 200,000.
func loadLines(t *testing.T) int {
	if v := os.Getenv("HPDIGEST_LOAD_LINES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			t.Fatalf("HPDIGEST_LOAD_LINES=%q: want a number of at least 1000", v)
		}
		return n
	}
	return 200_000
}

// writeImportFile writes a CSV of n new readers to path, a line at a time.
func writeImportFile(t testing.TB, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("email,name,language,themes\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "doc-gia-%d@example%d.vn,Người đọc %d,%s,fdi;china\n", i, i%100, i, []string{"vi", "en"}[i%2])
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// Readers click the one-click unsubscribe link (RFC 8058) of their mail
// while the operator imports a 200,000-line CSV file with -import beside
// the running daemon: every click is answered 200, only once it is
// committed, and every unsubscribe is kept. The test is bounded (at most
// 40 clicks, one every 250ms, and it stops when the import ends); it prints
// how long the answers took (the figures of the README's "Data safety").
func TestOneClickUnsubscribesDuringLargeImport(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: imports 200,000 lines")
	}
	const readers = 40
	var cfgText string
	_, addr, _, stop := startDaemon(t, func(cfg string) string { cfgText = cfg; return cfg })
	defer stop()
	cfgPath := configPathIn(cfgText)
	dir := filepath.Dir(cfgPath)

	// The readers who will leave, and their links (signed with the
	// daemon's key, kept in its database).
	small := filepath.Join(dir, "readers.csv")
	var b strings.Builder
	for i := 0; i < readers; i++ {
		fmt.Fprintf(&b, "roi-di-%d@example.jp,Độc giả %d,vi,\n", i, i)
	}
	os.WriteFile(small, []byte(b.String()), 0o600)
	if code, _, errOut := cli(t, "-config", cfgPath, "-import", small); code != 0 {
		t.Fatalf("import the readers: %s", errOut)
	}
	db, err := store.Open(filepath.Join(dir, "hp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var secret string
	if err := db.QueryRow(`SELECT value FROM settings WHERE key = 'token_secret'`).Scan(&secret); err != nil {
		t.Fatal(err)
	}
	tokens, err := subscribers.NewTokens([]subscribers.Key{{ID: "k1", Secret: secret}})
	if err != nil {
		t.Fatal(err)
	}
	subs := subscribers.NewStore(db)
	var links []string
	for i := 0; i < readers; i++ {
		s, err := subs.ByEmail(context.Background(), fmt.Sprintf("roi-di-%d@example.jp", i))
		if err != nil {
			t.Fatal(err)
		}
		links = append(links, "http://"+addr+"/unsubscribe/"+tokens.Sign(subscribers.PurposeUnsubscribe, s.ID))
	}

	n := loadLines(t)
	big := filepath.Join(dir, "big.csv")
	writeImportFile(t, big, n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	type outcome struct {
		code       int
		out, err   string
		start, end time.Time
	}
	imported := make(chan outcome, 1)
	go func() {
		var out, errOut strings.Builder
		o := outcome{start: time.Now()}
		o.code = run(ctx, []string{"-config", cfgPath, "-import", big}, &out, &errOut)
		o.out, o.err, o.end = out.String(), errOut.String(), time.Now()
		imported <- o
	}()

	type click struct {
		status int
		took   time.Duration
		err    error
	}
	var mu sync.Mutex
	var clicks []click
	var wg sync.WaitGroup
	var imp outcome
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	time.Sleep(500 * time.Millisecond) // the import is under way
loop:
	for i := 0; ; {
		select {
		case imp = <-imported:
			break loop
		case <-tick.C:
		}
		if i == readers {
			continue
		}
		link := links[i]
		i++
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			resp, err := http.PostForm(link, url.Values{"List-Unsubscribe": {"One-Click"}})
			c := click{took: time.Since(start), err: err}
			if err == nil {
				c.status = resp.StatusCode
				resp.Body.Close()
			}
			mu.Lock()
			clicks = append(clicks, c)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if imp.code != 0 {
		t.Fatalf("import: exit %d\n%s%s", imp.code, imp.out, imp.err)
	}
	if !strings.Contains(imp.out, fmt.Sprintf("%d added", n)) {
		t.Errorf("import report: %s", imp.out)
	}
	if len(clicks) < 5 {
		t.Fatalf("only %d one-clicks ran during the import (%v); too few to tell", len(clicks), imp.end.Sub(imp.start))
	}
	var took []time.Duration
	for _, c := range clicks {
		if c.err != nil || c.status != http.StatusOK {
			t.Errorf("one-click during the import: %d %v after %v", c.status, c.err, c.took)
		}
		took = append(took, c.took)
	}
	slices.Sort(took)
	kept := 0
	for i := 0; i < len(clicks); i++ {
		if s, _ := subs.ByEmail(context.Background(), fmt.Sprintf("roi-di-%d@example.jp", i)); s.Status == subscribers.Unsubscribed {
			kept++
		}
	}
	if kept != len(clicks) {
		t.Errorf("%d of %d unsubscribes answered during the import are kept", kept, len(clicks))
	}
	t.Logf("import of %d lines took %v; %d one-clicks answered during it: median %v, 90th percentile %v, slowest %v",
		n, imp.end.Sub(imp.start).Round(time.Millisecond), len(took), took[len(took)/2].Round(time.Millisecond),
		took[len(took)*9/10].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
}
